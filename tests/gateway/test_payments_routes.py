"""Payments through the gateway: manual bookkeeping, dunning, roles, and the list by payment status."""

import sys

import pytest

from payments.service import PaymentsService
from tests.gateway.orders_data import order_body, order_state, settled
from tests.support.smtp import wait_for
from tests.support.suite import REPO, free_port

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402


@pytest.fixture
def payments_running(runner_factory, service_config):
    psp = FakePSP(stripe_webhook_secret="whsec_gateway_test")
    psp.start()
    config = {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "STRIPE_API_KEY": psp.stripe_api_key,
        "STRIPE_API_BASE": psp.base_url,
        "STRIPE_WEBHOOK_SECRET": "whsec_gateway_test",
        "RECONCILE_INTERVAL_SECONDS": 0,
        "INBOX_POLL_SECONDS": 0.2,
    }
    runner = runner_factory(config, PaymentsService)
    runner.start()
    psp.stripe_webhook_url = f"http://{config['WEB_SERVER_ADDRESS']}/webhooks/stripe"
    runner.psp = psp
    yield runner
    psp.stop()


def payment_of(admin, reference):
    response = admin.get(f"/api/v1/orders/{reference}/payment")
    return response.json() if response.status_code == 200 else None


def test_accountant_books_payments_and_the_list_filters_and_sorts_by_them(admin, client_for, payments_running):
    from datetime import datetime, timezone

    since = datetime.now(timezone.utc).isoformat()
    paid, announced, unpaid = (admin.post("/api/v1/orders", json=order_body()).json()["reference"] for _ in range(3))
    for reference in (paid, announced, unpaid):
        wait_for(lambda: payment_of(admin, reference), timeout=20, interval=0.2, message="the payment record")
    accountant = client_for("accountant")
    for reference, steps in ((paid, ("announced", "paid")), (announced, ("announced",))):
        for status in steps:
            response = accountant.post(
                f"/api/v1/orders/{reference}/payment-status", json={"status": status, "note": "bank"}
            )
            assert response.status_code == 200, response.text
    backwards = accountant.post(f"/api/v1/orders/{paid}/payment-status", json={"status": "unpaid"})
    assert backwards.status_code == 409

    def listed(status):
        items = admin.get(
            "/api/v1/orders", params={"payment_status": status, "created_from": since, "page_size": 200}
        ).json()["items"]
        return {item["reference"] for item in items}

    wait_for(
        lambda: paid in listed("paid") and announced in listed("announced"),
        timeout=20,
        interval=0.2,
        message="the payment status in the order list",
    )
    assert unpaid in listed("unpaid") and paid not in listed("unpaid")
    ordered = [
        item["reference"]
        for item in admin.get(
            "/api/v1/orders", params={"sort": "payment_status", "created_from": since, "page_size": 200}
        ).json()["items"]
    ]
    assert ordered == [unpaid, announced, paid]


def test_agent_may_not_touch_payments_and_nothing_changes(admin, client_for, payments_running):
    reference = admin.post("/api/v1/orders", json=order_body()).json()["reference"]
    before = wait_for(lambda: payment_of(admin, reference), timeout=20, interval=0.2, message="the payment")
    agent = client_for("agent")
    assert agent.post(f"/api/v1/orders/{reference}/refund", json={"amount": "1.00"}).status_code == 403
    assert agent.post(f"/api/v1/orders/{reference}/payment-status", json={"status": "paid"}).status_code == 403
    assert agent.post(f"/api/v1/orders/{reference}/dunning", json={"level": 1}).status_code == 403
    assert agent.get(f"/api/v1/orders/{reference}/payment").status_code == 200
    assert payment_of(admin, reference) == before


def test_dunning_moves_the_order_and_a_bad_level_names_the_field(admin, client_for, payments_running):
    reference = admin.post("/api/v1/orders", json=order_body()).json()["reference"]
    wait_for(lambda: payment_of(admin, reference), timeout=20, interval=0.2, message="the payment")
    admin.post(f"/api/v1/orders/{reference}/ship", json={"notify": False})
    accountant = client_for("accountant")
    before = settled(lambda: (order_state(admin, reference), payment_of(admin, reference)))
    bad = accountant.post(f"/api/v1/orders/{reference}/dunning", json={"level": 3})
    assert bad.status_code == 422 and "level" in bad.json()["errors"]
    assert (order_state(admin, reference), payment_of(admin, reference)) == before
    response = accountant.post(f"/api/v1/orders/{reference}/dunning", json={"level": 1, "notify": False})
    assert response.status_code == 200, response.text
    assert response.json()["dunning_level"] == 1
    detail = admin.get(f"/api/v1/orders/{reference}").json()
    assert detail["status"] == "dunning_1" and detail["payment"]["dunning_level"] == 1


def test_a_flagged_payment_event_is_listed_for_staff_and_shown_on_the_payment(admin, client_for, payments_running):
    psp = payments_running.psp
    reference = admin.post("/api/v1/orders", json=order_body(payment_method="card")).json()["reference"]
    own = wait_for(
        lambda: (p := payment_of(admin, reference)) and p["psp_reference"],
        timeout=20,
        interval=0.2,
        message="the PaymentIntent",
    )
    foreign = psp.create_intent(1, "chf", order_reference=reference)
    event = psp.succeed_intent(foreign)
    assert psp.deliver_stripe(event) == [200]

    def flagged():
        items = admin.get("/api/v1/payments/webhooks/unmatched", params={"order_reference": reference}).json()
        return items["items"] if items["items"] and items["items"][0]["status"] == "flagged" else None

    items = wait_for(flagged, timeout=20, interval=0.2, message="the flagged event listed")
    assert [(i["provider"], i["event_type"], i["provider_event_id"]) for i in items] == [
        ("stripe", "payment_intent.succeeded", event["id"])
    ]
    payment = payment_of(admin, reference)
    assert payment["status"] == "pending" and payment["psp_reference"] == own
    assert [f["provider_event_id"] for f in payment["flagged_events"]] == [event["id"]]
    assert client_for("agent").get("/api/v1/payments/webhooks/unmatched").status_code == 403
    bad = admin.get("/api/v1/payments/webhooks/unmatched", params={"status": "nonsense"})
    assert bad.status_code == 422 and "status" in bad.text
    disputed = admin.get("/api/v1/orders", params={"payment_status": "disputed"})
    assert disputed.status_code == 200
