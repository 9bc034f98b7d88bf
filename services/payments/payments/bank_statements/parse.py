"""Reading ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification) files.

Versions ``.001.04`` to ``.001.08``, the ones Swiss and German banks deliver. The file is
parsed with the defused parser of ``oms_common.safe_xml`` and checked completely before the
caller writes anything: every problem is collected and the file refused as a whole (422)
with the place (``Ntfctn[1]/Ntry[3]/Amt``) and what is wrong there.

What comes out is one ``Transaction`` per booked transaction: an entry with several
transaction details (a batch booking, ``NtryDtls/Btch/NbOfTxs``) gives one per ``TxDtls``.
Each carries the key that makes it count once: the entry's account servicer reference
(with the detail's own one, or its position, for a batch), prefixed by the account; where a
bank gives no reference, a SHA-256 of the entry's canonical XML. A camt.054 and the camt.053
that later books the same entry share its reference, so importing both counts it once.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from oms_common.problems import ValidationFailed
from oms_common.safe_xml import parse_untrusted

NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.(053|054)\.001\.(0[4-8])$")
CONTAINERS = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
SUPPORTED = "camt.053 and camt.054, versions .001.04 to .001.08"
MAX_REPORTED = 200
MAX_KEY = 200
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,3})?$")


@dataclass(frozen=True)
class Transaction:
    key: str  # what makes it count once (unique across imports)
    entry_reference: str  # what staff and the audit see
    booking_date: date | None
    credit: bool  # CdtDbtInd CRDT
    reversal: bool  # RvslInd true
    booked: bool  # Sts BOOK (pending or informational entries change nothing)
    amount: Decimal
    currency: str
    structured_reference: str | None  # RmtInf/Strd/CdtrRefInf/Ref (QRR or SCOR)
    remittance_text: str | None  # RmtInf/Ustrd, joined
    debtor_name: str | None


@dataclass(frozen=True)
class Statement:
    document: str  # camt.054.001.08
    message_id: str | None
    transactions: tuple


class _Checker:
    """Collects problems by place; the file is refused once at the end if any was found."""

    def __init__(self):
        self.errors = {}

    def add(self, place, message):
        if len(self.errors) < MAX_REPORTED:
            self.errors.setdefault(place, []).append(message)

    def refuse_if_any(self):
        if self.errors:
            first = next(iter(self.errors.items()))
            raise ValidationFailed(f"The bank statement was refused: {first[0]}: {first[1][0]}", self.errors)


def read_statement(data, max_bytes):
    """The statement in ``data`` (bytes), or ValidationFailed naming every problem found."""
    root = parse_untrusted(data, max_bytes)
    match = NAMESPACE.match(etree.QName(root).namespace or "")
    if etree.QName(root).localname != "Document" or not match:
        raise ValidationFailed(
            f"Not a bank statement this service reads ({SUPPORTED}).",
            {
                "document": [
                    f"Root element {root.tag!r}; expected a Document in the namespace "
                    f"urn:iso:std:iso:20022:tech:xsd:camt.05x.001.0N ({SUPPORTED})."
                ]
            },
        )
    kind, version = match.groups()
    ns = {"c": match.group(0)}
    message, container = CONTAINERS[kind]
    body = root.find(f"c:{message}", ns)
    check = _Checker()
    if body is None:
        check.add("Document", f"Missing {message} (a camt.{kind} file carries one).")
        check.refuse_if_any()
    message_id = _text(body, "c:GrpHdr/c:MsgId", ns)
    if not message_id:
        check.add(f"{message}/GrpHdr/MsgId", "Missing.")
    transactions = []
    reports = body.findall(f"c:{container}", ns)
    if not reports:
        check.add(message, f"No {container} element.")
    for report_index, report in enumerate(reports, 1):
        account = _text(report, "c:Acct/c:Id/c:IBAN", ns) or _text(report, "c:Acct/c:Id/c:Othr/c:Id", ns) or ""
        for entry_index, entry in enumerate(report.findall("c:Ntry", ns), 1):
            place = f"{container}[{report_index}]/Ntry[{entry_index}]"
            transactions.extend(_entry(entry, place, account.replace(" ", ""), ns, check))
    check.refuse_if_any()
    return Statement(document=f"camt.{kind}.001.{version}", message_id=message_id, transactions=tuple(transactions))


def _text(element, path, ns):
    found = element.find(path, ns) if element is not None else None
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _amount(element, place, check):
    """(amount, currency) of an ``Amt``-like element, or (None, None) with the problem noted."""
    if element is None:
        check.add(place, "Missing amount.")
        return None, None
    currency = element.get("Ccy") or ""
    if not _CURRENCY.match(currency):
        check.add(place, f"Currency {currency!r} is not an ISO 4217 code (Ccy).")
    raw = (element.text or "").strip()
    if not _AMOUNT.match(raw):
        check.add(place, f"Amount {raw[:40]!r} is not a positive decimal with at most three decimals.")
        return None, currency
    try:
        amount = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        check.add(place, f"Amount {raw[:40]!r} is not a number.")
        return None, currency
    if amount <= 0:
        check.add(place, "The amount must be greater than zero.")
    return amount, currency


def _booking_date(entry, place, ns, check):
    raw = _text(entry, "c:BookgDt/c:Dt", ns) or (_text(entry, "c:BookgDt/c:DtTm", ns) or "")[:10] or None
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        check.add(f"{place}/BookgDt", f"{raw[:40]!r} is not a date (YYYY-MM-DD).")
        return None


def _entry(entry, place, account, ns, check):
    indicator = _text(entry, "c:CdtDbtInd", ns)
    if indicator not in ("CRDT", "DBIT"):
        check.add(f"{place}/CdtDbtInd", f"{indicator!r}: expected CRDT or DBIT.")
    reversal_text = (_text(entry, "c:RvslInd", ns) or "false").lower()
    if reversal_text not in ("true", "false", "1", "0"):
        check.add(f"{place}/RvslInd", f"{reversal_text[:20]!r}: expected true or false.")
    status = _text(entry, "c:Sts/c:Cd", ns) or _text(entry, "c:Sts", ns)
    if status is None:
        check.add(f"{place}/Sts", "Missing entry status (BOOK, PDNG, INFO).")
    amount, currency = _amount(entry.find("c:Amt", ns), f"{place}/Amt", check)
    booked_on = _booking_date(entry, place, ns, check)
    servicer_reference = _text(entry, "c:AcctSvcrRef", ns)
    details = entry.findall("c:NtryDtls/c:TxDtls", ns)
    declared = _text(entry, "c:NtryDtls/c:Btch/c:NbOfTxs", ns)
    if declared is not None and (not declared.isdigit() or int(declared) != len(details)):
        check.add(
            f"{place}/NtryDtls/Btch/NbOfTxs",
            f"Says {declared[:20]!r} transactions; the entry has {len(details)} TxDtls.",
        )
    base = servicer_reference or "sha256:" + hashlib.sha256(etree.tostring(entry, method="c14n")).hexdigest()
    common = {
        "booking_date": booked_on,
        "credit": indicator == "CRDT",
        "reversal": reversal_text in ("true", "1"),
        "booked": status == "BOOK",
    }
    if not details:
        return [_transaction(f"{account}:{base}", base, entry, amount, currency, ns, common)]
    parts, total = [], Decimal(0)
    for index, detail in enumerate(details, 1):
        detail_place = f"{place}/NtryDtls/TxDtls[{index}]"
        found = detail.find("c:Amt", ns) if len(details) > 1 else None
        if found is None and len(details) > 1:
            found = detail.find("c:AmtDtls/c:TxAmt/c:Amt", ns)
            if found is None:
                found = detail.find("c:AmtDtls/c:InstdAmt/c:Amt", ns)
        detail_amount, detail_currency = (
            (amount, currency) if len(details) == 1 else _amount(found, f"{detail_place}/Amt", check)
        )
        if detail_currency and currency and detail_currency != currency:
            check.add(f"{detail_place}/Amt", f"Currency {detail_currency} differs from the entry's {currency}.")
        total += detail_amount or 0
        own = _text(detail, "c:Refs/c:AcctSvcrRef", ns)
        reference = base if len(details) == 1 else f"{base}/{own or index}"
        parts.append(_transaction(f"{account}:{reference}", reference, detail, detail_amount, currency, ns, common))
    if len(details) > 1 and amount is not None and total != amount:
        check.add(f"{place}/NtryDtls", f"The transactions add up to {total}, the entry says {amount}.")
    return parts


def _transaction(key, reference, element, amount, currency, ns, common):
    if len(key) > MAX_KEY:  # keep the key's identity, not its length
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    texts = [t.text.strip() for t in element.findall(".//c:RmtInf/c:Ustrd", ns) if t.text and t.text.strip()]
    structured = None
    for ref in element.findall(".//c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns):
        if ref.text and ref.text.strip():
            structured = ref.text.strip()[:40]
            break
    debtor = (
        _text(element, ".//c:RltdPties/c:Dbtr/c:Nm", ns)  # .04 – .07
        or _text(element, ".//c:RltdPties/c:Dbtr/c:Pty/c:Nm", ns)
    )  # .08
    return Transaction(
        key=key,
        entry_reference=reference[:MAX_KEY],
        amount=amount,
        currency=currency,
        structured_reference=structured,
        remittance_text=" ".join(texts)[:1000] or None,
        debtor_name=(debtor or "")[:140] or None,
        **common,
    )
