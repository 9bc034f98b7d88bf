"""Stripe PaymentIntents, Refunds and Disputes through the official SDK, as ``PspUpdate``."""

from datetime import datetime, timedelta, timezone

import stripe

from ..amounts import from_minor, to_minor
from ..currencies import CurrencyError
from ..provider_settings import AUTHORIZATION_VALID_DAYS
from ..psp_reports import PspUpdate
from .base import Adapter, PspError, PspNotConfigured, refund_status, retry_after

STRIPE_STATUS = {
    "payment_intent.succeeded": "paid",
    "payment_intent.amount_capturable_updated": "authorized",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "voided",
}
STRIPE_INTENT_STATUS = {"succeeded": "paid", "requires_capture": "authorized", "canceled": "voided"}


class StripeAdapter(Adapter):
    """Stripe PaymentIntents and Refunds through the official SDK (StripeClient)."""

    name = "stripe"

    def __init__(self, api_key, api_base=None, timeout=10, max_network_retries=2, capture_mode="checkout"):
        self.api_key = api_key
        self.capture_mode = capture_mode
        self.api_base = api_base
        self._client = None
        if api_key:
            options = {
                "max_network_retries": max_network_retries,
                "http_client": stripe.RequestsClient(timeout=timeout),
            }
            if api_base:
                options["base_addresses"] = {"api": api_base.rstrip("/")}
            self._client = stripe.StripeClient(api_key, **options)

    @property
    def configured(self):
        return self._client is not None

    def _call(self, fn, *args, **kwargs):
        if self._client is None:
            raise PspNotConfigured("Stripe is not configured (OMS_STRIPE_API_KEY).")
        try:
            return fn(*args, **kwargs)
        except (stripe.InvalidRequestError, stripe.CardError, stripe.IdempotencyError) as error:
            code = f" ({error.code})" if getattr(error, "code", None) else ""
            raise PspError(f"Stripe refused: {error.user_message or error}{code}", retryable=False) from error
        except stripe.StripeError as error:
            raise PspError(
                f"Stripe: {error.user_message or error}", retry_after=retry_after(getattr(error, "headers", None))
            ) from error

    def create_payment(self, reference, amount, currency, key):
        params = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "metadata": {"order_reference": reference},
            "description": f"Order {reference}",
        }
        if self.capture_mode == "on_ship":
            params["capture_method"] = "manual"  # the card is authorised; the ship captures
        intent = self._call(
            lambda: self._client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
        )
        return {"psp_reference": intent.id, "status": intent.status, "capture_mode": self.capture_mode}

    def capture(self, payment, key):
        """Captures an authorised PaymentIntent (``requires_capture``) in full."""
        intent = self._call(
            lambda: self._client.v1.payment_intents.capture(payment.psp_reference, options={"idempotency_key": key})
        )
        return self._update_from_intent(intent.to_dict(), intent.status)

    def retrieve(self, psp_reference):
        intent = self._call(lambda: self._client.v1.payment_intents.retrieve(psp_reference))
        return self._update_from_intent(intent.to_dict(), intent.status), intent.status

    def refund(self, payment, amount, key, reason=None):
        refund = self._call(
            lambda: self._client.v1.refunds.create(
                params={
                    "payment_intent": payment.psp_reference,
                    "amount": to_minor(amount, payment.currency),
                    "metadata": {"order_reference": payment.order_reference, "reason": (reason or "")[:500]},
                },
                options={"idempotency_key": key},
            )
        )
        return {
            "refund_id": refund.id,
            "amount": from_minor(refund.amount, payment.currency),
            "status": refund_status(refund.status),
        }

    def void(self, payment, key):
        if not payment.psp_reference:
            return {"status": "canceled"}
        intent = self._call(
            lambda: self._client.v1.payment_intents.cancel(
                payment.psp_reference,
                params={"cancellation_reason": "requested_by_customer"},
                options={"idempotency_key": key},
            )
        )
        return {"status": intent.status}

    @staticmethod
    def _update_from_intent(obj, intent_status, event_type=None):
        currency = (obj.get("currency") or "").upper() or None
        status = STRIPE_STATUS.get(event_type) if event_type else STRIPE_INTENT_STATUS.get(intent_status)
        if event_type is None and intent_status == "requires_payment_method" and obj.get("last_payment_error"):
            status = "failed"
        error = obj.get("last_payment_error") or {}
        ids = {"intent": obj.get("id"), "charge": _stripe_id(obj.get("latest_charge"))}
        charges = ((obj.get("charges") or {}).get("data")) or []  # API versions before 2022-11-15
        if not ids["charge"] and charges:
            ids["charge"] = _stripe_id(charges[0])
        update = PspUpdate(
            order_reference=(obj.get("metadata") or {}).get("order_reference"),
            kind="payment",
            psp_reference=obj.get("id"),
            status=status,
            currency=currency,
            ids=ids,
            detail=error.get("message") if status == "failed" else None,
        )
        if status == "authorized" and charges:  # older API versions show the card's capture deadline
            before = (((charges[0].get("payment_method_details") or {}).get("card")) or {}).get("capture_before")
            if isinstance(before, int):
                update.authorization_expires_at = datetime.fromtimestamp(before, timezone.utc)
        try:
            if currency is None:
                raise CurrencyError("The PaymentIntent names no currency.")
            if obj.get("amount") is not None:
                update.requested = from_minor(obj["amount"], currency)
            if status == "paid" and obj.get("amount_received") is not None:
                update.captured = from_minor(obj["amount_received"], currency)
        except CurrencyError as error:
            update.invalid = str(error)
        return update

    @staticmethod
    def describe_event(event):
        """(event_id, event_type, order_reference, psp_reference) from a verified event body."""
        obj = ((event.get("data") or {}).get("object")) or {}
        reference = (obj.get("metadata") or {}).get("order_reference") if isinstance(obj, dict) else None
        psp_reference = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
        return event.get("id"), event.get("type"), reference, psp_reference

    def parse_event(self, event):
        event_type = event.get("type")
        obj = ((event.get("data") or {}).get("object")) or {}
        if event_type in STRIPE_STATUS:
            update = self._update_from_intent(obj, obj.get("status"), event_type)
            created = event.get("created")
            if update.status == "authorized" and update.authorization_expires_at is None and isinstance(created, int):
                # Stripe holds a card authorisation for 7 days from when it was made
                update.authorization_expires_at = datetime.fromtimestamp(created, timezone.utc) + timedelta(
                    days=AUTHORIZATION_VALID_DAYS["stripe"]
                )
            return update
        reference = (obj.get("metadata") or {}).get("order_reference")
        currency = (obj.get("currency") or "").upper() or None
        if event_type == "charge.refunded":
            update = PspUpdate(
                order_reference=reference,
                kind="refund",
                currency=currency,
                ids={"charge": obj.get("id"), "intent": obj.get("payment_intent")},
            )
            listed = (obj.get("refunds") or {}).get("data") if isinstance(obj.get("refunds"), dict) else None
            try:
                update.captured = from_minor(obj.get("amount_captured") or 0, currency)
                if listed:  # API versions that expand the charge's refunds: each with its status
                    update.refunds = [_stripe_refund(r, currency) for r in listed]
                else:  # newer versions: only the charge's total (counted when it grows)
                    update.refunded_total = from_minor(obj.get("amount_refunded") or 0, currency)
            except CurrencyError as error:
                update.invalid = str(error)
            return update
        if event_type in STRIPE_REFUND_EVENTS:
            update = _update_about("refund", obj, reference, currency)
            try:
                update.refunds = [_stripe_refund(obj, currency)]
            except CurrencyError as error:
                update.invalid = str(error)
            return update
        if event_type in STRIPE_DISPUTE_EVENTS:
            update = _update_about("dispute", obj, reference, currency)
            due = (obj.get("evidence_details") or {}).get("due_by")
            try:
                update.dispute = {
                    "id": obj.get("id"),
                    "amount": from_minor(obj.get("amount") or 0, currency),
                    "status": str(obj.get("status") or "needs_response")[:40],
                    "reason": str(obj.get("reason") or "")[:120] or None,
                    "due_by": datetime.fromtimestamp(due, timezone.utc) if isinstance(due, int) else None,
                }
            except CurrencyError as error:
                update.invalid = str(error)
            return update
        return None


STRIPE_REFUND_EVENTS = ("charge.refund.updated", "refund.created", "refund.updated", "refund.failed")
STRIPE_DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")


def _stripe_id(value):
    """An id that Stripe sends as a string, or expanded as an object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else None


def _update_about(kind, obj, reference, currency):
    """The update of a refund or dispute event: its own id first, then the charge and intent it names."""
    return PspUpdate(
        order_reference=reference,
        kind=kind,
        currency=currency,
        ids={
            kind: obj.get("id"),
            "charge": _stripe_id(obj.get("charge")),
            "intent": _stripe_id(obj.get("payment_intent")),
        },
    )


def _stripe_refund(obj, currency):
    return {
        "id": obj.get("id"),
        "amount": from_minor(obj.get("amount") or 0, (obj.get("currency") or currency)),
        "status": refund_status(obj.get("status")),
        "failure_reason": obj.get("failure_reason"),
    }
