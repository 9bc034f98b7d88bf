"""The bank-statement rules without broker or database: reading camt files (versions,
batches, refusals) and what a credit does to a payment."""

from decimal import Decimal

import pytest

from oms_common.payment_references import creditor_reference, qr_reference
from oms_common.problems import ValidationFailed
from payments.bank_statements import matching, parse

from . import camt

LIMIT = 1024 * 1024


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("kind", ["053", "054"])
@pytest.mark.parametrize("version", [4, 5, 6, 7, 8])
def test_every_supported_version_reads_credits_references_texts_and_debtors(kind, version):
    qrr = qr_reference("500001")
    data = camt.document(
        [
            camt.credit("120.00", reference=qrr, acct_ref="A1", debtor="Anna Muster"),
            camt.credit("5.50", currency="EUR", text="Rechnung R-77 danke", acct_ref="A2"),
            camt.credit("10.00", credit=False, acct_ref="A3"),
        ],
        kind=kind,
        version=version,
        message_id="M-1",
    )
    statement = parse.read_statement(data, LIMIT)
    assert statement.document == f"camt.{kind}.001.0{version}" and statement.message_id == "M-1"
    first, second, third = statement.transactions
    assert (
        first.amount,
        first.currency,
        first.structured_reference,
        first.debtor_name,
        first.credit,
        first.booked,
        first.reversal,
    ) == (Decimal("120.00"), "CHF", qrr, "Anna Muster", True, True, False)
    assert first.key == f"{camt.IBAN}:A1" and first.entry_reference == "A1"
    assert (second.currency, second.remittance_text, second.structured_reference) == (
        "EUR",
        "Rechnung R-77 danke",
        None,
    )
    assert not third.credit


@pytest.mark.parametrize("version", [4, 8])
def test_a_batch_booking_is_split_into_its_transactions(version):
    data = camt.document(
        [
            camt.credit(
                "30.00",
                acct_ref="B1",
                details=[
                    camt.tx("10.00", reference=qr_reference("1")),
                    camt.tx("20.00", text="order 2", acct_ref="T2"),
                ],
            )
        ],
        version=version,
    )
    one, two = parse.read_statement(data, LIMIT).transactions
    assert (one.amount, one.key, two.amount, two.key) == (
        Decimal("10.00"),
        f"{camt.IBAN}:B1/1",
        Decimal("20.00"),
        f"{camt.IBAN}:B1/T2",
    )


def test_an_entry_without_servicer_reference_is_keyed_by_its_content():
    entry = camt.credit("10.00", acct_ref="", text="order 9")
    first = parse.read_statement(camt.document([entry], message_id="X1"), LIMIT).transactions[0]
    again = parse.read_statement(camt.document([entry], message_id="X2"), LIMIT).transactions[0]
    other = parse.read_statement(
        camt.document([camt.credit("10.01", acct_ref="", text="order 9")]), LIMIT
    ).transactions[0]
    assert first.key.startswith(f"{camt.IBAN}:sha256:") and first.key == again.key != other.key


def _refused(data, limit=LIMIT):
    with pytest.raises(ValidationFailed) as refused:
        parse.read_statement(data, limit)
    return refused.value


def test_bad_files_are_refused_naming_the_place():
    wrong_sum = camt.document([camt.credit("31.00", details=[camt.tx("10.00"), camt.tx("20.00")])])
    assert "Ntfctn[1]/Ntry[1]/NtryDtls" in _refused(wrong_sum).errors
    bad_amount = camt.document([camt.credit("12,50")])
    assert "Ntfctn[1]/Ntry[1]/Amt" in _refused(bad_amount).errors
    bad_currency = camt.document([camt.credit("12.50", currency="chf")])
    assert "Ntfctn[1]/Ntry[1]/Amt" in _refused(bad_currency).errors
    batch_count = camt.document([camt.credit("30.00", details=[camt.tx("10.00"), camt.tx("20.00")])]).replace(
        b"<NbOfTxs>2</NbOfTxs>", b"<NbOfTxs>3</NbOfTxs>"
    )
    assert "Ntfctn[1]/Ntry[1]/NtryDtls/Btch/NbOfTxs" in _refused(batch_count).errors
    old = camt.document([camt.credit("1.00")], version=8).replace(b"camt.054.001.08", b"camt.054.001.02")
    assert "document" in _refused(old).errors
    pain = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>'
    assert "document" in _refused(pain).errors
    assert "document" in _refused(b"<Document").errors


