"""Dunning with money through the payments service, against real RabbitMQ and PostgreSQL: the
fee of each level stored and shown with the open amount, the event the reminder is made from,
a bank credit of amount and fees paying the dunned invoice, and the automatic dunning of
overdue invoices (once, whatever runs at the same time)."""

import base64
import uuid
from datetime import date, timedelta
from decimal import Decimal

import eventlet

from oms_common.payment_references import qr_reference

from . import camt
from .conftest import order_event, wait_for
from .test_bank_statements_references import invoice_order  # noqa: F401 - a fixture
from .test_webhooks import ADMIN, order_body

ACCOUNTANT = {"name": "bea", "kind": "user", "role": "accountant", "origin": "gateway 10.0.0.8"}


def invoice_issued(dispatch, reference, due_date):
    dispatch(
        "document_issued",
        {
            "event_id": uuid.uuid4().hex,
            "order_reference": reference,
            "kind": "invoice",
            "document_id": 1,
            "number": f"R-{reference}",
            "sha256": "0" * 64,
            "due_date": due_date.isoformat(),
            "schema_version": 1,
        },
        source="documents",
    )


def test_each_level_adds_its_fee_and_the_payment_shows_the_open_amount(orders_service, payments_service, rpc, probe):
    order = rpc.orders.create_order(order_body("invoice"), actor=ADMIN)["order"]
    reference = order["reference"]
    wait_for(lambda: probe.payment(reference), message="the invoice payment record")
    fresh = rpc.payments.get_payment(reference)
    assert (fresh["amount"], fresh["dunning_fees"], fresh["open_amount"]) == ("47.90", "0.00", "47.90")

    first = rpc.payments.request_dunning(reference, {"level": 1, "notify": True}, ACCOUNTANT)
    assert (first["dunning_level"], first["dunning_fees"], first["open_amount"]) == (1, "3.00", "50.90")
    second = rpc.payments.request_dunning(reference, {"level": 2, "notify": True}, ACCOUNTANT)
    assert (second["dunning_level"], second["dunning_fees"], second["open_amount"]) == (2, "10.50", "58.40")
    assert probe.payment(reference).dunning_fees == Decimal("10.500")
    shown = rpc.payments.get_payment(reference)
    assert (shown["dunning_fees"], shown["open_amount"]) == ("10.50", "58.40")

    entries = [h for h in rpc.payments.payment_history(reference) if h["action"] == "dunning_level_changed"]
    assert [(e["details"]["to"], e["details"]["fee"], e["actor"]) for e in entries] == [
        (1, "3.00", "bea"),
        (2, "7.50", "bea"),
    ]
    events = probe.events(reference, "payment_dunning_changed")
    assert [(e["level"], e["fee"], e["dunning_fees"], e["open_amount"], e["currency"]) for e in events] == [
        (1, "3.00", "3.00", "50.90", "CHF"),
        (2, "7.50", "10.50", "58.40", "CHF"),
    ]
    assert {(e["invoice_number"], e["language"]) for e in events} == {(order["invoice_number"], "de")}
    assert events[0]["qr_reference"] == probe.payment(reference).qr_reference

    # paid by hand: the fees are paid with the amount, nothing is open
    paid = rpc.payments.set_payment_status(reference, {"status": "paid"}, ACCOUNTANT)
    assert (paid["captured_amount"], paid["open_amount"]) == ("58.40", "0.00")


def test_a_level_set_in_orders_charges_its_fee_once(payments_service, invoice_order, dispatch, probe, settle):
    reference = invoice_order("100.00")
    event = order_event(reference, "invoice", "100.00", status="dunning_1")
    event.update(from_status="new", to_status="dunning_1", notify=True)
    dispatch("order_status_changed", event)
    dispatch("order_status_changed", event)  # redelivered
    wait_for(lambda: probe.payment(reference).dunning_level == 1, message="level 1 copied")
    settle(reference)
    assert probe.payment(reference).dunning_fees == Decimal("3.000")
    [dunned] = probe.events(reference, "payment_dunning_changed")
    assert (dunned["level"], dunned["fee"], dunned["open_amount"], dunned["notify"]) == (1, "3.00", "103.00", True)


