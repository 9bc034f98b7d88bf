"""Staff operations through the RPCs the gateway exposes (S9, S11, S13, S3)."""

from decimal import Decimal

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from oms_common.problems import Conflict, NotFound, ValidationFailed

from .conftest import wait_for
from .test_webhooks import ADMIN, order_body

ACCOUNTANT = {"name": "bea", "kind": "user", "role": "accountant", "origin": "gateway 10.0.0.8"}


def pay(fake_psp, probe, reference):
    event = fake_psp.succeed_intent(probe.payment(reference).psp_reference)
    assert fake_psp.deliver_stripe(event) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="payment confirmed")
    return event


def dunning_state(rpc, probe, reference):
    """What a refused dunning request must leave as it was."""
    order, payment = rpc.orders.get_order(reference), rpc.payments.get_payment(reference)
    return {
        "order": (order["status"], order["version"]),
        "history": len(rpc.orders.order_history(reference)),
        "payment": {key: payment[key] for key in ("status", "allowed_operations")},
        "dunning_events": len(probe.events(reference, "payment_dunning_changed")),
    }


def test_refund_larger_than_captured_is_refused_and_partial_refunds_add_up(
    payments_service, submit_order, fake_psp, probe, rpc
):
    reference = submit_order("card", total="80.00")
    pay(fake_psp, probe, reference)
    pid = probe.payment(reference).psp_reference

    with pytest.raises(ValidationFailed) as refused:
        rpc.payments.refund_payment(reference, {"amount": "80.01", "reason": "too much"}, ACCOUNTANT)
    assert "amount" in refused.value.errors
    with pytest.raises(ValidationFailed) as malformed:
        rpc.payments.refund_payment(reference, {"amount": "-5", "reason": "negative"}, ACCOUNTANT)
    assert "amount" in malformed.value.errors
    assert probe.status(reference) == "paid" and len(probe.events(reference)) == 1
    assert fake_psp.charges[fake_psp.intents[pid]["latest_charge"]]["amount_refunded"] == 0

    first = rpc.payments.refund_payment(reference, {"amount": "30.00", "reason": "damaged"}, ACCOUNTANT)
    assert (first["status"], first["refunded_amount"], first["refundable_amount"]) == (
        "partially_refunded",
        "30.00",
        "50.00",
    )
    with pytest.raises(ValidationFailed):
        rpc.payments.refund_payment(reference, {"amount": "50.01"}, ACCOUNTANT)
    rest = rpc.payments.refund_payment(reference, {"reason": "returned"}, ACCOUNTANT)  # default: all that is left
    assert (rest["status"], rest["refunded_amount"]) == ("refunded", "80.00")
    assert [(r["kind"], r["amount"]) for r in rest["refunds"]] == [("refund", "30.00"), ("refund", "50.00")]
    assert rest["allowed_operations"] == []
    charge = fake_psp.charges[fake_psp.intents[pid]["latest_charge"]]
    assert charge["amount_refunded"] == 8000
    refund_keys = [c[2] for c in fake_psp.calls if c[1] == "/v1/refunds" and reference in (c[2] or "")]
    assert all(refund_keys) and len(set(refund_keys)) == 2

    # Stripe's own charge.refunded webhook for what we already booked changes nothing
    echo = fake_psp.stripe_event("charge.refunded", charge)
    assert fake_psp.deliver_stripe(echo) == [200]
    wait_for(lambda: probe.settled(reference), message="the echo processed")
    assert [e["status"] for e in probe.events(reference)] == ["paid", "partially_refunded", "refunded"]
    assert probe.payment(reference).refunded_amount == Decimal("80.00")
    with pytest.raises(Conflict):
        rpc.payments.refund_payment(reference, {}, ACCOUNTANT)


def test_refund_before_capture_voids_at_the_psp(payments_service, submit_order, fake_psp, probe, rpc):
    reference = submit_order("card")
    pid = probe.payment(reference).psp_reference
    with pytest.raises(ValidationFailed):
        rpc.payments.refund_payment(reference, {"amount": "10.00"}, ACCOUNTANT)
    result = rpc.payments.refund_payment(reference, {"reason": "customer changed their mind"}, ACCOUNTANT)
    assert result["status"] == "voided" and fake_psp.intents[pid]["status"] == "canceled"
    late = fake_psp.stripe_event("payment_intent.succeeded", dict(fake_psp.intents[pid], status="succeeded"))
    assert fake_psp.deliver_stripe(late) == [200]
    wait_for(lambda: probe.settled(reference), message="late success processed")
    assert probe.status(reference) == "voided"
    assert [e["status"] for e in probe.events(reference)] == ["voided"]
    assert probe.audit(reference, "psp_event_ignored")


