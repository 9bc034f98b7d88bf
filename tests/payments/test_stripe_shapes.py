"""Stripe events in the shapes Stripe really sends, signed with Stripe's scheme, through the listener."""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from .conftest import wait_for
from .psp_fixtures import create_order, deliver_stripe, fixture, stripe_id
from .test_webhooks import ADMIN


def processed(probe, event_id):
    return wait_for(
        lambda: (rows := probe.inbox(provider_event_id=event_id)) and rows[0].status != "received" and rows[0],
        message=f"event {event_id} processed",
    )


def paid_through_fake(fake_psp, probe, reference):
    """Pays the order at the fake PSP (its own real-shaped event); returns (intent id, charge id)."""
    pid = probe.payment(reference).psp_reference
    assert fake_psp.deliver_stripe(fake_psp.succeed_intent(pid)) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="paid")
    return pid, fake_psp.intents[pid]["latest_charge"]


@pytest.mark.parametrize(
    "name, total, currency",
    [
        ("stripe.payment_intent.succeeded.2025-04-30.basil.json", "46.20", "EUR"),  # latest_charge, foreign metadata
        ("stripe.payment_intent.succeeded.2022-11-15.json", "38.97", "USD"),
        ("stripe.payment_intent.succeeded.2020-08-27.json", "20.00", "USD"),  # charges list, no latest_charge
    ],
)
def test_payment_intent_succeeded_in_each_api_version_pays_the_order(
    name, total, currency, payments_service, submit_order, fake_psp, probe
):
    reference = submit_order("card", total=total, currency=currency)
    pid, charge = probe.payment(reference).psp_reference, stripe_id("ch")
    raw, event_id = fixture(name, ORDER=reference, PI=pid, CH=charge)
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount, payment.psp_charge_id) == ("paid", Decimal(total), charge)
    assert [e["status"] for e in probe.events(reference)] == ["paid"]


def test_payment_failed_and_canceled(payments_service, submit_order, fake_psp, probe, rpc):
    failed = submit_order("card", total="118.80", currency="USD")
    raw, event_id = fixture(
        "stripe.payment_intent.payment_failed.json", ORDER=failed, PI=probe.payment(failed).psp_reference
    )
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    detail = rpc.payments.get_payment(failed)
    assert detail["status"] == "failed" and detail["failure_reason"].startswith(
        "This payment required an authentication"
    )

    canceled = submit_order("card", total="230.40", currency="USD")
    raw, event_id = fixture(
        "stripe.payment_intent.canceled.json", ORDER=canceled, PI=probe.payment(canceled).psp_reference
    )
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    assert probe.status(canceled) == "voided"


def test_charge_refunded_with_its_refund_list_counts_the_succeeded_refund(
    payments_service, submit_order, fake_psp, probe
):
    reference = submit_order("card", total="25.00", currency="USD")
    pid, charge = paid_through_fake(fake_psp, probe, reference)
    refund = stripe_id("re")
    raw, event_id = fixture("stripe.charge.refunded.2020-03-02.json", PI=pid, CH=charge, RE=refund)
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"  # matched by intent and charge: no metadata
    payment = probe.payment(reference)
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("25.00"))
    assert [(r.psp_refund_id, r.status, r.amount) for r in payment.refunds] == [(refund, "succeeded", Decimal("25"))]


def test_a_legacy_charge_refund_without_payment_intent_reaches_the_order_by_its_charge(
    payments_service, submit_order, fake_psp, probe
):
    reference = submit_order("card", total="1.00", currency="USD")
    _, charge = paid_through_fake(fake_psp, probe, reference)
    raw, event_id = fixture("stripe.charge.refunded.no-payment_intent.2020-08-27.json", CH=charge, RE=stripe_id("re"))
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    assert (probe.status(reference), probe.payment(reference).refunded_amount) == ("refunded", Decimal("1.00"))


def test_refund_updated_to_succeeded_counts_it_once(payments_service, submit_order, fake_psp, probe):
    reference = submit_order("card", total="1.00", currency="USD")
    pid, charge = paid_through_fake(fake_psp, probe, reference)
    refund = stripe_id("re")
    for expected in ("applied", "ignored"):  # the same refund reported twice
        raw, event_id = fixture("stripe.charge.refund.updated.2025-04-30.basil.json", PI=pid, CH=charge, RE=refund)
        assert deliver_stripe(fake_psp, raw) == 200
        assert processed(probe, event_id).status == expected
    assert (probe.status(reference), probe.payment(reference).refunded_amount) == ("refunded", Decimal("1.00"))
    assert [e["status"] for e in probe.events(reference)] == ["paid", "refunded"]


def test_a_refund_that_fails_after_succeeding_puts_the_amount_back(
    orders_service, payments_service, submit_order, fake_psp, probe, rpc
):
    reference = create_order(rpc, probe, "300000.00", "INR")  # the sample's 30000000 paise
    pid, charge = paid_through_fake(fake_psp, probe, reference)
    refunded = rpc.payments.refund_payment(reference, {"reason": "returned"}, ADMIN)
    assert (refunded["status"], refunded["refunded_amount"]) == ("refunded", "300000.00")
    refund = refunded["refunds"][0]["psp_refund_id"]

    raw, event_id = fixture("stripe.charge.refund.updated.failed.2020-03-02.json", PI=pid, CH=charge, RE=refund)
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["refunded_amount"], detail["refundable_amount"]) == ("paid", "0.00", "300000.00")
    assert [(r["status"], r["failure_reason"]) for r in detail["refunds"]] == [("failed", "expired_or_canceled_card")]
    assert [e["status"] for e in probe.events(reference)] == ["paid", "refunded", "paid"]
    reversed_ = probe.audit(reference, "refund_reversed")
    assert len(reversed_) == 1 and "300000.000 INR" in reversed_[0].reason
    # the books say so too: the order's payment status follows
    wait_for(lambda: rpc.orders.get_order(reference)["payment_status"] == "paid", message="orders' copy restored")

    # the same failure again changes nothing
    raw, event_id = fixture("stripe.charge.refund.updated.failed.2020-03-02.json", PI=pid, CH=charge, RE=refund)
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "ignored"
    assert probe.payment(reference).refunded_amount == 0


