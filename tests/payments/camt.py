"""camt.053 / camt.054 files of our own making, in the shapes banks deliver (.001.04 – .001.08)."""

import itertools
from xml.sax.saxutils import escape, quoteattr

IBAN = "CH4431999123000889012"
_numbers = itertools.count(1)


def credit(
    amount,
    currency="CHF",
    reference=None,
    text=None,
    acct_ref=None,
    debtor="Anna Muster",
    reversal=False,
    credit=True,
    status="BOOK",
    details=None,
    reference_type=None,
):
    """One entry; ``details``: a list of transaction dicts (``tx``) for a batch booking."""
    return {
        "amount": amount,
        "currency": currency,
        "reference": reference,
        "text": text,
        "acct_ref": acct_ref if acct_ref is not None else f"ASR-{next(_numbers):08d}",
        "debtor": debtor,
        "reversal": reversal,
        "credit": credit,
        "status": status,
        "details": details,
        "reference_type": reference_type,
    }


def tx(amount, currency="CHF", reference=None, text=None, debtor="Beat Beispiel", acct_ref=None):
    return {
        "amount": amount,
        "currency": currency,
        "reference": reference,
        "text": text,
        "debtor": debtor,
        "acct_ref": acct_ref,
    }


def _remittance(item):
    parts = []
    if item.get("text"):
        parts.append(f"<Ustrd>{escape(item['text'])}</Ustrd>")
    if item.get("reference"):
        kind = item.get("reference_type") or ("SCOR" if item["reference"].startswith("RF") else "QRR")
        tp = (
            "<Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
            if kind == "SCOR"
            else "<Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>"
        )
        parts.append(f"<Strd><CdtrRefInf>{tp}<Ref>{escape(item['reference'])}</Ref></CdtrRefInf></Strd>")
    return f"<RmtInf>{''.join(parts)}</RmtInf>" if parts else ""


def _debtor(name, version):
    if not name:
        return ""
    inner = f"<Pty><Nm>{escape(name)}</Nm></Pty>" if version >= 8 else f"<Nm>{escape(name)}</Nm>"
    return f"<RltdPties><Dbtr>{inner}</Dbtr></RltdPties>"


def _amount_of_detail(item, version):
    amount = f"<Amt Ccy={quoteattr(item['currency'])}>{item['amount']}</Amt>"
    return f"<AmtDtls><TxAmt>{amount}</TxAmt></AmtDtls>" if version == 4 else amount


def _details(entry, version):
    items = entry["details"] or [dict(entry, acct_ref=None)]
    batch = f"<Btch><NbOfTxs>{len(items)}</NbOfTxs></Btch>" if entry["details"] else ""
    body = []
    for item in items:
        refs = f"<AcctSvcrRef>{item['acct_ref']}</AcctSvcrRef>" if item.get("acct_ref") else ""
        amount = _amount_of_detail(item, version) if entry["details"] else ""
        body.append(
            f"<TxDtls><Refs>{refs}<EndToEndId>NOTPROVIDED</EndToEndId></Refs>{amount}"
            f"<CdtDbtInd>{'CRDT' if entry['credit'] else 'DBIT'}</CdtDbtInd>"
            f"{_debtor(item.get('debtor'), version)}{_remittance(item)}</TxDtls>"
        )
    return f"<NtryDtls>{batch}{''.join(body)}</NtryDtls>"


def _entry(entry, version):
    status = f"<Sts><Cd>{entry['status']}</Cd></Sts>" if version >= 7 else f"<Sts>{entry['status']}</Sts>"
    acct = f"<AcctSvcrRef>{entry['acct_ref']}</AcctSvcrRef>" if entry["acct_ref"] else ""
    return (
        f"<Ntry><Amt Ccy={quoteattr(entry['currency'])}>{entry['amount']}</Amt>"
        f"<CdtDbtInd>{'CRDT' if entry['credit'] else 'DBIT'}</CdtDbtInd>"
        f"<RvslInd>{'true' if entry['reversal'] else 'false'}</RvslInd>{status}"
        f"<BookgDt><Dt>2026-11-30</Dt></BookgDt><ValDt><Dt>2026-11-30</Dt></ValDt>{acct}"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>VCOM</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"{_details(entry, version)}</Ntry>"
    )


def document(entries, kind="054", version=8, message_id=None, iban=IBAN):
    """The camt file (bytes) with these entries (``credit(...)``)."""
    message, container = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}[kind]
    message_id = message_id or f"MSG-{next(_numbers):08d}"
    balance = (
        (
            '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">0.00</Amt>'
            "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>"
        )
        if kind == "053"
        else ""
    )
    body = "".join(_entry(entry, version) for entry in entries)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.{kind}.001.{version:02d}">'
        f"<{message}><GrpHdr><MsgId>{escape(message_id)}</MsgId><CreDtTm>2026-11-30T18:00:00</CreDtTm></GrpHdr>"
        f"<{container}><Id>{escape(message_id)}-1</Id><CreDtTm>2026-11-30T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id></Acct>{balance}{body}</{container}></{message}></Document>"
    ).encode("utf-8")
