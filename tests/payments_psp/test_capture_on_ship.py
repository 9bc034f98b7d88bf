"""Capture on shipment: authorised at checkout, captured by the ship (over the real RPC from
orders to payments), refused ships naming the PSP's reason, lapsed authorisations flagged."""

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fake_psp.server import error

from oms_common.problems import Conflict
from orders.domain import ship_needs_payment_check
from payments.domain import OperationNotAllowed, ship_capture_plan
from payments.provider_settings import capture_modes
from tests.support.suite import wait_for

from .conftest import ADMIN, calls, order_and_payment, order_status


def test_capture_mode_per_provider_overrides_the_default():
    assert capture_modes("", {}) == {"stripe": "checkout", "paypal": "checkout"}
    assert capture_modes("on_ship", {"stripe": "", "paypal": None}) == {"stripe": "on_ship", "paypal": "on_ship"}
    assert capture_modes("checkout", {"stripe": "ON_SHIP"}) == {"stripe": "on_ship", "paypal": "checkout"}
    with pytest.raises(ValueError, match="OMS_PSP_CAPTURE_PAYPAL"):
        capture_modes("checkout", {"paypal": "later"})


def test_what_shipping_asks_of_a_payment():
    assert ship_capture_plan("stripe", "authorized") == ship_capture_plan("paypal", "authorized") == "capture"
    for status in ("paid", "partially_refunded", "refunded", "partially_paid", "disputed"):
        assert ship_capture_plan("stripe", status) is None
    assert ship_capture_plan("manual", "unpaid") is None
    for status in ("pending", "failed", "voided"):
        with pytest.raises(OperationNotAllowed, match=status):
            ship_capture_plan("paypal", status)
    # orders asks payments only for PSP orders whose copy shows no captured money
    assert ship_needs_payment_check("card", "authorized") and ship_needs_payment_check("paypal", "failed")
    assert not ship_needs_payment_check("card", "paid") and not ship_needs_payment_check("card", "refunded")
    assert not ship_needs_payment_check("invoice", "unpaid")


def authorize_stripe(fake_psp, rpc, probe, reference, **kwargs):
    pid = probe.payment(reference).psp_reference
    event = fake_psp.authorize_intent(pid, valid=kwargs.pop("valid", None))
    event.update(kwargs)
    assert fake_psp.deliver_stripe(event) == [200]
    wait_for(
        lambda: probe.status(reference) == "authorized" and order_status(rpc, reference) == "new",
        message="authorised and the order released",
    )
    return pid