@pytest.mark.parametrize("outcome, status, refunded", [("lost", "refunded", "1.00"), ("won", "paid", "0.00")])
def test_a_dispute_shows_on_the_order_and_closes_lost_or_won(
    outcome, status, refunded, orders_service, payments_service, fake_psp, probe, rpc
):
    reference = create_order(rpc, probe, "1.00", "USD")
    pid, charge = paid_through_fake(fake_psp, probe, reference)
    dispute = stripe_id("dp")
    raw, event_id = fixture("stripe.charge.dispute.created.2025-04-30.basil.json", PI=pid, CH=charge, DP=dispute)
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    detail = rpc.payments.get_payment(reference)
    assert (
        detail["status"],
        detail["disputed"],
        detail["dispute_amount"],
        detail["dispute_reason"],
        detail["dispute_status"],
    ) == ("disputed", True, "1.00", "fraudulent", "needs_response")
    assert detail["dispute_evidence_due_by"].startswith(
        datetime.fromtimestamp(1749945599, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    )
    assert "refund" not in detail["allowed_operations"]
    wait_for(lambda: rpc.orders.get_order(reference)["payment_status"] == "disputed", message="orders' copy")
    listed = rpc.orders.list_orders({"payment_status": ["disputed"], "q": reference})
    assert [o["reference"] for o in listed["items"]] == [reference]
    history = rpc.orders.order_history(reference)
    assert any(h["action"] == "payment_status_changed" and h["to"] == "disputed" for h in history)

    raw, event_id = fixture(
        f"stripe.charge.dispute.closed.{outcome}.2025-04-30.basil.json", PI=pid, CH=charge, DP=dispute
    )
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["refunded_amount"], detail["dispute_status"]) == (status, refunded, outcome)
    assert [e["status"] for e in probe.events(reference)] == ["paid", "disputed", status]
    wait_for(lambda: rpc.orders.get_order(reference)["payment_status"] == status, message="orders' copy")


def test_an_unknown_event_type_is_stored_acknowledged_and_ignored(payments_service, fake_psp, probe):
    raw, event_id = fixture("stripe.customer.created.2020-08-27.json")
    assert deliver_stripe(fake_psp, raw) == 200
    row = processed(probe, event_id)
    assert (row.status, row.event_type, row.order_reference) == ("ignored", "customer.created", None)
    assert row.body.encode() == raw


def test_fake_psp_refund_and_dispute_events_carry_no_oms_metadata_and_still_reach_the_order(
    payments_service, submit_order, fake_psp, probe
):
    reference = submit_order("card", total="60.00")
    pid, charge = paid_through_fake(fake_psp, probe, reference)
    assert fake_psp.charges[charge]["metadata"] == {}
    assert fake_psp.deliver_stripe(fake_psp.refund_intent(pid, 1000)) == [200]
    wait_for(lambda: probe.payment(reference).refunded_amount == Decimal("10.00"), message="dashboard refund")
    rid = fake_psp.last_refund_id
    failed = fake_psp.refund_event(rid, "failed", "lost_or_stolen_card")
    assert failed["data"]["object"]["metadata"] == {}
    assert fake_psp.deliver_stripe(failed) == [200]
    wait_for(
        lambda: probe.status(reference) == "paid" and probe.payment(reference).refunded_amount == 0,
        message="the failed refund given back",
    )
    created = fake_psp.dispute_intent(pid, "product_not_received")
    assert fake_psp.deliver_stripe(created) == [200]
    wait_for(lambda: probe.status(reference) == "disputed", message="dispute opened")
    assert fake_psp.deliver_stripe(fake_psp.close_dispute(created["data"]["object"]["id"], "lost")) == [200]
    wait_for(lambda: probe.status(reference) == "refunded", message="dispute lost")
    assert probe.payment(reference).refunded_amount == Decimal("60.00")


def test_current_refund_and_dispute_objects_naming_only_the_charge_reach_the_order(
    payments_service, submit_order, fake_psp, probe, rpc
):
    """Objects of API version 2026-07-29 (payment_intent null): matched by the charge alone."""
    reference = submit_order("card", total="10.00", currency="USD")
    _, charge = paid_through_fake(fake_psp, probe, reference)
    raw, event_id = fixture("stripe.refund.updated.2026-07-29.dahlia.json", CH=charge, RE=stripe_id("re"))
    assert deliver_stripe(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    assert (probe.status(reference), probe.payment(reference).refunded_amount) == (
        "partially_refunded",
        Decimal("1.00"),
    )
    dispute = stripe_id("dp")
    raw, event_id = fixture("stripe.charge.dispute.updated.2026-07-29.dahlia.json", CH=charge, DP=dispute)
    assert deliver_stripe(fake_psp, raw) == 200
    row = processed(probe, event_id)
    # an inquiry for 10.00 on a charge with 1.00 refunded: still within what was captured
    assert row.status == "applied", row.note
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["dispute_status"], detail["dispute_reason"], detail["dispute_amount"]) == (
        "disputed",
        "warning_needs_response",
        "general",
        "10.00",
    )
