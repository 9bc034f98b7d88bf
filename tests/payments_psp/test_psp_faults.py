"""What OMS does when the PSP fails: retries with the same idempotency key, 503 to the client
(the payments RPC's answer, which the gateway passes on), reconciliation after errors, refunds
that settle later, unknown ids refused as the real APIs refuse them."""

from decimal import Decimal

import pytest
from fake_psp.server import PASS, delay, error, rate_limited

from oms_common.problems import Conflict, ServiceUnavailable
from tests.support.suite import wait_for

from .conftest import ADMIN, PSP_TIMEOUT, calls, order_and_payment


def paid_stripe(place_order, fake_psp, probe, total="40.00"):
    """A card payment Stripe reports paid (its webhook)."""
    reference = place_order("card", total=total)
    pid = probe.payment(reference).psp_reference
    assert fake_psp.deliver_stripe(fake_psp.succeed_intent(pid)) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="paid")
    return reference, pid


def paid_paypal(place_order, fake_psp, probe, total="40.00"):
    reference = place_order("paypal", total=total, currency="EUR")
    ppo = probe.payment(reference).psp_reference
    assert fake_psp.deliver_paypal(fake_psp.capture_paypal_order(ppo)) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="paid")
    return reference, probe.payment(reference).psp_capture_id


def stripe_refunds_of(fake_psp, pid):
    return [r for r in fake_psp.refunds.values() if r["payment_intent"] == pid]


def test_stripe_5xx_is_retried_with_the_same_idempotency_key(place_order, fake_psp, rpc, probe):
    reference, pid = paid_stripe(place_order, fake_psp, probe)
    fake_psp.program("POST", "/v1/refunds", error(500), error(503))
    before = len(calls(fake_psp, "POST", "/v1/refunds"))

    result = rpc.payments.refund_payment(reference, {"amount": "10.00", "reason": "Late"}, actor=ADMIN)
    assert (result["status"], result["refunded_amount"]) == ("partially_refunded", "10.00")
    tries = calls(fake_psp, "POST", "/v1/refunds")[before:]
    assert len(tries) == 3 and len({key for _, _, key in tries}) == 1 and tries[0][2].startswith("oms-refund-")
    assert [r["amount"] for r in stripe_refunds_of(fake_psp, pid)] == [1000]


def test_a_lost_answer_is_retried_and_refunds_once(place_order, fake_psp, rpc, probe):
    """The first call is made at the PSP but answers after the client gave up; the retry with
    the same key gets the stored result."""
    reference, pid = paid_stripe(place_order, fake_psp, probe)
    fake_psp.program("POST", "/v1/refunds", delay(PSP_TIMEOUT * 3))
    before = len(calls(fake_psp, "POST", "/v1/refunds"))

    result = rpc.payments.refund_payment(reference, {"amount": "15.00"}, actor=ADMIN)
    assert result["refunded_amount"] == "15.00"
    # the late first call is recorded when it is handled, after the retry
    wait_for(lambda: len(calls(fake_psp, "POST", "/v1/refunds")) - before == 2, message="the late call handled")
    tries = calls(fake_psp, "POST", "/v1/refunds")[before:]
    assert len({key for _, _, key in tries}) == 1
    assert [r["amount"] for r in stripe_refunds_of(fake_psp, pid)] == [1500]
    assert [r.amount for r in probe.payment(reference).refunds] == [Decimal("15.000")]


def test_rate_limits_and_outages_answer_503_and_change_nothing(place_order, fake_psp, rpc, probe, settle):
    # Stripe: 429 is not retried by the SDK; the client is told to come back
    reference, pid = paid_stripe(place_order, fake_psp, probe)
    fake_psp.program("POST", "/v1/refunds", rate_limited(retry_after=2))
    settle(reference)
    before = order_and_payment(rpc, probe, reference)
    with pytest.raises(ServiceUnavailable, match="retry after 2 s"):
        rpc.payments.refund_payment(reference, {"amount": "5.00"}, actor=ADMIN)
    assert order_and_payment(rpc, probe, reference) == before
    payment = rpc.payments.get_payment(reference)
    assert (payment["status"], payment["refunded_amount"], payment["refunds"]) == ("paid", "0.00", [])
    assert stripe_refunds_of(fake_psp, pid) == []
    # the client's retry carries the same key and refunds once
    assert rpc.payments.refund_payment(reference, {"amount": "5.00"}, actor=ADMIN)["refunded_amount"] == "5.00"
    keys = [
        key
        for _, path, key in calls(fake_psp, "POST", "/v1/refunds")
        if key and key.startswith(f"oms-refund-{reference}-")
    ]
    assert len(keys) == 2 and len(set(keys)) == 1

    # PayPal: 503 and 429 (no retries in the adapter) → 503 to the client, the retry refunds once
    reference, capture = paid_paypal(place_order, fake_psp, probe)
    path = f"/v2/payments/captures/{capture}/refund"
    fake_psp.program("POST", path, error(503), rate_limited(retry_after=1))
    with pytest.raises(ServiceUnavailable, match="503"):
        rpc.payments.refund_payment(reference, {"amount": "12.00"}, actor=ADMIN)
    with pytest.raises(ServiceUnavailable, match="429 .*retry after 1 s"):
        rpc.payments.refund_payment(reference, {"amount": "12.00"}, actor=ADMIN)
    assert rpc.payments.get_payment(reference)["refunds"] == []
    assert rpc.payments.refund_payment(reference, {"amount": "12.00"}, actor=ADMIN)["refunded_amount"] == "12.00"
    tries = calls(fake_psp, "POST", path)
    assert len(tries) == 3 and len({key for _, _, key in tries}) == 1
    assert len([r for r in fake_psp.paypal_refunds.values() if f"/captures/{capture}" in str(r["links"])]) == 1