def test_stripe_order_authorised_at_checkout_is_captured_once_when_shipped(place_order, fake_psp, rpc, probe, settle):
    reference = place_order("card", total="49.90")
    pid = probe.payment(reference).psp_reference
    assert fake_psp.intents[pid]["capture_method"] == "manual"
    authorize_stripe(fake_psp, rpc, probe, reference)
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["capture_mode"], detail["captured_amount"]) == ("authorized", "on_ship", "0.00")
    expires = datetime.fromisoformat(detail["authorization_expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=7)
    assert detail["authorization_expired"] is False

    shipped = rpc.orders.ship_order(reference, {"notify": False, "tracking_number": "TRK-1"}, actor=ADMIN)
    assert shipped["status"] == "shipped"
    capture_calls = calls(fake_psp, "POST", f"/v1/payment_intents/{pid}/capture")
    assert [c[2] for c in capture_calls] == [f"oms-ship-capture-{pid}"]
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount, payment.psp_charge_id) == (
        "paid",
        Decimal("49.900"),
        fake_psp.intents[pid]["latest_charge"],
    )

    # Stripe's own succeeded event, a second ship and a completion change nothing more
    assert fake_psp.deliver_stripe(fake_psp.succeed_intent(pid)) == [200]
    settle(reference)
    before = order_and_payment(rpc, probe, reference)
    with pytest.raises(Conflict):
        rpc.orders.ship_order(reference, {"notify": False}, actor=ADMIN)
    assert order_and_payment(rpc, probe, reference) == before
    rpc.orders.change_status(reference, {"status": "completed"}, actor=ADMIN)
    settle(reference)
    assert len(calls(fake_psp, "POST", f"/v1/payment_intents/{pid}/capture")) == 1
    assert [e["status"] for e in probe.events(reference)] == ["authorized", "paid"]
    assert rpc.orders.get_order(reference)["payment_status"] == "paid"


def test_a_declined_capture_refuses_the_ship_naming_the_reason(place_order, fake_psp, rpc, probe, settle):
    reference = place_order("card", total="30.00")
    pid = authorize_stripe(fake_psp, rpc, probe, reference)
    path = f"/v1/payment_intents/{pid}/capture"
    fake_psp.program("POST", path, error(402, "card_declined", "Your card was declined.", "card_error"))
    before = rpc.orders.order_history(reference)

    with pytest.raises(Conflict) as refused:
        rpc.orders.ship_order(reference, {"notify": True, "tracking_number": "TRK-2"}, actor=ADMIN)
    assert "Your card was declined" in refused.value.detail and "card_declined" in refused.value.detail
    settle(reference)
    order = rpc.orders.get_order(reference)
    assert (order["status"], order.get("tracking_number")) == ("new", None)
    assert rpc.orders.order_history(reference) == before  # nothing of the ship was written
    payment = rpc.payments.get_payment(reference)
    assert (payment["status"], payment["psp_capture_status"]) == ("authorized", "refused")
    assert "card_declined" in payment["failure_reason"]
    assert fake_psp.intents[pid]["status"] == "requires_capture"

    # once the PSP captures, the ship goes through with a fresh key (the refused one stays refused)
    assert rpc.orders.ship_order(reference, {"notify": False}, actor=ADMIN)["status"] == "shipped"
    assert [c[2] for c in calls(fake_psp, "POST", path)] == [f"oms-ship-capture-{pid}", f"oms-ship-capture-{pid}-1"]
    assert probe.status(reference) == "paid"


def test_paypal_order_authorised_on_approval_and_captured_by_the_ship(place_order, fake_psp, rpc, probe, settle):
    reference = place_order("paypal", total="75.50", currency="EUR")
    ppo = probe.payment(reference).psp_reference
    assert fake_psp.paypal_orders[ppo]["intent"] == "AUTHORIZE"
    approved = fake_psp.approve_paypal_order(ppo)
    assert fake_psp.deliver_paypal(approved, times=2) == [200, 200]
    wait_for(
        lambda: probe.status(reference) == "authorized" and order_status(rpc, reference) == "new",
        message="authorised on approval",
    )
    authorization = fake_psp.paypal_orders[ppo]["purchase_units"][0]["payments"]["authorizations"]
    assert len(authorization) == 1
    aid = authorization[0]["id"]
    assert [c[2] for c in calls(fake_psp, "POST", f"/v2/checkout/orders/{ppo}/authorize")] == [f"oms-authorize-{ppo}"]
    assert calls(fake_psp, "POST", f"/v2/checkout/orders/{ppo}/capture") == []
    # PayPal's own PAYMENT.AUTHORIZATION.CREATED arrives too: nothing new
    assert fake_psp.deliver_paypal(fake_psp.authorization_event(aid)) == [200]
    settle(reference)
    detail = rpc.payments.get_payment(reference)
    assert detail["status"] == "authorized"
    assert datetime.fromisoformat(detail["authorization_expires_at"]) == datetime.fromisoformat(
        authorization[0]["expiration_time"].replace("Z", "+00:00")
    )

    assert rpc.orders.ship_order(reference, {"notify": False}, actor=ADMIN)["status"] == "shipped"
    capture_calls = calls(fake_psp, "POST", f"/v2/payments/authorizations/{aid}/capture")
    assert [c[2] for c in capture_calls] == [f"oms-ship-capture-{aid}"]
    capture_id = next(
        cid
        for cid, c in fake_psp.paypal_captures.items()
        if c["supplementary_data"]["related_ids"].get("authorization_id") == aid
    )
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount, payment.psp_capture_id, payment.psp_authorization_id) == (
        "paid",
        Decimal("75.500"),
        capture_id,
        aid,
    )
    assert fake_psp.paypal_authorizations[aid]["status"] == "CAPTURED"
    settle(reference)
    assert [e["status"] for e in probe.events(reference)] == ["authorized", "paid"]

    # the capture is what a refund addresses
    refunded = rpc.payments.refund_payment(reference, {"amount": "5.50", "reason": "Scratched"}, actor=ADMIN)
    assert (refunded["status"], refunded["refunded_amount"]) == ("partially_refunded", "5.50")
    assert len(calls(fake_psp, "POST", f"/v2/payments/captures/{capture_id}/refund")) == 1