def test_a_bank_credit_of_amount_and_fees_pays_the_dunned_invoice(
    payments_service, invoice_order, dispatch, probe, rpc, settle
):
    reference = invoice_order("120.00")
    for level, before in ((1, "new"), (2, "dunning_1")):
        event = order_event(reference, "invoice", "120.00", status=f"dunning_{level}")
        event.update(from_status=before, to_status=f"dunning_{level}", notify=False)
        dispatch("order_status_changed", event)
        wait_for(lambda level=level: probe.payment(reference).dunning_level == level, message=f"level {level}")
    assert rpc.payments.get_payment(reference)["open_amount"] == "130.50"

    upload = camt.document(
        [camt.credit("130.50", reference=qr_reference(reference), acct_ref=f"F-{reference}")], kind="054", version=8
    )
    report = rpc.payments.import_bank_statement(base64.b64encode(upload).decode(), ACCOUNTANT)
    assert report["counts"]["matched"] == 1 and report["entries"][0]["outcome"] == "matched"
    payment = rpc.payments.get_payment(reference)
    assert (payment["status"], payment["captured_amount"], payment["open_amount"]) == ("paid", "130.50", "0.00")
    assert payment["overpaid_amount"] is None


def test_the_amount_without_the_fees_leaves_the_fees_open(payments_service, invoice_order, dispatch, probe, rpc):
    reference = invoice_order("80.00")
    event = order_event(reference, "invoice", "80.00", status="dunning_1")
    event.update(from_status="new", to_status="dunning_1", notify=False)
    dispatch("order_status_changed", event)
    wait_for(lambda: probe.payment(reference).dunning_level == 1, message="level 1")

    upload = camt.document(
        [camt.credit("80.00", reference=qr_reference(reference), acct_ref=f"G-{reference}")], kind="054", version=8
    )
    report = rpc.payments.import_bank_statement(base64.b64encode(upload).decode(), ACCOUNTANT)
    assert report["entries"][0]["outcome"] == "partial"
    assert report["entries"][0]["reason"] == "3.00 is still open."
    payment = rpc.payments.get_payment(reference)
    assert (payment["status"], payment["open_amount"]) == ("partially_paid", "3.00")


def test_automatic_dunning_moves_an_overdue_invoice_and_leaves_a_recent_one(
    orders_service, payments_service, rpc, probe, dispatch
):
    today = date(2031, 3, 20)
    overdue = rpc.orders.create_order(order_body("invoice"), actor=ADMIN)["order"]["reference"]
    recent = rpc.orders.create_order(order_body("invoice"), actor=ADMIN)["order"]["reference"]
    for reference, due in ((overdue, today - timedelta(days=10)), (recent, today - timedelta(days=9))):
        wait_for(lambda reference=reference: probe.payment(reference), message="the invoice payment record")
        invoice_issued(dispatch, reference, due)
        wait_for(lambda reference=reference, due=due: probe.payment(reference).due_date == due, message="due date")

    result = rpc.payments.auto_dunning_now(today.isoformat())
    assert overdue in result["moved"] and recent not in result["moved"]
    assert rpc.orders.get_order(overdue)["status"] == "dunning_1"
    assert rpc.orders.get_order(recent)["status"] == "new"
    [entry] = probe.audit(overdue, "dunning_level_changed")
    assert (entry.actor, entry.actor_kind, entry.details["fee"]) == ("system", "system", "3.00")
    assert probe.audit(recent, "dunning_level_changed") == []

    # level 2 comes 10 days after level 1 (counted from when level 1 was reached)
    assert overdue not in rpc.payments.auto_dunning_now((date.today() + timedelta(days=9)).isoformat())["moved"]
    assert overdue in rpc.payments.auto_dunning_now((date.today() + timedelta(days=11)).isoformat())["moved"]
    assert rpc.payments.get_payment(overdue)["dunning_level"] == 2


def test_two_rounds_at_the_same_time_dun_an_invoice_once(orders_service, payments_service, rpc, probe, dispatch):
    today = date(2032, 6, 1)
    reference = rpc.orders.create_order(order_body("invoice"), actor=ADMIN)["order"]["reference"]
    wait_for(lambda: probe.payment(reference), message="the invoice payment record")
    invoice_issued(dispatch, reference, today - timedelta(days=30))
    wait_for(lambda: probe.payment(reference).due_date is not None, message="due date")

    calls = [rpc.payments.auto_dunning_now.call_async(today.isoformat()) for _ in range(4)]
    results = [call.result() for call in calls]
    eventlet.sleep(0)
    moved = [r for r in results if r is not None and reference in r["moved"]]
    assert len(moved) == 1
    assert probe.payment(reference).dunning_level == 1
    assert len(probe.events(reference, "payment_dunning_changed")) == 1
    assert len(probe.audit(reference, "dunning_level_changed")) == 1