def test_xxe_entity_bombs_and_oversize_files_are_refused_before_parsing():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">&x;</Document>'
    )
    assert "DTD" in _refused(xxe).errors["document"][0]
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">&b;</Document>'
    )
    assert "DTD" in _refused(bomb).errors["document"][0]
    utf16 = xxe.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    assert "DTD" in _refused(utf16).errors["document"][0]
    big = camt.document([camt.credit("1.00", text="x" * 140) for _ in range(50)])
    assert "limit" in _refused(big, limit=len(big) - 1).errors["document"][0]


# ---------------------------------------------------------------- what a credit does


def facts(status="unpaid", amount="100.00", received="0", currency="CHF", provider="manual", order_status="new"):
    return matching.PaymentFacts(provider, status, currency, Decimal(amount), Decimal(received), order_status)


def test_exact_less_and_more_give_paid_partial_and_overpaid():
    exact = matching.credit_effect(facts(), Decimal("100.00"), "CHF")
    assert (exact.outcome, exact.status, exact.received) == ("matched", "paid", Decimal("100.00"))
    less = matching.credit_effect(facts(), Decimal("40.00"), "CHF")
    assert (less.outcome, less.status, less.open_amount) == ("partial", "partially_paid", Decimal("60.00"))
    rest = matching.credit_effect(facts("partially_paid", received="40.00"), Decimal("60.00"), "CHF")
    assert (rest.outcome, rest.status) == ("matched", "paid")
    more = matching.credit_effect(facts("announced"), Decimal("120.00"), "CHF")
    assert (more.outcome, more.status, more.overpaid_amount) == ("overpaid", "paid", Decimal("20.00"))
    twice = matching.credit_effect(facts("paid", received="100.00"), Decimal("100.00"), "CHF")
    assert (twice.outcome, twice.overpaid_amount) == ("overpaid", Decimal("100.00"))


def test_credits_that_cannot_be_applied_stay_unmatched_with_the_reason():
    assert "EUR" in matching.credit_effect(facts(), Decimal("100.00"), "EUR").reason
    assert matching.credit_effect(facts(), Decimal("100.00"), "EUR").outcome == "unmatched"
    cancelled = matching.credit_effect(facts("voided", order_status="cancelled"), Decimal("100.00"), "CHF")
    assert (cancelled.outcome, cancelled.status) == ("unmatched", None) and "cancelled" in cancelled.reason
    card = matching.credit_effect(facts("pending", provider="stripe"), Decimal("100.00"), "CHF")
    assert card.outcome == "unmatched" and "stripe" in card.reason


def test_a_reversal_takes_back_what_came_in():
    back = matching.reversal_effect(facts("paid", received="100.00"), Decimal("100.00"))
    assert (back.status, back.received, back.open_amount) == ("unpaid", Decimal("0.00"), Decimal("100.00"))
    part = matching.reversal_effect(facts("paid", received="120.00"), Decimal("50.00"))
    assert (part.status, part.received) == ("partially_paid", Decimal("70.00"))
    excess = matching.reversal_effect(facts("paid", received="150.00"), Decimal("30.00"))
    assert (excess.status, excess.overpaid_amount) == ("paid", Decimal("20.00"))


def test_remittance_text_tokens_are_the_words_with_digits():
    assert matching.text_tokens("Rechnung R-2026-0042, Bestellung 100042 vielen Dank") == ["R-2026-0042", "100042"]
    assert matching.text_tokens(None) == [] and matching.text_tokens("danke") == []
    assert matching.reference_kind(qr_reference("5")) == "qr_reference"
    assert matching.reference_kind(creditor_reference("5")) == "creditor_reference"
    assert matching.reference_kind("12345") is None


def test_dunning_fees_are_owed_with_the_amount():
    dunned = matching.PaymentFacts(
        "manual", "unpaid", "CHF", Decimal("100.00"), Decimal("0"), "dunning_2", Decimal("10.50")
    )
    exact = matching.credit_effect(dunned, Decimal("110.50"), "CHF")
    assert (exact.outcome, exact.status, exact.overpaid_amount) == ("matched", "paid", Decimal("0"))
    amount_only = matching.credit_effect(dunned, Decimal("100.00"), "CHF")
    assert (amount_only.outcome, amount_only.status, amount_only.open_amount) == (
        "partial",
        "partially_paid",
        Decimal("10.50"),
    )
    more = matching.credit_effect(dunned, Decimal("111.00"), "CHF")
    assert (more.outcome, more.overpaid_amount) == ("overpaid", Decimal("0.50"))
    paid = matching.PaymentFacts("manual", "paid", "CHF", Decimal("100.00"), Decimal("110.50"), "new", Decimal("10.50"))
    back = matching.reversal_effect(paid, Decimal("10.50"))
    assert (back.status, back.open_amount) == ("partially_paid", Decimal("10.50"))