def test_an_authorisation_that_lapses_before_shipping_is_flagged(place_order, fake_psp, rpc, probe, settle):
    # Stripe: authorised eight days ago (the event's time), the card's capture deadline passed
    reference = place_order("card", total="12.00")
    pid = authorize_stripe(
        fake_psp, rpc, probe, reference, valid=timedelta(seconds=-60), created=int(time.time()) - 8 * 86400
    )
    assert rpc.payments.get_payment(reference)["authorization_expired"] is False
    # a row another worker holds right now is skipped (SKIP LOCKED) and flagged by the next round
    wait_for(
        lambda: reference in rpc.payments.reconcile_now(3600)["authorizations_expired"],
        interval=0.2,
        message="the lapsed Stripe authorisation flagged",
    )
    assert reference not in rpc.payments.reconcile_now(3600)["authorizations_expired"]  # flagged once
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["authorization_expired"]) == ("authorized", True)
    assert "expired" in detail["failure_reason"]
    assert [a.action for a in probe.audit(reference, "authorization_expired")] == ["authorization_expired"]
    # the PSP refuses the capture of a lapsed authorisation: the ship is refused, naming it
    settle(reference)
    before = order_and_payment(rpc, probe, reference)
    with pytest.raises(Conflict, match="charge_expired_for_capture"):
        rpc.orders.ship_order(reference, {"notify": False}, actor=ADMIN)
    assert order_and_payment(rpc, probe, reference) == before
    assert len(calls(fake_psp, "POST", f"/v1/payment_intents/{pid}/capture")) == 1

    # PayPal: the authorization names its own expiration_time
    fake_psp.paypal_authorization_valid = timedelta(seconds=-60)
    try:
        paypal = place_order("paypal", total="12.00", currency="EUR")
        ppo = probe.payment(paypal).psp_reference
        assert fake_psp.deliver_paypal(fake_psp.approve_paypal_order(ppo)) == [200]
        wait_for(lambda: probe.status(paypal) == "authorized", message="PayPal authorised")
    finally:
        fake_psp.paypal_authorization_valid = timedelta(days=29)
    wait_for(
        lambda: paypal in rpc.payments.reconcile_now(3600)["authorizations_expired"],
        interval=0.2,
        message="the lapsed PayPal authorisation flagged",
    )
    assert rpc.payments.get_payment(paypal)["authorization_expired"] is True
    wait_for(lambda: order_status(rpc, paypal) == "new", message="order released")
    settle(paypal)
    before = order_and_payment(rpc, probe, paypal)
    with pytest.raises(Conflict, match="AUTHORIZATION_EXPIRED"):
        rpc.orders.ship_order(paypal, {"notify": False}, actor=ADMIN)
    assert order_and_payment(rpc, probe, paypal) == before


def test_every_way_of_shipping_captures_first(place_order, fake_psp, rpc, probe, settle):
    """A status change and a bulk change to shipped capture like the ship does."""
    by_status, good, declined = (place_order("card", total="11.00") for _ in range(3))
    pids = {ref: authorize_stripe(fake_psp, rpc, probe, ref) for ref in (by_status, good, declined)}
    declined_history = len(rpc.orders.order_history(declined))
    assert rpc.orders.change_status(by_status, {"status": "shipped"}, actor=ADMIN)["status"] == "shipped"
    fake_psp.program(
        "POST",
        f"/v1/payment_intents/{pids[declined]}/capture",
        error(402, "insufficient_funds", "Your card has insufficient funds.", "card_error"),
    )
    result = rpc.orders.bulk_change_status({"references": [good, declined], "status": "shipped"}, actor=ADMIN)
    outcome = {r["reference"]: r for r in result["results"]}
    assert outcome[good]["ok"] and not outcome[declined]["ok"]
    assert outcome[declined]["problem"]["status"] == 409
    assert "insufficient_funds" in outcome[declined]["problem"]["detail"]
    settle(declined)
    assert len(rpc.orders.order_history(declined)) == declined_history
    assert [order_status(rpc, ref) for ref in (by_status, good, declined)] == ["shipped", "shipped", "new"]
    assert [probe.status(ref) for ref in (by_status, good, declined)] == ["paid", "paid", "authorized"]
    for ref in (by_status, good, declined):
        assert len(calls(fake_psp, "POST", f"/v1/payment_intents/{pids[ref]}/capture")) == 1
