"""A signed event moves money only when it is about the payment OMS knows, by what the PSP reports."""

import json
from decimal import Decimal

from .conftest import new_reference, order_event, wait_for
from .test_webhooks import ADMIN, order_body


def _row(probe, event_id):
    return wait_for(
        lambda: (rows := probe.inbox(provider_event_id=event_id)) and rows[0].status != "received" and rows[0],
        message=f"event {event_id} processed",
    )


def test_a_foreign_intent_naming_our_order_leaves_it_unpaid_and_flagged(
    orders_service, payments_service, rpc, fake_psp, probe
):
    body = dict(
        order_body("card"), lines=[{"article_number": "A-250", "name": "Kettle", "quantity": 1, "unit_price": "242.00"}]
    )
    order = rpc.orders.create_order(body, actor=ADMIN)["order"]
    reference = order["reference"]
    assert order["total"] == "250.00"
    own = wait_for(lambda: (p := probe.payment(reference)) and p.psp_reference, message="pi_OWN opened")

    foreign = fake_psp.create_intent(1, "chf", order_reference=reference)  # pi_FOREIGN, amount 1
    event = fake_psp.succeed_intent(foreign)
    assert event["data"]["object"]["amount_received"] == 1
    assert event["data"]["object"]["metadata"]["order_reference"] == reference
    assert fake_psp.deliver_stripe(event) == [200]

    row = _row(probe, event["id"])
    assert row.status == "flagged" and own in row.note and foreign in row.note
    assert (row.order_reference, row.amount, row.currency) == (reference, Decimal("0.01"), "CHF")
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount, payment.psp_reference) == ("pending", 0, own)
    assert probe.events(reference) == []
    assert [a.action for a in probe.audit(reference) if a.action.startswith("psp_")][-1] == "psp_event_flagged"
    detail = rpc.payments.get_payment(reference)
    assert detail["status"] == "pending" and detail["captured_amount"] == "0.00"
    assert [f["provider_event_id"] for f in detail["flagged_events"]] == [event["id"]]
    listed = rpc.payments.list_unmatched_webhook_events({"order_reference": reference})["items"]
    assert [(i["provider"], i["event_type"], i["amount"], i["status"]) for i in listed] == [
        ("stripe", "payment_intent.succeeded", "0.01", "flagged")
    ]
    assert rpc.orders.get_order(reference)["status"] == "payment_pending"
    assert rpc.orders.get_order(reference)["payment_status"] == "pending"

    # the order's own intent still pays it, by the amount Stripe reports
    assert fake_psp.deliver_stripe(fake_psp.succeed_intent(own)) == [200]
    wait_for(lambda: rpc.orders.get_order(reference)["status"] == "new", message="paid by its own intent")
    assert probe.payment(reference).captured_amount == Decimal("250.00")


def test_a_signed_event_of_our_intent_with_another_amount_or_currency_changes_nothing(
    payments_service, submit_order, fake_psp, probe
):
    reference = submit_order("card", total="250.00")
    pid = probe.payment(reference).psp_reference
    event = fake_psp.succeed_intent(pid)
    for change in ({"amount": 100, "amount_received": 100}, {"currency": "eur"}):
        forged = json.loads(json.dumps(event))
        forged["id"] = f"evt_{new_reference()}"
        forged["data"]["object"].update(change)
        assert fake_psp.deliver_stripe(forged) == [200]  # signed: stored and acknowledged
        row = _row(probe, forged["id"])
        assert row.status == "flagged", change
    assert probe.status(reference) == "pending" and probe.events(reference) == []


def test_a_partial_capture_is_partial_never_paid(orders_service, payments_service, rpc, fake_psp, probe):
    order = rpc.orders.create_order(order_body("card"), actor=ADMIN)["order"]  # 47.90 CHF
    reference = order["reference"]
    pid = wait_for(lambda: (p := probe.payment(reference)) and p.psp_reference, message="intent opened")
    assert fake_psp.deliver_stripe(fake_psp.succeed_intent(pid, amount_received=2000)) == [200]
    wait_for(lambda: probe.status(reference) == "partially_paid", message="the partial capture recorded")
    payment = probe.payment(reference)
    assert (payment.captured_amount, payment.amount) == (Decimal("20.00"), Decimal(order["total"]))
    wait_for(lambda: rpc.orders.get_order(reference)["payment_status"] == "partially_paid", message="orders' copy")
    assert rpc.orders.get_order(reference)["status"] == "payment_pending"
    detail = rpc.payments.get_payment(reference)
    assert (detail["captured_amount"], detail["refundable_amount"]) == ("20.00", "20.00")


def test_a_first_sighting_must_match_the_orders_amount(payments_service, dispatch, fake_psp, probe):
    reference = new_reference()
    pid = fake_psp.create_intent(100, "chf", order_reference=reference)  # 1.00, the order is 25.00
    event = fake_psp.succeed_intent(pid)
    assert fake_psp.deliver_stripe(event) == [200]
    wait_for(lambda: [r.status for r in probe.inbox(reference)] == ["waiting"], message="waiting for its order")
    dispatch("order_submitted", order_event(reference, "card", total="25.00"))
    wait_for(lambda: [r.status for r in probe.inbox(reference)] == ["flagged"], message="flagged on first sighting")
    payment = probe.payment(reference)
    assert payment.status == "pending" and payment.psp_reference != pid
