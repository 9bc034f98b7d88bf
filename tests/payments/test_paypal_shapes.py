"""PayPal webhooks in the shapes PayPal really sends, verified through the fake's
verify-webhook-signature endpoint over the raw bytes delivered."""

import json
from decimal import Decimal

import requests

from .conftest import wait_for
from .psp_fixtures import FIXTURES, create_order, deliver_paypal, fixture, paypal_id
from .test_webhooks import ADMIN


def processed(probe, event_id):
    return wait_for(
        lambda: (rows := probe.inbox(provider_event_id=event_id)) and rows[0].status != "received" and rows[0],
        message=f"event {event_id} processed",
    )


def capture_calls(fake_psp, order_id):
    return [c for c in fake_psp.calls if c[1] == f"/v2/checkout/orders/{order_id}/capture"]


def test_verification_carries_the_delivered_bytes_verbatim(payments_service, submit_order, fake_psp, probe):
    reference = submit_order("paypal", total="57.00", currency="USD")
    ppo, cap = probe.payment(reference).psp_reference, paypal_id()
    raw, event_id = fixture("paypal.PAYMENT.CAPTURE.COMPLETED.json", ORDER=reference, PPO=ppo, CAP=cap)
    assert b"https:\\/\\/" in raw  # PayPal's escaped slashes
    assert json.dumps(json.loads(raw)).encode() != raw.strip()  # a re-encoding would differ
    before = len(fake_psp.paypal_verify_requests)
    assert deliver_paypal(fake_psp, raw) == 200
    request = fake_psp.paypal_verify_requests[before]
    assert fake_psp.raw_member(request.decode(), "webhook_event").encode() == raw.strip()
    members = json.loads((FIXTURES / "paypal.verify-webhook-signature.members.json").read_text())
    assert list(json.loads(request)) == members  # as a real verify request
    assert processed(probe, event_id).status == "applied"
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount, payment.psp_capture_id) == ("paid", Decimal("57.00"), cap)


