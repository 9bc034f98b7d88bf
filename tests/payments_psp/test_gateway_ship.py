"""A ship through the HTTP API when the capture at shipment fails: the client sees the PSP's
reason (409) or a 503, and the order stays unshipped."""

import requests
from fake_psp.server import error

from tests.support.suite import wait_for

from .conftest import order_and_payment, order_status


def ship(gateway, reference):
    base, token = gateway
    return requests.post(
        f"{base}/api/v1/orders/{reference}/ship",
        json={"notify": False},
        timeout=60,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_the_api_answers_a_refused_capture_with_409_and_an_unreachable_psp_with_503(
    gateway, place_order, fake_psp, rpc, probe, settle
):
    reference = place_order("card", total="19.00")
    pid = probe.payment(reference).psp_reference
    assert fake_psp.deliver_stripe(fake_psp.authorize_intent(pid)) == [200]
    wait_for(lambda: order_status(rpc, reference) == "new", message="authorised")
    settle(reference)
    before = order_and_payment(rpc, probe, reference)
    path = f"/v1/payment_intents/{pid}/capture"

    fake_psp.program("POST", path, error(500), error(500), error(500))
    answer = ship(gateway, reference)
    assert answer.status_code == 503 and answer.headers["Content-Type"].startswith("application/problem+json")
    settle(reference)
    assert order_and_payment(rpc, probe, reference) == before

    fake_psp.program("POST", path, error(402, "card_declined", "Your card was declined.", "card_error"))
    answer = ship(gateway, reference)
    assert answer.status_code == 409
    assert "card_declined" in answer.json()["detail"]
    assert (order_status(rpc, reference), probe.status(reference)) == ("new", "authorized")
    settle(reference)
    after_refusal = order_and_payment(rpc, probe, reference)
    assert after_refusal == before

    answer = ship(gateway, reference)
    assert answer.status_code == 200 and answer.json()["status"] == "shipped"
    assert probe.status(reference) == "paid"
