"""What PayPal reports, read as ``PspUpdate``: captures, orders and webhook events (plain Python,
no HTTP: the adapter calls, this module reads)."""

from datetime import datetime

from ..amounts import money
from ..currencies import CurrencyError, from_paypal_value
from ..psp_reports import PspUpdate
from .base import refund_status


def update_from_capture(capture, authorization_id=None):
    amount = capture.get("amount") or {}
    currency = amount.get("currency_code")
    state = str(capture.get("status") or "")
    update = PspUpdate(
        order_reference=_our_reference(capture),
        currency=currency,
        ids={"capture": capture.get("id"), "authorization": authorization_id},
    )
    try:
        if state in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
            update.status = "paid"
            update.captured = from_paypal_value(amount.get("value"), currency)
        elif state in ("DECLINED", "FAILED"):
            update.status = "failed"
            update.detail = f"PayPal declined the capture ({state})."
        else:
            update.capture_state = state or "PENDING"
            update.detail = _held(state, capture)
    except (CurrencyError, TypeError) as error:
        update.invalid = str(error)
    return update


def update_from_order(order):
    """A PayPal order (webhook resource, GET or capture answer) as a PspUpdate of kind 'approved'."""
    unit = (order.get("purchase_units") or [{}])[0]
    amount = unit.get("amount") or {}
    currency = amount.get("currency_code")
    captures = (unit.get("payments") or {}).get("captures") or []
    authorizations = (unit.get("payments") or {}).get("authorizations") or []
    update = PspUpdate(
        order_reference=_our_reference(unit),
        kind="approved",
        currency=currency,
        ids={"order": order.get("id")},
        order_status=order.get("status"),
    )
    update.order_intent = order.get("intent")
    try:
        if amount.get("value") is not None:
            update.requested = from_paypal_value(amount.get("value"), currency)
        done = [c for c in captures if c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")]
        if done:
            update.status = "paid"
            update.captured = sum(
                (from_paypal_value(c["amount"]["value"], c["amount"]["currency_code"]) for c in done), money(0)
            )
            update.ids["capture"] = done[0].get("id")
        elif captures:
            state = captures[-1].get("status")
            update.ids["capture"] = captures[-1].get("id")
            if state in ("DECLINED", "FAILED"):
                update.status = "failed"
                update.detail = f"PayPal declined the capture ({state})."
            else:
                update.capture_state = str(state or "PENDING")
                update.detail = _held(state, captures[-1])
        elif authorizations:
            # intent AUTHORIZE: money held for the shipment (captured by the ship)
            last = authorizations[-1]
            update.ids["authorization"] = last.get("id")
            if last.get("status") in ("CREATED", "PENDING", "PARTIALLY_CAPTURED"):
                update.status = "authorized"
                update.authorization_expires_at = _paypal_time(last.get("expiration_time"))
            elif last.get("status") in ("DENIED", "EXPIRED"):
                update.status = "failed"
                update.detail = f"PayPal {last.get('status').lower()} the authorization."
            elif last.get("status") == "VOIDED":
                update.status = "voided"
        elif order.get("status") == "VOIDED":
            update.status = "voided"
    except (CurrencyError, KeyError, TypeError) as error:
        update.invalid = f"{type(error).__name__}: {error}" if not isinstance(error, CurrencyError) else str(error)
    return update


def describe_event(event):
    resource = event.get("resource") or {}
    reference = _our_reference(resource)
    if not reference and resource.get("purchase_units"):
        reference = _our_reference(resource["purchase_units"][0])
    related = ((resource.get("supplementary_data") or {}).get("related_ids")) or {}
    psp_reference = related.get("order_id") or (resource.get("id") if "purchase_units" in resource else None)
    return event.get("id"), event.get("event_type"), reference, psp_reference


def parse_event(event):
    event_type = event.get("event_type")
    resource = event.get("resource") or {}
    if event_type in ("CHECKOUT.ORDER.APPROVED", "CHECKOUT.ORDER.COMPLETED"):
        return update_from_order(resource)
    reference = _our_reference(resource)
    related = ((resource.get("supplementary_data") or {}).get("related_ids")) or {}
    amount = resource.get("amount") or {}
    currency = amount.get("currency_code")
    ids = {"order": related.get("order_id"), "authorization": related.get("authorization_id")}

    def value():
        return from_paypal_value(amount.get("value"), currency)

    update = None
    try:
        if event_type == "PAYMENT.CAPTURE.COMPLETED":
            update = PspUpdate(
                order_reference=reference, status="paid", currency=currency, ids=dict(ids, capture=resource.get("id"))
            )
            update.captured = value()
        elif event_type == "PAYMENT.CAPTURE.PENDING":
            update = PspUpdate(
                order_reference=reference,
                currency=currency,
                ids=dict(ids, capture=resource.get("id")),
                capture_state="PENDING",
                detail=_held("PENDING", resource),
            )
        elif event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            update = PspUpdate(
                order_reference=reference,
                status="failed",
                currency=currency,
                ids=dict(ids, capture=resource.get("id")),
                detail=f"PayPal {event_type}",
            )
        elif event_type == "PAYMENT.AUTHORIZATION.CREATED":
            update = PspUpdate(
                order_reference=reference,
                status="authorized",
                currency=currency,
                ids=dict(ids, authorization=resource.get("id")),
                detail={"authorization_id": resource.get("id")},
                authorization_expires_at=_paypal_time(resource.get("expiration_time")),
            )
            if amount.get("value") is not None:
                update.requested = value()
        elif event_type == "PAYMENT.AUTHORIZATION.VOIDED":
            update = PspUpdate(
                order_reference=reference, status="voided", ids=dict(ids, authorization=resource.get("id"))
            )
        elif event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
            # A refund names its capture only through links[rel=up] (often no custom_id at all).
            update = PspUpdate(
                order_reference=reference,
                kind="refund",
                currency=currency,
                ids=dict(ids, refund=resource.get("id"), capture=_link_up(resource, "captures")),
            )
            update.refunds = [
                {
                    "id": resource.get("id"),
                    "amount": value(),
                    "status": refund_status(resource.get("status", "")),
                    "failure_reason": (resource.get("status_details") or {}).get("reason"),
                }
            ]
    except CurrencyError as error:
        update.invalid = str(error) if update is not None else None
        if update is None:
            update = PspUpdate(order_reference=reference, currency=currency, ids=ids, invalid=str(error))
    return update


def _held(state, capture):
    """What a capture PayPal holds shows, with PayPal's reason when it gives one."""
    reason = (capture.get("status_details") or {}).get("reason")
    return f"PayPal holds the capture ({state}{': ' + reason if reason else ''})."


def _paypal_time(value):
    """PayPal's RFC 3339 times (``2026-12-30T10:00:00Z``) as aware datetimes; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


FOREIGN_REFERENCES = frozenset({"default"})  # PayPal's reference_id when a shop sets none


def _our_reference(node):
    """custom_id / invoice_id / reference_id, as OMS sets them; PayPal's 'default' is nobody's."""
    for key in ("custom_id", "invoice_id", "reference_id"):
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str) and value and value not in FOREIGN_REFERENCES:
            return value
    return None


def _link_up(resource, kind):
    for link in resource.get("links") or []:
        href = link.get("href") if isinstance(link, dict) else None
        if link.get("rel") == "up" and isinstance(href, str) and f"/{kind}/" in href:
            return href.rstrip("/").rsplit("/", 1)[-1]
    return None