def test_the_fake_refuses_a_re_encoded_body(payments_service, fake_psp):
    raw, _ = fixture("paypal.PAYMENT.CAPTURE.REFUNDED.json", CAP=paypal_id(), PPREF=paypal_id())
    headers = fake_psp.paypal_headers(raw)
    token = requests.post(
        f"{fake_psp.base_url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(fake_psp.paypal_client_id, fake_psp.paypal_client_secret),
        timeout=5,
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/json"}
    head = {
        "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
        "cert_url": headers["PAYPAL-CERT-URL"],
        "auth_algo": "SHA256withRSA",
        "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
        "webhook_id": fake_psp.paypal_webhook_id,
    }
    url = f"{fake_psp.base_url}/v1/notifications/verify-webhook-signature"
    re_encoded = requests.post(url, json=dict(head, webhook_event=json.loads(raw)), headers=auth, timeout=5)
    assert re_encoded.json()["verification_status"] == "FAILURE"
    verbatim = json.dumps(head).encode()[:-1] + b', "webhook_event": ' + raw.strip() + b"}"
    assert requests.post(url, data=verbatim, headers=auth, timeout=5).json()["verification_status"] == "SUCCESS"


def test_an_order_approved_already_completed_is_taken_as_paid_without_a_capture(
    payments_service, submit_order, fake_psp, probe
):
    reference = submit_order("paypal", total="60.00", currency="USD")
    ppo, cap = probe.payment(reference).psp_reference, paypal_id()
    raw, event_id = fixture("paypal.CHECKOUT.ORDER.APPROVED.completed.json", PPO=ppo, CAP=cap)
    assert b'"reference_id":"default"' in raw  # PayPal's default, nobody's reference
    assert deliver_paypal(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount, payment.psp_capture_id) == ("paid", Decimal("60.00"), cap)
    assert capture_calls(fake_psp, ppo) == []


def test_foreign_custom_ids_do_not_block_the_psp_ids(payments_service, submit_order, fake_psp, probe):
    reference = submit_order("paypal", total="43.59", currency="EUR")
    ppo, cap = probe.payment(reference).psp_reference, paypal_id()
    raw, event_id = fixture("paypal.PAYMENT.CAPTURE.COMPLETED.foreign-custom_id.json", PPO=ppo, CAP=cap)
    assert deliver_paypal(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"  # by the order id, not "Order SHOP-JWJGC"
    assert probe.status(reference) == "paid"
    refund = paypal_id()
    raw, event_id = fixture("paypal.PAYMENT.CAPTURE.REFUNDED.foreign-custom_id.json", CAP=cap, PPREF=refund)
    assert deliver_paypal(fake_psp, raw) == 200
    row = processed(probe, event_id)
    assert (row.status, row.order_reference) == ("applied", reference)  # by links[rel=up] → the capture
    payment = probe.payment(reference)
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("43.59"))
    assert [r.psp_refund_id for r in payment.refunds] == [refund]


def test_a_refund_naming_only_its_capture_reaches_the_order(payments_service, submit_order, fake_psp, probe):
    reference = submit_order("paypal", total="57.00", currency="USD")
    ppo, cap = probe.payment(reference).psp_reference, paypal_id()
    raw, _ = fixture("paypal.PAYMENT.CAPTURE.COMPLETED.json", ORDER=reference, PPO=ppo, CAP=cap)
    assert deliver_paypal(fake_psp, raw) == 200
    wait_for(lambda: probe.status(reference) == "paid", message="captured")
    raw, event_id = fixture("paypal.PAYMENT.CAPTURE.REFUNDED.json", CAP=cap, PPREF=paypal_id())
    assert b"custom_id" not in raw and b"invoice_id" not in raw and b"supplementary_data" not in raw
    assert deliver_paypal(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    payment = probe.payment(reference)
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("0.99"))


def test_denied_and_declined_captures_show_as_failed(payments_service, submit_order, fake_psp, probe, rpc):
    denied = submit_order("paypal", total="100.00", currency="EUR")
    raw, event_id = fixture(
        "paypal.PAYMENT.CAPTURE.DENIED.json", ORDER=denied, PPO=probe.payment(denied).psp_reference, CAP=paypal_id()
    )
    assert deliver_paypal(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    assert probe.status(denied) == "failed"

    # an authorised capture that PayPal declines is a failure, not a move "backwards"
    declined = submit_order("paypal", total="185.10", currency="USD")
    ppo, auth = probe.payment(declined).psp_reference, paypal_id()
    authorized = fake_psp.paypal_event(
        "PAYMENT.AUTHORIZATION.CREATED",
        {
            "id": auth,
            "status": "CREATED",
            "amount": {"currency_code": "USD", "value": "185.10"},
            "custom_id": declined,
            "supplementary_data": {"related_ids": {"order_id": ppo}},
        },
        resource_type="authorization",
    )
    assert fake_psp.deliver_paypal(authorized) == [200]
    wait_for(lambda: probe.status(declined) == "authorized", message="authorised")
    raw, event_id = fixture(
        "paypal.PAYMENT.CAPTURE.DECLINED.authorization.json", ORDER=declined, PPO=ppo, AUTH=auth, CAP=paypal_id()
    )
    assert deliver_paypal(fake_psp, raw) == 200
    assert processed(probe, event_id).status == "applied"
    detail = rpc.payments.get_payment(declined)
    assert (detail["status"], detail["psp_capture_status"]) == ("failed", "DECLINED")


def test_approve_capture_refund_story(orders_service, payments_service, fake_psp, probe, rpc):
    reference = create_order(rpc, probe, "20.00", "EUR", method="paypal")
    ppo = probe.payment(reference).psp_reference
    approved = fake_psp.approve_paypal_order(ppo)
    assert "Zoë" in fake_psp.paypal_body(approved).decode()  # raw non-ASCII, as PayPal sends it
    # PayPal retries a webhook (same id) and may send APPROVED again (new ids): all three arrive
    second = dict(approved, id=approved["id"][:-3] + "ZZ2")
    third = dict(approved, id=approved["id"][:-3] + "ZZ3")
    for event in (approved, approved, second, third):
        assert fake_psp.deliver_paypal(event) == [200]
    wait_for(
        lambda: all(
            probe.inbox(provider_event_id=e["id"]) and probe.inbox(provider_event_id=e["id"])[0].status != "received"
            for e in (approved, second, third)
        ),
        message="all approvals processed",
    )
    captures = fake_psp.paypal_orders[ppo]["purchase_units"][0]["payments"]["captures"]
    assert len(captures) == 1 and captures[0]["status"] == "COMPLETED"
    assert {c[2] for c in capture_calls(fake_psp, ppo)} == {f"oms-capture-{ppo}"}
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount, payment.psp_capture_id) == (
        "paid",
        Decimal("20.00"),
        captures[0]["id"],
    )
    assert [e["status"] for e in probe.events(reference)] == ["paid"]
    wait_for(lambda: rpc.orders.get_order(reference)["status"] == "new", message="the order moving on once")
    history = rpc.orders.order_history(reference)
    assert len([h for h in history if h["action"] == "payment_status_changed"]) == 1

    # a refund made in PayPal's dashboard: no custom_id, only the capture in links[rel=up]
    dashboard = fake_psp.refund_paypal_capture(captures[0]["id"], "5.00")
    assert "custom_id" not in dashboard["resource"]
    assert fake_psp.deliver_paypal(dashboard) == [200]
    wait_for(lambda: probe.status(reference) == "partially_refunded", message="the dashboard refund")
    rest = rpc.payments.refund_payment(reference, {"reason": "returned"}, ADMIN)
    assert (rest["status"], rest["refunded_amount"]) == ("refunded", "20.00")
    # PayPal's own event for the refund OMS made changes nothing more
    own = fake_psp.paypal_refunds[rest["refunds"][-1]["psp_refund_id"]]
    echo = fake_psp.paypal_event("PAYMENT.CAPTURE.REFUNDED", own, resource_type="refund")
    assert fake_psp.deliver_paypal(echo) == [200]
    assert processed(probe, echo["id"]).status == "ignored"
    assert [e["status"] for e in probe.events(reference)] == ["paid", "partially_refunded", "refunded"]
    assert probe.payment(reference).refunded_amount == Decimal("20.00")


def test_a_refused_capture_leaves_the_order_waiting_for_the_buyer_visibly(
    payments_service, submit_order, fake_psp, probe, rpc
):
    reference = submit_order("paypal", total="30.00", currency="EUR")
    ppo = probe.payment(reference).psp_reference
    fake_psp.paypal_capture_refusal = "INSTRUMENT_DECLINED"
    try:
        event = fake_psp.approve_paypal_order(ppo)
        assert fake_psp.deliver_paypal(event) == [200]
        processed(probe, event["id"])
    finally:
        fake_psp.paypal_capture_refusal = None
    detail = rpc.payments.get_payment(reference)
    assert (detail["status"], detail["psp_capture_status"]) == ("pending", "refused")
    assert "INSTRUMENT_DECLINED" in detail["failure_reason"]
    assert probe.events(reference) == []
    assert probe.audit(reference, "psp_capture_refused")
    # the buyer chooses another funding source and approves again: captured and paid
    again = fake_psp.approve_paypal_order(ppo)
    again["id"] = again["id"][:-3] + "RE2"
    assert fake_psp.deliver_paypal(again) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="captured after the second approval")