def test_a_capture_at_shipment_the_psp_cannot_answer_is_503_and_nothing_ships(
    place_order, fake_psp, rpc, probe, settle
):
    reference = place_order("card", total="22.00")
    pid = probe.payment(reference).psp_reference
    assert fake_psp.deliver_stripe(fake_psp.authorize_intent(pid)) == [200]
    wait_for(lambda: rpc.orders.get_order(reference)["status"] == "new", message="authorised")
    path = f"/v1/payment_intents/{pid}/capture"
    fake_psp.program("POST", path, error(500), error(502), error(503))  # the SDK's two retries too
    settle(reference)
    before = order_and_payment(rpc, probe, reference)
    with pytest.raises(ServiceUnavailable):
        rpc.orders.ship_order(reference, {"notify": False}, actor=ADMIN)
    settle(reference)
    assert rpc.orders.get_order(reference)["status"] == "new"
    assert order_and_payment(rpc, probe, reference) == before
    assert (probe.status(reference), fake_psp.intents[pid]["status"]) == ("authorized", "requires_capture")
    assert rpc.orders.ship_order(reference, {"notify": False}, actor=ADMIN)["status"] == "shipped"
    keys = [key for _, _, key in calls(fake_psp, "POST", path)]
    assert len(keys) == 4 and set(keys) == {f"oms-ship-capture-{pid}"}
    assert probe.status(reference) == "paid"


def test_reconciliation_survives_psp_errors_and_completes_later(place_order, fake_psp, rpc, probe):
    reference = place_order("card", total="18.00")
    pid = probe.payment(reference).psp_reference
    fake_psp.succeed_intent(pid)  # paid at Stripe; the webhook is lost
    fake_psp.program("GET", f"/v1/payment_intents/{pid}", error(500), error(500), error(500))
    summary = rpc.payments.reconcile_now(0)
    assert reference in [e["order_reference"] for e in summary["errors"]]
    assert probe.status(reference) == "pending"
    # asked again once its lease (RECONCILE_RECHECK_SECONDS) ran out
    wait_for(
        lambda: reference in rpc.payments.reconcile_now(0)["completed"], timeout=15, interval=0.3, message="reconciled"
    )
    assert (probe.status(reference), probe.payment(reference).captured_amount) == ("paid", Decimal("18.000"))


def test_refunds_that_stay_pending_settle_later_with_their_webhook(place_order, fake_psp, rpc, probe, settle):
    reference, pid = paid_stripe(place_order, fake_psp, probe, total="60.00")
    fake_psp.refund_status = "pending"
    try:
        first = rpc.payments.refund_payment(reference, {"amount": "20.00"}, actor=ADMIN)
        second = rpc.payments.refund_payment(reference, {"amount": "25.00"}, actor=ADMIN)
    finally:
        fake_psp.refund_status = None
    assert (first["status"], first["refunded_amount"], first["pending_refund_amount"]) == ("paid", "0.00", "20.00")
    assert (second["refunded_amount"], second["pending_refund_amount"], second["refundable_amount"]) == (
        "0.00",
        "45.00",
        "60.00",
    )
    succeeded, failed = sorted(stripe_refunds_of(fake_psp, pid), key=lambda r: r["amount"])

    assert fake_psp.deliver_stripe(fake_psp.refund_event(succeeded["id"], "succeeded")) == [200]
    wait_for(lambda: probe.payment(reference).refunded_amount == Decimal("20.000"), message="refund counted")
    assert fake_psp.deliver_stripe(fake_psp.refund_event(failed["id"], "failed", "lost_or_stolen_card")) == [200]
    settle(reference)
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["refunded_amount"], detail["pending_refund_amount"]) == (
        "partially_refunded",
        "20.00",
        "0.00",
    )
    assert sorted((r["amount"], r["status"]) for r in detail["refunds"]) == [
        ("20.00", "succeeded"),
        ("25.00", "failed"),
    ]
    assert [e["status"] for e in probe.events(reference)] == ["paid", "partially_refunded"]

    # PayPal: a pending refund completes later (PAYMENT.CAPTURE.REFUNDED without custom_id)
    paypal, capture = paid_paypal(place_order, fake_psp, probe, total="30.00")
    fake_psp.refund_status = "pending"
    try:
        pending = rpc.payments.refund_payment(paypal, {"amount": "30.00"}, actor=ADMIN)
    finally:
        fake_psp.refund_status = None
    assert (pending["status"], pending["pending_refund_amount"]) == ("paid", "30.00")
    rid = pending["refunds"][0]["psp_refund_id"]
    event = fake_psp.settle_paypal_refund(rid)
    assert "custom_id" not in event["resource"]
    assert fake_psp.deliver_paypal(event) == [200]
    wait_for(lambda: probe.status(paypal) == "refunded", message="PayPal refund completed")
    assert probe.payment(paypal).refunded_amount == Decimal("30.000")


