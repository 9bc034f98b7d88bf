"""Webhook signature checks on the raw body (no framework imports).

Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`` where each v1 is
HMAC-SHA256(secret, f"{t}.{raw_body}"). Every configured secret is tried (rotation), the
comparison is constant time (``hmac.compare_digest`` inside the SDK's ``secure_compare``),
and a timestamp outside the tolerance (300 s, both directions) is refused.
"""
import json
import time

import stripe

STRIPE_TOLERANCE_SECONDS = 300


class InvalidWebhook(Exception):
    """Bad signature, stale timestamp or unreadable body: answer 400, store nothing."""


def parse_secrets(value):
    if not value:
        return []
    if isinstance(value, (list, tuple)):
        return [str(s).strip() for s in value if str(s).strip()]
    return [s.strip() for s in str(value).split(",") if s.strip()]


def verify_stripe(raw_body, signature_header, secrets, tolerance=STRIPE_TOLERANCE_SECONDS, now=None):
    """The verified event as a dict, or InvalidWebhook."""
    if not secrets:
        raise InvalidWebhook("No Stripe webhook secret is configured.")
    if not signature_header:
        raise InvalidWebhook("Missing Stripe-Signature header.")
    try:
        body = raw_body.decode("utf-8") if isinstance(raw_body, (bytes, bytearray)) else raw_body
    except UnicodeDecodeError:
        raise InvalidWebhook("The body is not UTF-8.") from None
    verified = False
    for secret in secrets:
        try:
            # tolerance is checked below, in both directions and against our clock
            stripe.WebhookSignature.verify_header(body, signature_header, secret, tolerance=None)
            verified = True
            break
        except stripe.SignatureVerificationError:
            continue
    if not verified:
        raise InvalidWebhook("The Stripe signature does not match.")
    timestamp = _stripe_timestamp(signature_header)
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise InvalidWebhook(f"The Stripe timestamp is outside the {tolerance} s tolerance.")
    event = _json_object(body)
    if not event.get("id") or not event.get("type"):
        raise InvalidWebhook("The event has no id or type.")
    return event


def _stripe_timestamp(header):
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise InvalidWebhook("The Stripe-Signature header has no timestamp.")


def _json_object(body):
    try:
        event = json.loads(body)
    except ValueError:
        raise InvalidWebhook("The body is not JSON.") from None
    if not isinstance(event, dict):
        raise InvalidWebhook("The body is not a JSON object.")
    return event


def parse_paypal(raw_body):
    try:
        body = raw_body.decode("utf-8") if isinstance(raw_body, (bytes, bytearray)) else raw_body
    except UnicodeDecodeError:
        raise InvalidWebhook("The body is not UTF-8.") from None
    event = _json_object(body)
    if not event.get("id") or not event.get("event_type"):
        raise InvalidWebhook("The event has no id or event_type.")
    return event