def test_reconciliation_captures_an_approved_order_whose_webhook_was_lost(
    payments_service, submit_order, fake_psp, probe, rpc
):
    reference = submit_order("paypal", total="12.00", currency="EUR")
    ppo = probe.payment(reference).psp_reference
    fake_psp.approve_paypal_order(ppo)  # never delivered
    summary = rpc.payments.reconcile_now(0)
    assert reference in summary["completed"]
    payment = probe.payment(reference)
    assert (payment.status, payment.captured_amount) == ("paid", Decimal("12.00"))
    assert len(capture_calls(fake_psp, ppo)) == 1


def test_an_event_that_matches_nothing_is_listed_for_staff(payments_service, fake_psp, probe, rpc):
    raw, event_id = fixture("paypal.PAYMENT.CAPTURE.REFUNDED.json", CAP=paypal_id(), PPREF=paypal_id())
    assert deliver_paypal(fake_psp, raw) == 200
    row = processed(probe, event_id)
    assert row.status == "unmatched"
    listed = rpc.payments.list_unmatched_webhook_events({"provider": "paypal", "status": ["unmatched"]})["items"]
    item = next(i for i in listed if i["provider_event_id"] == event_id)
    assert (item["provider"], item["event_type"], item["amount"], item["currency"]) == (
        "paypal",
        "PAYMENT.CAPTURE.REFUNDED",
        "0.99",
        "USD",
    )
