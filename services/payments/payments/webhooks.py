"""Webhook signature checks on the raw body (no framework imports).

Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]`` where each v1 is
HMAC-SHA256(secret, f"{t}.{raw_body}"). Every configured secret is tried (rotation), the
comparison is constant time (``hmac.compare_digest`` inside the SDK's ``secure_compare``),
and a timestamp outside the tolerance (300 s, both directions) is refused.

The header is read exactly as Stripe writes it: comma-separated ``key=value`` items, no
whitespace, exactly one ``t`` of digits, at least one ``v1``. Anything else is refused
before the SDK sees it, so that the timestamp checked against the tolerance is the very
one the signature covers (the SDK takes the first item whose key is exactly ``t``; a
lenient reader would take another one and could be handed a fresh ``t`` beside an old,
signed one).
"""

import json
import re
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
    timestamp = parse_stripe_signature(signature_header)[0]
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
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        raise InvalidWebhook(f"The Stripe timestamp is outside the {tolerance} s tolerance.")
    event = _json_object(body)
    if not event.get("id") or not event.get("type"):
        raise InvalidWebhook("The event has no id or type.")
    return event


_ITEM = re.compile(r"([a-z][a-z0-9]*)=([A-Za-z0-9_-]+)")
MAX_SIGNATURE_HEADER = 2048


def parse_stripe_signature(header):
    """(timestamp, [v1 signatures]) of a Stripe-Signature header, or InvalidWebhook.

    Strict on purpose: spaces, empty items, an item without ``=``, a repeated ``t`` or a
    ``t`` that is not all digits are refused (Stripe never sends them). Other schemes
    (``v0``) are allowed and ignored, as Stripe's libraries do.
    """
    if not isinstance(header, str) or len(header) > MAX_SIGNATURE_HEADER:
        raise InvalidWebhook("The Stripe-Signature header is malformed.")
    timestamps, signatures = [], []
    for item in header.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            raise InvalidWebhook("The Stripe-Signature header is malformed (expected key=value items, no spaces).")
        key, value = match.groups()
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1:
        raise InvalidWebhook("The Stripe-Signature header must carry exactly one timestamp.")
    if not timestamps[0].isdigit() or len(timestamps[0]) > 12:
        raise InvalidWebhook("The Stripe-Signature timestamp is not a number.")
    if not signatures:
        raise InvalidWebhook("The Stripe-Signature header has no v1 signature.")
    return int(timestamps[0]), signatures


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
