"""Bank statements through the payments service's RPCs, against real RabbitMQ and PostgreSQL:
each camt file of our own making with its effect on the payment, once."""

import base64
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from oms_common.payment_references import creditor_reference, qr_reference
from oms_common.problems import Conflict, NotFound, ValidationFailed
from payments.models import BankStatementEntry, BankStatementImport

from . import camt
from .conftest import order_event, wait_for
from .test_bank_statements_references import invoice_order  # noqa: F401 - a fixture

ACCOUNTANT = {"name": "bea", "kind": "user", "role": "accountant", "origin": "gateway 10.0.0.8"}


@pytest.fixture
def send(rpc):
    def upload(data):
        return rpc.payments.import_bank_statement(base64.b64encode(data).decode(), ACCOUNTANT)

    return upload


def written(probe):
    with probe.source.read_session() as session:
        return (
            session.scalar(select(func.count()).select_from(BankStatementImport)),
            session.scalar(select(func.count()).select_from(BankStatementEntry)),
        )


def entry(probe, entry_reference):
    with probe.source.read_session() as session:
        return session.execute(
            select(BankStatementEntry).where(BankStatementEntry.entry_reference == entry_reference)
        ).scalar_one()


def test_an_exact_credit_pays_once_even_when_the_file_comes_twice(invoice_order, probe, send, rpc, settle):
    reference = invoice_order("120.00")
    data = camt.document(
        [camt.credit("120.00", reference=qr_reference(reference), acct_ref=f"E-{reference}")], kind="054", version=8
    )
    first = send(data)
    assert first["counts"]["matched"] == 1 and first["changed"] is True
    assert first["entries"] == [
        {
            "entry_reference": f"E-{reference}",
            "outcome": "matched",
            "amount": "120.00",
            "currency": "CHF",
            "order_reference": reference,
            "reason": None,
        }
    ]
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount) == ("paid", Decimal("120.000"))
    audit = probe.audit(reference, "bank_credit")
    assert [(a.origin, a.actor, a.from_status, a.to_status) for a in audit] == [
        ("bank statement", "bea", "unpaid", "paid")
    ]
    assert audit[0].details["entry_reference"] == f"E-{reference}"
    before = written(probe)

    again = send(data)
    assert again["changed"] is False and again["counts"]["duplicates"] == 1 and again["counts"]["matched"] == 0
    assert again["entries"][0]["outcome"] == "duplicate"
    settle(reference)
    assert [e["status"] for e in probe.events(reference)] == ["paid"]
    assert len(probe.audit(reference, "bank_credit")) == 1
    assert written(probe) == (before[0] + 1, before[1])  # the second report only
    assert rpc.payments.get_bank_statement_import(again["id"]) == again
    with pytest.raises(NotFound):
        rpc.payments.get_bank_statement_import(10**12)


def test_a_batch_in_a_camt_053_is_split_by_creditor_reference_and_remittance_text(invoice_order, probe, send):
    by_scor, by_text = invoice_order("30.00"), invoice_order("45.50")
    data = camt.document(
        [
            camt.credit(
                "75.50",
                acct_ref=f"B-{by_scor}",
                details=[
                    camt.tx("30.00", reference=creditor_reference(by_scor)),
                    camt.tx("45.50", text=f"Bestellung {by_text} vielen Dank"),
                ],
            )
        ],
        kind="053",
        version=4,
    )
    report = send(data)
    assert report["document"] == "camt.053.001.04" and report["counts"]["matched"] == 2
    assert probe.status(by_scor) == "paid" and probe.status(by_text) == "paid"
    assert [e["entry_reference"] for e in report["entries"]] == [f"B-{by_scor}/1", f"B-{by_scor}/2"]


def test_less_is_partially_paid_with_the_open_amount_and_the_rest_pays(invoice_order, probe, send, rpc):
    reference = invoice_order("100.00")
    first = send(camt.document([camt.credit("40.00", reference=qr_reference(reference))], version=5))
    assert first["counts"]["partial"] == 1 and "60.00 is still open" in first["entries"][0]["reason"]
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount) == ("partially_paid", Decimal("40.000"))
    assert probe.audit(reference, "bank_credit")[0].details["open_amount"] == "60.00"
    partial = rpc.payments.list_bank_entries({"outcome": "partial"})["items"]
    assert any(item["order_reference"] == reference for item in partial)
    rest = send(camt.document([camt.credit("60.00", reference=qr_reference(reference))], version=6))
    assert rest["counts"]["matched"] == 1 and probe.status(reference) == "paid"
    assert [e["status"] for e in probe.events(reference)] == ["partially_paid", "paid"]


def test_more_is_paid_and_flagged_as_overpaid(invoice_order, probe, send, rpc):
    reference = invoice_order("50.00")
    report = send(camt.document([camt.credit("80.00", reference=creditor_reference(reference))], version=7))
    assert report["counts"]["overpaid"] == 1
    payment = probe.payment(reference)
    assert (payment.status, payment.overpaid_amount) == ("paid", Decimal("30.000"))
    shown = rpc.payments.get_payment(reference)
    assert (shown["overpaid_amount"], shown["captured_amount"], shown["qr_reference"]) == (
        "30.00",
        "80.00",
        qr_reference(reference),
    )
    flagged = rpc.payments.list_bank_entries({"outcome": "overpaid"})["items"]
    assert [item["amount"] for item in flagged if item["order_reference"] == reference] == ["80.00"]