def test_manual_payment_status_only_moves_forward(orders_service, payments_service, submit_order, probe, rpc):
    assert rpc.payments.ping() == {"service": "payments", "status": "ok", "database": "ok"}
    reference = submit_order("invoice", total="120.00")
    payment = rpc.payments.get_payment(reference)
    assert (payment["provider"], payment["status"]) == ("manual", "unpaid")
    assert {"status:announced", "status:paid", "dunning:1"} <= set(payment["allowed_operations"])
    assert "refund" not in payment["allowed_operations"]

    assert (
        rpc.payments.set_payment_status(reference, {"status": "announced", "note": "customer called"}, ACCOUNTANT)[
            "status"
        ]
        == "announced"
    )
    with pytest.raises(Conflict):
        rpc.payments.set_payment_status(reference, {"status": "unpaid"}, ACCOUNTANT)
    assert rpc.payments.set_payment_status(reference, {"status": "paid"}, ACCOUNTANT)["status"] == "paid"
    with pytest.raises(Conflict):
        rpc.payments.set_payment_status(reference, {"status": "announced"}, ACCOUNTANT)
    with pytest.raises(ValidationFailed) as invalid:
        rpc.payments.set_payment_status(reference, {"status": "refunded"}, ACCOUNTANT)
    assert "status" in invalid.value.errors
    with pytest.raises(NotFound):
        rpc.payments.get_payment("NO-SUCH-ORDER")
    assert [(e["previous_status"], e["status"], e["sequence"]) for e in probe.events(reference)] == [
        ("unpaid", "announced", 1),
        ("announced", "paid", 2),
    ]
    history = rpc.payments.payment_history(reference)
    assert [h["action"] for h in history] == ["payment_created", "manual_status", "manual_status"]
    assert history[1]["actor"] == "bea" and history[1]["reason"] == "customer called"

    card = submit_order("card")
    with pytest.raises(Conflict):
        rpc.payments.set_payment_status(card, {"status": "paid"}, ACCOUNTANT)


def test_lost_callbacks_reconciled_and_the_rest_listed_for_staff(
    payments_service, submit_order, fake_psp, probe, rpc, payments_config
):
    paid_at_psp = submit_order("card")
    still_open = submit_order("card")
    fake_psp.succeed_intent(probe.payment(paid_at_psp).psp_reference)  # its webhook is lost

    stuck = rpc.payments.list_stuck_payments({"older_than_seconds": 0, "limit": 1000})
    references = [item["order_reference"] for item in stuck["items"]]
    assert paid_at_psp in references and still_open in references

    # two replicas' timers firing at once: the lease gives each payment to one of them
    pool = eventlet.GreenPool()

    def reconcile():
        with ClusterRpcProxy(payments_config, timeout=30) as own:  # one proxy per caller
            return own.payments.reconcile_now(0)

    runs = [pool.spawn(reconcile) for _ in range(2)]
    summaries = [run.wait() for run in runs]
    completed = [ref for s in summaries for ref in s["completed"]]
    checked = [ref for s in summaries for ref in s["completed"] + s["still_pending"]]
    assert completed.count(paid_at_psp) == 1 and still_open not in completed
    assert checked.count(still_open) == 1
    assert probe.status(paid_at_psp) == "paid" and probe.status(still_open) == "pending"
    assert [e["status"] for e in probe.events(paid_at_psp)] == ["paid"]
    assert probe.events(paid_at_psp)[0]["actor"]["name"] == "reconciliation"

    stuck = rpc.payments.list_stuck_payments({"older_than_seconds": 0, "limit": 1000})
    references = [item["order_reference"] for item in stuck["items"]]
    assert paid_at_psp not in references and still_open in references
    listed = next(item for item in stuck["items"] if item["order_reference"] == still_open)
    assert listed["reconcile_checks"] == 1 and listed["last_psp_status"] == "requires_payment_method"

    # staff completes the rest by hand with the PSP reference and a reason (audited, S9)
    with pytest.raises(ValidationFailed) as missing:
        rpc.payments.complete_payment(still_open, {"psp_reference": "ch_123"}, ADMIN)
    assert "reason" in missing.value.errors
    done = rpc.payments.complete_payment(still_open, {"psp_reference": "ch_123", "reason": "Bank statement"}, ADMIN)
    assert done["status"] == "paid" and done["completed_by_hand_reference"] == "ch_123"
    with pytest.raises(Conflict):
        rpc.payments.complete_payment(still_open, {"psp_reference": "ch_123", "reason": "again"}, ADMIN)
    entry = probe.audit(still_open, "completed_by_hand")[0]
    assert (entry.actor, entry.reason, entry.details["psp_reference"]) == ("alice", "Bank statement", "ch_123")
    assert len(probe.events(still_open)) == 1