def test_unknown_ids_are_refused_as_the_real_apis_refuse_them(place_order, fake_psp, rpc, probe, settle):
    # Stripe: a PaymentIntent the PSP does not know → resource_missing, a 409 naming it, nothing changed
    reference, pid = paid_stripe(place_order, fake_psp, probe)
    with fake_psp.lock:
        fake_psp.intents.pop(pid)
    settle(reference)
    before = order_and_payment(rpc, probe, reference)
    with pytest.raises(Conflict, match="resource_missing"):
        rpc.payments.refund_payment(reference, {"amount": "1.00"}, actor=ADMIN)
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["refunds"]) == ("paid", [])
    settle(reference)
    assert order_and_payment(rpc, probe, reference) == before

    # PayPal: reconciliation of an order PayPal does not know → RESOURCE_NOT_FOUND, left pending
    pending = place_order("paypal", total="9.00", currency="EUR")
    ppo = probe.payment(pending).psp_reference
    with fake_psp.lock:
        fake_psp.paypal_orders.pop(ppo)
    summary = rpc.payments.reconcile_now(0)
    errors = {e["order_reference"]: e["error"] for e in summary["errors"]}
    assert "404" in errors[pending] and "INVALID_RESOURCE_ID" in errors[pending]
    assert probe.status(pending) == "pending"
    # a void of an authorization PayPal does not know is refused too (409), nothing changed
    paypal = place_order("paypal", total="9.00", currency="EUR")
    ppo = probe.payment(paypal).psp_reference
    assert fake_psp.deliver_paypal(fake_psp.approve_paypal_order(ppo)) == [200]
    wait_for(lambda: probe.status(paypal) == "authorized", message="authorised")
    with fake_psp.lock:
        fake_psp.paypal_authorizations.clear()
    settle(paypal)
    before = order_and_payment(rpc, probe, paypal)
    with pytest.raises(Conflict, match="RESOURCE_NOT_FOUND|INVALID_RESOURCE_ID"):
        rpc.payments.refund_payment(paypal, {}, actor=ADMIN)
    assert probe.status(paypal) == "authorized"
    settle(paypal)
    assert order_and_payment(rpc, probe, paypal) == before


def test_programmed_answers_are_used_once_each_then_the_normal_answer(fake_psp):
    """The fake itself: answers in order, one per matching call; PASS gives the normal one."""
    import requests

    fake_psp.program("GET", "/v1/payment_intents/pi_missing*", rate_limited(7), PASS, error(500))
    headers = {"Authorization": f"Bearer {fake_psp.stripe_api_key}"}
    answers = [
        requests.get(f"{fake_psp.base_url}/v1/payment_intents/pi_missing1", headers=headers, timeout=5)
        for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [429, 404, 500, 404]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[1].json()["error"]["code"] == "resource_missing"
    assert answers[2].json()["error"]["type"] == "api_error"


def test_paypal_reconciliation_authorises_a_lost_approval_after_psp_errors(place_order, fake_psp, rpc, probe):
    reference = place_order("paypal", total="33.00", currency="EUR")
    ppo = probe.payment(reference).psp_reference
    fake_psp.approve_paypal_order(ppo)  # approved by the buyer; the webhook is lost
    fake_psp.program("GET", f"/v2/checkout/orders/{ppo}", error(500))
    fake_psp.program("POST", f"/v2/checkout/orders/{ppo}/authorize", error(503))
    summary = rpc.payments.reconcile_now(0)
    assert "500" in {e["order_reference"]: e["error"] for e in summary["errors"]}[reference]
    assert probe.status(reference) == "pending"
    wait_for(
        lambda: (s := rpc.payments.reconcile_now(0)) and reference in [e["order_reference"] for e in s["errors"]],
        timeout=15,
        interval=0.3,
        message="the authorisation refused with 503",
    )
    assert probe.status(reference) == "pending"
    wait_for(
        lambda: reference in rpc.payments.reconcile_now(0)["completed"],
        timeout=15,
        interval=0.3,
        message="authorised by reconciliation",
    )
    payment = probe.payment(reference)
    assert (payment.status, payment.psp_authorization_id) == (
        "authorized",
        fake_psp.paypal_orders[ppo]["purchase_units"][0]["payments"]["authorizations"][0]["id"],
    )
    keys = [key for _, _, key in calls(fake_psp, "POST", f"/v2/checkout/orders/{ppo}/authorize")]
    assert keys == [f"oms-authorize-{ppo}", f"oms-authorize-{ppo}"]