def test_foreign_currency_and_unknown_references_wait_unmatched_and_staff_assign_them(invoice_order, probe, send, rpc):
    reference = invoice_order("25.00")
    report = send(
        camt.document(
            [
                camt.credit("25.00", currency="EUR", reference=qr_reference(reference), acct_ref=f"FX-{reference}"),
                camt.credit("25.00", reference=qr_reference("123456789012345"), acct_ref=f"UK-{reference}"),
                camt.credit("25.00", text="thanks for the teapot", acct_ref=f"TX-{reference}"),
            ],
            version=8,
        )
    )
    assert report["counts"]["unmatched"] == 3 and probe.status(reference) == "unpaid"
    reasons = [e["reason"] for e in report["entries"]]
    assert "EUR" in reasons[0] and "No order has the reference" in reasons[1] and "remittance text" in reasons[2]
    listed = {item["entry_reference"]: item for item in rpc.payments.list_bank_entries()["items"]}
    assert {f"FX-{reference}", f"UK-{reference}", f"TX-{reference}"} <= set(listed)

    foreign = listed[f"FX-{reference}"]["id"]
    with pytest.raises(Conflict) as refused:
        rpc.payments.assign_bank_entry(foreign, {"order_reference": reference}, ACCOUNTANT)
    assert "order_reference" in refused.value.errors and probe.status(reference) == "unpaid"
    with pytest.raises(ValidationFailed) as unknown:
        rpc.payments.assign_bank_entry(listed[f"UK-{reference}"]["id"], {"order_reference": "nope"}, ACCOUNTANT)
    assert "order_reference" in unknown.value.errors

    result = rpc.payments.assign_bank_entry(
        listed[f"UK-{reference}"]["id"], {"order_reference": reference, "note": "phoned the customer"}, ACCOUNTANT
    )
    assert result["entry"]["outcome"] == "matched" and result["payment"]["status"] == "paid"
    assigned = probe.audit(reference, "bank_credit_assigned")
    assert [(a.origin, a.actor, a.to_status) for a in assigned] == [("bank statement", "bea", "paid")]
    assert f"UK-{reference}" not in {i["entry_reference"] for i in rpc.payments.list_bank_entries()["items"]}
    with pytest.raises(Conflict):
        rpc.payments.assign_bank_entry(listed[f"UK-{reference}"]["id"], {"order_reference": reference}, ACCOUNTANT)
    assert [e["status"] for e in probe.events(reference)] == ["paid"]


def test_a_reversal_undoes_its_credit(invoice_order, probe, send):
    reference = invoice_order("70.00")
    send(camt.document([camt.credit("70.00", reference=qr_reference(reference), acct_ref=f"C-{reference}")]))
    assert probe.status(reference) == "paid"
    report = send(
        camt.document(
            [
                camt.credit(
                    "70.00", reference=qr_reference(reference), credit=False, reversal=True, acct_ref=f"R-{reference}"
                )
            ],
            kind="053",
            version=8,
        )
    )
    assert report["counts"]["reversals"] == 1
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount) == ("unpaid", Decimal("0.000"))
    assert entry(probe, f"C-{reference}").outcome == "reversed"
    assert entry(probe, f"R-{reference}").reverses_id == entry(probe, f"C-{reference}").id
    assert [a.origin for a in probe.audit(reference, "bank_reversal")] == ["bank statement"]
    assert [e["status"] for e in probe.events(reference)] == ["paid", "unpaid"]


def test_a_credit_for_a_cancelled_order_is_not_booked(invoice_order, probe, send, dispatch):
    reference = invoice_order("90.00")
    cancelled = order_event(reference, "invoice", "90.00", status="cancelled")
    dispatch("order_cancelled", cancelled)
    wait_for(lambda: probe.status(reference) == "voided", message="payment closed on cancel")
    report = send(camt.document([camt.credit("90.00", reference=qr_reference(reference))]))
    assert report["counts"]["unmatched"] == 1 and "cancelled" in report["entries"][0]["reason"]
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount) == ("voided", Decimal("0.000"))


def test_refused_files_write_nothing(invoice_order, probe, send):
    reference = invoice_order("10.00")
    good = camt.credit("10.00", reference=qr_reference(reference))
    before = written(probe)
    bad_second_entry = camt.document([good, camt.credit("ten")])
    with pytest.raises(ValidationFailed) as refused:
        send(bad_second_entry)
    assert "Ntfctn[1]/Ntry[2]/Amt" in refused.value.errors
    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + camt.document([good]).split(
        b"?>", 1
    )[1].replace(b"<MsgId>", b"<MsgId>&x;")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        + camt.document([good]).split(b"?>", 1)[1].replace(b"<MsgId>", b"<MsgId>&c;")
    )
    for data in (xxe, bomb, b"x" * (20 * 1024 * 1024 + 1)):
        with pytest.raises(ValidationFailed) as refused:
            send(data)
        assert "document" in refused.value.errors
    with pytest.raises(ValidationFailed):
        __import__("payments.service", fromlist=["_decoded"])._decoded("not base64!")
    assert (
        written(probe) == before and probe.status(reference) == "unpaid" and probe.audit(reference, "bank_credit") == []
    )
