"""Stripe-Signature read exactly as Stripe writes it, through the real listener."""

import json
import time

import pytest
import requests

from payments.webhooks import InvalidWebhook, parse_stripe_signature, verify_stripe

from .conftest import STRIPE_SECRET, wait_for


def _parts(fake_psp, body, timestamp):
    """(t, v1) of a correct signature over ``body`` at ``timestamp``."""
    header = fake_psp.sign_stripe(body, timestamp)
    t, v1 = header.split(",")
    return t[2:], v1[3:]


def _post(fake_psp, body, header):
    return requests.post(
        fake_psp.stripe_webhook_url,
        data=body,
        timeout=5,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )


def test_an_old_signed_event_is_refused_in_every_spelling_of_the_header(
    payments_service, submit_order, fake_psp, probe
):
    reference = submit_order("card")
    event = fake_psp.succeed_intent(probe.payment(reference).psp_reference)
    body = json.dumps(event).encode()
    now = int(time.time())
    old, sig = _parts(fake_psp, body, now - 3600)  # signed an hour ago
    variants = [
        f"t={old},v1={sig}",
        f"x=1, t={now},t={old},v1={sig}",
        f"t ={now},t={old},v1={sig}",
        f"t={now},t={old},v1={sig}",
        f"t={old},t={now},v1={sig}",
        f"t={old},v1={sig},",
        f"t={old};v1={sig}",
    ]
    for header in variants:
        response = _post(fake_psp, body, header)
        assert response.status_code == 400, header
        assert response.headers["Content-Type"].startswith("application/problem+json"), header
    assert probe.inbox(provider_event_id=event["id"]) == []

    # the same bytes, signed now in Stripe's own spelling (with a v0 Stripe may add): accepted
    fresh, fresh_sig = _parts(fake_psp, body, now)
    assert _post(fake_psp, body, f"t={fresh},v1={fresh_sig},v0=6ffbb59b2300aae6").status_code == 200
    wait_for(lambda: probe.status(reference) == "paid", message="the correctly signed event applied")


@pytest.mark.parametrize(
    "header",
    [
        "t=1,t=2,v1=ab",
        "t =1,v1=ab",
        "t= 1,v1=ab",
        "t=1, v1=ab",
        "x=1, t=1,v1=ab",
        "t=1,v1=ab,",
        ",t=1,v1=ab",
        "t=1,v1",
        "t=abc,v1=ab",
        "t=-1,v1=ab",
        "t=1",
        "v1=ab",
        "T=1,v1=ab",
        "t=1,,v1=ab",
        "t=1\t,v1=ab",
    ],
)
def test_malformed_headers_are_refused_before_any_signature_check(header):
    with pytest.raises(InvalidWebhook):
        parse_stripe_signature(header)


def test_the_one_timestamp_is_the_one_the_signature_covers():
    body = '{"id": "evt_1", "type": "payment_intent.succeeded"}'
    import stripe

    now = int(time.time())
    header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET, timestamp=now)
    assert parse_stripe_signature(header + ",v1=00,v0=ff") == (now, [header.split("v1=")[1], "00"])
    assert verify_stripe(body, header, [STRIPE_SECRET], now=now)["id"] == "evt_1"
    stale = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET, timestamp=now - 3600)
    with pytest.raises(InvalidWebhook):
        verify_stripe(body, stale, [STRIPE_SECRET], now=now)
    with pytest.raises(InvalidWebhook):
        verify_stripe(body, f"t={now}," + stale, [STRIPE_SECRET], now=now)