def test_dunning_moves_the_order_through_the_orders_service(orders_service, payments_service, rpc, probe):
    order = rpc.orders.create_order(order_body("invoice"), actor=ADMIN)["order"]
    reference = order["reference"]
    wait_for(lambda: probe.payment(reference), message="the invoice payment record")
    before = dunning_state(rpc, probe, reference)
    with pytest.raises(Conflict):
        rpc.payments.request_dunning(reference, {"level": 2, "notify": True}, ACCOUNTANT)
    with pytest.raises(ValidationFailed):
        rpc.payments.request_dunning(reference, {"level": 3}, ACCOUNTANT)
    assert dunning_state(rpc, probe, reference) == before

    result = rpc.payments.request_dunning(reference, {"level": 1, "notify": True}, ACCOUNTANT)
    assert result["dunning_level"] == 1 and result["order_status"] == "dunning_1"
    assert rpc.orders.get_order(reference)["status"] == "dunning_1"
    history = rpc.orders.order_history(reference)
    assert [(h["to"], h["actor"], h["details"]["notify"]) for h in history if h["to"] == "dunning_1"] == [
        ("dunning_1", "bea", True)
    ]
    at_level_1 = dunning_state(rpc, probe, reference)
    with pytest.raises(Conflict):
        rpc.payments.request_dunning(reference, {"level": 1}, ACCOUNTANT)
    assert dunning_state(rpc, probe, reference) == at_level_1
    result = rpc.payments.request_dunning(reference, {"level": 2, "notify": False}, ACCOUNTANT)
    assert result["dunning_level"] == 2 and rpc.orders.get_order(reference)["status"] == "dunning_2"
    assert [e["level"] for e in probe.events(reference, "payment_dunning_changed")] == [1, 2]

    rpc.payments.set_payment_status(reference, {"status": "paid"}, ACCOUNTANT)
    card = rpc.orders.create_order(order_body("card"), actor=ADMIN)["order"]["reference"]
    wait_for(lambda: probe.payment(card), message="the card payment record")
    card_before = dunning_state(rpc, probe, card)
    with pytest.raises(Conflict):
        rpc.payments.request_dunning(card, {"level": 1}, ACCOUNTANT)
    assert dunning_state(rpc, probe, card) == card_before


def test_cancelling_a_paid_card_order_refunds_it_at_the_psp(
    orders_service, payments_service, rpc, fake_psp, probe, settle
):
    reference = rpc.orders.create_order(order_body("card"), actor=ADMIN)["order"]["reference"]
    wait_for(lambda: (p := probe.payment(reference)) and p.psp_reference, message="the PaymentIntent")
    pay(fake_psp, probe, reference)
    wait_for(lambda: rpc.orders.get_order(reference)["status"] == "new", message="order paid")

    rpc.orders.cancel_order(reference, {"reason": "out of stock"}, actor=ADMIN)
    wait_for(lambda: probe.status(reference) == "refunded", message="the refund on cancellation")
    pid = probe.payment(reference).psp_reference
    assert (
        fake_psp.charges[fake_psp.intents[pid]["latest_charge"]]["amount_refunded"] == fake_psp.intents[pid]["amount"]
    )
    wait_for(lambda: rpc.orders.get_order(reference)["payment_status"] == "refunded", message="orders' read copy")
    settle(reference, consumers=("payments", "orders"))
    assert [e["status"] for e in probe.events(reference)] == ["paid", "refunded"]
    assert probe.payment(reference).order_status == "cancelled"
