"""PSP adapters behind one small interface.

Each adapter speaks its provider's wire format and turns the provider's objects and
webhook events into ``psp_reports.PspUpdate``. Every outgoing mutation carries an idempotency
key, so a retried call (after a timeout, a crash or a redelivered event) never charges,
refunds or cancels twice.

    create_payment(reference, amount, currency, key) -> {"psp_reference", "capture_mode", ...}
    capture(payment, key)                            -> PspUpdate (an authorisation captured at shipment)
    retrieve(psp_reference)                          -> PspUpdate | None (lost callbacks, S9)
    refund(payment, amount, key, reason)             -> {"refund_id", "amount", "status"}
    void(payment, key)                               -> {"status"}
    parse_event(event)                               -> (event_id, event_type, PspUpdate | None)
"""
import base64
import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import requests
import stripe

from .amounts import from_minor, money, to_minor
from .currencies import CurrencyError, from_paypal_value, to_paypal_value
from .domain import CAPABILITIES
from .provider_settings import AUTHORIZATION_VALID_DAYS, capture_modes
from .psp_reports import PspUpdate

log = logging.getLogger(__name__)


class PspError(Exception):
    """The PSP refused (``retryable`` False) or could not be reached (True)."""

    def __init__(self, message, retryable=True, retry_after=None):
        super().__init__(message + (f" (the PSP asks to retry after {retry_after} s)" if retry_after else ""))
        self.retryable = retryable
        self.retry_after = retry_after


def _retry_after(headers):
    """Seconds from a Retry-After header (429 / 503), when it gives a number."""
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        return max(0, int(str(value).strip())) if value is not None else None
    except ValueError:
        return None


class PspNotConfigured(PspError):
    pass


class Adapter:
    name = "abstract"
    capture_mode = "checkout"   # or "on_ship": authorise at checkout, capture when shipped

    @property
    def capabilities(self):
        return CAPABILITIES[self.name]

    @property
    def configured(self):
        return True


# ---------------------------------------------------------------- Stripe

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
            options = {"max_network_retries": max_network_retries,
                       "http_client": stripe.RequestsClient(timeout=timeout)}
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
            raise PspError(f"Stripe: {error.user_message or error}",
                           retry_after=_retry_after(getattr(error, "headers", None))) from error

    def create_payment(self, reference, amount, currency, key):
        params = {"amount": to_minor(amount, currency), "currency": currency.lower(),
                  "metadata": {"order_reference": reference}, "description": f"Order {reference}"}
        if self.capture_mode == "on_ship":
            params["capture_method"] = "manual"   # the card is authorised; the ship captures
        intent = self._call(
            lambda: self._client.v1.payment_intents.create(params=params, options={"idempotency_key": key}))
        return {"psp_reference": intent.id, "status": intent.status, "capture_mode": self.capture_mode}

    def capture(self, payment, key):
        """Captures an authorised PaymentIntent (``requires_capture``) in full."""
        intent = self._call(
            lambda: self._client.v1.payment_intents.capture(payment.psp_reference, options={"idempotency_key": key}))
        return self._update_from_intent(intent.to_dict(), intent.status)

    def retrieve(self, psp_reference):
        intent = self._call(lambda: self._client.v1.payment_intents.retrieve(psp_reference))
        return self._update_from_intent(intent.to_dict(), intent.status), intent.status

    def refund(self, payment, amount, key, reason=None):
        refund = self._call(
            lambda: self._client.v1.refunds.create(
                params={"payment_intent": payment.psp_reference,
                        "amount": to_minor(amount, payment.currency),
                        "metadata": {"order_reference": payment.order_reference, "reason": (reason or "")[:500]}},
                options={"idempotency_key": key}))
        return {"refund_id": refund.id, "amount": from_minor(refund.amount, payment.currency),
                "status": REFUND_STATUS.get(str(refund.status).lower(), "pending")}

    def void(self, payment, key):
        if not payment.psp_reference:
            return {"status": "canceled"}
        intent = self._call(
            lambda: self._client.v1.payment_intents.cancel(
                payment.psp_reference, params={"cancellation_reason": "requested_by_customer"},
                options={"idempotency_key": key}))
        return {"status": intent.status}

    @staticmethod
    def _update_from_intent(obj, intent_status, event_type=None):
        currency = (obj.get("currency") or "").upper() or None
        status = STRIPE_STATUS.get(event_type) if event_type else STRIPE_INTENT_STATUS.get(intent_status)
        if event_type is None and intent_status == "requires_payment_method" and obj.get("last_payment_error"):
            status = "failed"
        error = obj.get("last_payment_error") or {}
        ids = {"intent": obj.get("id"), "charge": _stripe_id(obj.get("latest_charge"))}
        charges = ((obj.get("charges") or {}).get("data")) or []      # API versions before 2022-11-15
        if not ids["charge"] and charges:
            ids["charge"] = _stripe_id(charges[0])
        update = PspUpdate(
            order_reference=(obj.get("metadata") or {}).get("order_reference"), kind="payment",
            psp_reference=obj.get("id"), status=status, currency=currency, ids=ids,
            detail=error.get("message") if status == "failed" else None)
        if status == "authorized" and charges:   # older API versions show the card's capture deadline
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
                    days=AUTHORIZATION_VALID_DAYS["stripe"])
            return update
        reference = (obj.get("metadata") or {}).get("order_reference")
        currency = (obj.get("currency") or "").upper() or None
        if event_type == "charge.refunded":
            update = PspUpdate(order_reference=reference, kind="refund", currency=currency,
                               ids={"charge": obj.get("id"), "intent": obj.get("payment_intent")})
            listed = (obj.get("refunds") or {}).get("data") if isinstance(obj.get("refunds"), dict) else None
            try:
                update.captured = from_minor(obj.get("amount_captured") or 0, currency)
                if listed:   # API versions that expand the charge's refunds: each with its status
                    update.refunds = [_stripe_refund(r, currency) for r in listed]
                else:        # newer versions: only the charge's total (counted when it grows)
                    update.refunded_total = from_minor(obj.get("amount_refunded") or 0, currency)
            except CurrencyError as error:
                update.invalid = str(error)
            return update
        if event_type in STRIPE_REFUND_EVENTS:
            update = PspUpdate(order_reference=reference, kind="refund", currency=currency,
                               ids={"refund": obj.get("id"), "charge": _stripe_id(obj.get("charge")),
                                    "intent": _stripe_id(obj.get("payment_intent"))})
            try:
                update.refunds = [_stripe_refund(obj, currency)]
            except CurrencyError as error:
                update.invalid = str(error)
            return update
        if event_type in STRIPE_DISPUTE_EVENTS:
            update = PspUpdate(order_reference=reference, kind="dispute", currency=currency,
                               ids={"dispute": obj.get("id"), "charge": _stripe_id(obj.get("charge")),
                                    "intent": _stripe_id(obj.get("payment_intent"))})
            due = (obj.get("evidence_details") or {}).get("due_by")
            try:
                update.dispute = {
                    "id": obj.get("id"), "amount": from_minor(obj.get("amount") or 0, currency),
                    "status": str(obj.get("status") or "needs_response")[:40],
                    "reason": str(obj.get("reason") or "")[:120] or None,
                    "due_by": datetime.fromtimestamp(due, timezone.utc) if isinstance(due, int) else None}
            except CurrencyError as error:
                update.invalid = str(error)
            return update
        return None


STRIPE_REFUND_EVENTS = ("charge.refund.updated", "refund.created", "refund.updated", "refund.failed")
STRIPE_DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed")
REFUND_STATUS = {"succeeded": "succeeded", "completed": "succeeded", "pending": "pending",
                 "requires_action": "pending", "failed": "failed", "canceled": "canceled", "cancelled": "canceled"}


def _stripe_id(value):
    """An id that Stripe sends as a string, or expanded as an object."""
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else None


def _stripe_refund(obj, currency):
    return {"id": obj.get("id"), "amount": from_minor(obj.get("amount") or 0, (obj.get("currency") or currency)),
            "status": REFUND_STATUS.get(str(obj.get("status")).lower(), "pending"),
            "failure_reason": obj.get("failure_reason")}


# ---------------------------------------------------------------- PayPal

class PayPalAdapter(Adapter):
    """PayPal Orders v2 (captures, refunds, authorizations) over plain HTTP."""

    name = "paypal"

    def __init__(self, api_base, client_id, client_secret, webhook_id, timeout=10, capture_mode="checkout"):
        self.api_base = (api_base or "").rstrip("/")
        self.capture_mode = capture_mode
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.timeout = timeout
        self._token = None
        self._token_expires = 0
        self._lock = threading.Lock()
        self._http = requests.Session()

    @property
    def configured(self):
        return bool(self.api_base and self.client_id and self.client_secret)

    def _access_token(self):
        with self._lock:
            if self._token and time.time() < self._token_expires - 60:
                return self._token
            auth = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            response = self._http.post(
                f"{self.api_base}/v1/oauth2/token", data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {auth}"}, timeout=self.timeout)
            if response.status_code != 200:
                raise PspError(f"PayPal: authentication failed ({response.status_code}).")
            body = response.json()
            self._token = body["access_token"]
            self._token_expires = time.time() + int(body.get("expires_in", 300))
            return self._token

    def _request(self, method, path, body=None, key=None, raw=None):
        """``raw``: the request body as bytes, sent as they are (verify-webhook-signature)."""
        if not self.configured:
            raise PspNotConfigured("PayPal is not configured (OMS_PAYPAL_*).")
        headers = {"Authorization": f"Bearer {self._access_token()}", "Content-Type": "application/json",
                   "Prefer": "return=representation"}
        if key:
            headers["PayPal-Request-Id"] = key
        try:
            if raw is not None:
                response = self._http.request(method, f"{self.api_base}{path}", data=raw, headers=headers,
                                              timeout=self.timeout)
            else:
                response = self._http.request(method, f"{self.api_base}{path}", json=body, headers=headers,
                                              timeout=self.timeout)
        except requests.RequestException as error:
            raise PspError(f"PayPal: {type(error).__name__}") from error
        if response.status_code >= 400:
            try:
                answer = response.json()
                issues = [d.get("issue") for d in answer.get("details") or [] if isinstance(d, dict)]
                detail = ", ".join(i for i in issues if i) or answer.get("message") or response.text[:200]
            except (ValueError, AttributeError):
                detail = response.text[:200]
            raise PspError(f"PayPal: {response.status_code} {detail}",
                           retryable=response.status_code >= 500 or response.status_code == 429,
                           retry_after=_retry_after(response.headers))
        return response.json() if response.content else {}

    def create_payment(self, reference, amount, currency, key):
        order = self._request("POST", "/v2/checkout/orders", {
            "intent": "AUTHORIZE" if self.capture_mode == "on_ship" else "CAPTURE",
            "purchase_units": [{"reference_id": reference, "custom_id": reference, "invoice_id": reference,
                                "amount": {"currency_code": currency, "value": to_paypal_value(amount, currency)}}],
        }, key=key)
        return {"psp_reference": order["id"], "status": order.get("status"), "capture_mode": self.capture_mode}

    def retrieve(self, psp_reference):
        order = self._request("GET", f"/v2/checkout/orders/{psp_reference}")
        return self.update_from_order(order), order.get("status")

    def capture_order(self, order_id, key):
        """Captures an approved order (idempotent through ``PayPal-Request-Id``); the order answered."""
        return self._request("POST", f"/v2/checkout/orders/{order_id}/capture", {}, key=key)

    def authorize_order(self, order_id, key):
        """Authorises an approved order of intent AUTHORIZE (idempotent); the order answered."""
        return self._request("POST", f"/v2/checkout/orders/{order_id}/authorize", {}, key=key)

    def capture(self, payment, key):
        """Captures the order's authorisation in full (``final_capture``); a PspUpdate of the capture."""
        if not payment.psp_authorization_id:
            raise PspError("PayPal: no authorization is known for this payment.", retryable=False)
        capture = self._request("POST", f"/v2/payments/authorizations/{payment.psp_authorization_id}/capture",
                                {"final_capture": True, "invoice_id": payment.order_reference}, key=key)
        return self.update_from_capture(capture, payment.psp_authorization_id)

    @staticmethod
    def update_from_capture(capture, authorization_id=None):
        amount = capture.get("amount") or {}
        currency = amount.get("currency_code")
        state = str(capture.get("status") or "")
        update = PspUpdate(order_reference=_our_reference(capture), currency=currency,
                           ids={"capture": capture.get("id"), "authorization": authorization_id})
        try:
            if state in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):
                update.status = "paid"
                update.captured = from_paypal_value(amount.get("value"), currency)
            elif state in ("DECLINED", "FAILED"):
                update.status = "failed"
                update.detail = f"PayPal declined the capture ({state})."
            else:
                reason = (capture.get("status_details") or {}).get("reason")
                update.capture_state = state or "PENDING"
                update.detail = f"PayPal holds the capture ({state}{': ' + reason if reason else ''})."
        except (CurrencyError, TypeError) as error:
            update.invalid = str(error)
        return update

    @staticmethod
    def update_from_order(order):
        """A PayPal order (webhook resource, GET or capture answer) as a PspUpdate of kind 'approved'."""
        unit = (order.get("purchase_units") or [{}])[0]
        amount = unit.get("amount") or {}
        currency = amount.get("currency_code")
        captures = (unit.get("payments") or {}).get("captures") or []
        authorizations = (unit.get("payments") or {}).get("authorizations") or []
        update = PspUpdate(order_reference=_our_reference(unit), kind="approved", currency=currency,
                           ids={"order": order.get("id")}, order_status=order.get("status"))
        update.order_intent = order.get("intent")
        try:
            if amount.get("value") is not None:
                update.requested = from_paypal_value(amount.get("value"), currency)
            done = [c for c in captures if c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")]
            if done:
                update.status = "paid"
                update.captured = sum((from_paypal_value(c["amount"]["value"], c["amount"]["currency_code"])
                                       for c in done), money(0))
                update.ids["capture"] = done[0].get("id")
            elif captures:
                state = captures[-1].get("status")
                update.ids["capture"] = captures[-1].get("id")
                if state in ("DECLINED", "FAILED"):
                    update.status = "failed"
                    update.detail = f"PayPal declined the capture ({state})."
                else:
                    update.capture_state = str(state or "PENDING")
                    reason = (captures[-1].get("status_details") or {}).get("reason")
                    update.detail = f"PayPal holds the capture ({state}{': ' + reason if reason else ''})."
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

    def refund(self, payment, amount, key, reason=None):
        if not payment.psp_capture_id:
            raise PspError("PayPal: no capture is known for this payment yet.")
        body = {"amount": {"value": to_paypal_value(amount, payment.currency), "currency_code": payment.currency},
                "invoice_id": payment.order_reference, "note_to_payer": (reason or "Refund")[:255]}
        refund = self._request("POST", f"/v2/payments/captures/{payment.psp_capture_id}/refund", body, key=key)
        value = (refund.get("amount") or {}).get("value")
        return {"refund_id": refund["id"], "amount": from_paypal_value(value, payment.currency) if value else amount,
                "status": REFUND_STATUS.get(str(refund.get("status", "")).lower(), "pending")}

    def void(self, payment, key):
        if payment.psp_authorization_id:
            self._request("POST", f"/v2/payments/authorizations/{payment.psp_authorization_id}/void", {}, key=key)
            return {"status": "voided"}
        # An order that was never approved or captured simply expires at PayPal.
        return {"status": "abandoned"}

    def verify_webhook(self, headers, raw_body):
        """PayPal's own verdict (verify-webhook-signature) on a received webhook.

        PayPal checks its signature over the body exactly as it sent it (a CRC32 of the bytes),
        so the request carries the received JSON text spliced in verbatim; a parsed and
        re-encoded body (other escapes, spacing, non-ASCII) would fail.
        """
        if not self.webhook_id:
            raise PspNotConfigured("PayPal webhook id is not configured (OMS_PAYPAL_WEBHOOK_ID).")
        names = {"transmission_id": "PAYPAL-TRANSMISSION-ID", "transmission_time": "PAYPAL-TRANSMISSION-TIME",
                 "cert_url": "PAYPAL-CERT-URL", "auth_algo": "PAYPAL-AUTH-ALGO",
                 "transmission_sig": "PAYPAL-TRANSMISSION-SIG"}
        body = {key: headers.get(header) for key, header in names.items()}
        if not all(body.values()):
            return False
        body["webhook_id"] = self.webhook_id
        raw = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
        head = json.dumps(body, separators=(",", ":")).encode("utf-8")
        request = head[:-1] + b',"webhook_event":' + raw + b"}"
        result = self._request("POST", "/v1/notifications/verify-webhook-signature", raw=request)
        return result.get("verification_status") == "SUCCESS"

    @staticmethod
    def describe_event(event):
        resource = event.get("resource") or {}
        reference = _our_reference(resource)
        if not reference and resource.get("purchase_units"):
            reference = _our_reference(resource["purchase_units"][0])
        related = ((resource.get("supplementary_data") or {}).get("related_ids")) or {}
        psp_reference = related.get("order_id") or (resource.get("id") if "purchase_units" in resource else None)
        return event.get("id"), event.get("event_type"), reference, psp_reference

    def parse_event(self, event):
        event_type = event.get("event_type")
        resource = event.get("resource") or {}
        if event_type in ("CHECKOUT.ORDER.APPROVED", "CHECKOUT.ORDER.COMPLETED"):
            return self.update_from_order(resource)
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
                update = PspUpdate(order_reference=reference, status="paid", currency=currency,
                                   ids=dict(ids, capture=resource.get("id")))
                update.captured = value()
            elif event_type == "PAYMENT.CAPTURE.PENDING":
                reason = (resource.get("status_details") or {}).get("reason")
                update = PspUpdate(order_reference=reference, currency=currency,
                                   ids=dict(ids, capture=resource.get("id")), capture_state="PENDING",
                                   detail=f"PayPal holds the capture (PENDING{': ' + reason if reason else ''}).")
            elif event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
                update = PspUpdate(order_reference=reference, status="failed", currency=currency,
                                   ids=dict(ids, capture=resource.get("id")), detail=f"PayPal {event_type}")
            elif event_type == "PAYMENT.AUTHORIZATION.CREATED":
                update = PspUpdate(order_reference=reference, status="authorized", currency=currency,
                                   ids=dict(ids, authorization=resource.get("id")),
                                   detail={"authorization_id": resource.get("id")},
                                   authorization_expires_at=_paypal_time(resource.get("expiration_time")))
                if amount.get("value") is not None:
                    update.requested = value()
            elif event_type == "PAYMENT.AUTHORIZATION.VOIDED":
                update = PspUpdate(order_reference=reference, status="voided",
                                   ids=dict(ids, authorization=resource.get("id")))
            elif event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
                # A refund names its capture only through links[rel=up] (often no custom_id at all).
                update = PspUpdate(order_reference=reference, kind="refund", currency=currency,
                                   ids=dict(ids, refund=resource.get("id"), capture=_link_up(resource, "captures")))
                update.refunds = [{"id": resource.get("id"), "amount": value(),
                                   "status": REFUND_STATUS.get(str(resource.get("status", "")).lower(), "pending"),
                                   "failure_reason": (resource.get("status_details") or {}).get("reason")}]
        except CurrencyError as error:
            update.invalid = str(error) if update is not None else None
            if update is None:
                update = PspUpdate(order_reference=reference, currency=currency, ids=ids, invalid=str(error))
        return update


def _paypal_time(value):
    """PayPal's RFC 3339 times (``2026-12-30T10:00:00Z``) as aware datetimes; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


FOREIGN_REFERENCES = frozenset({"default"})   # PayPal's reference_id when a shop sets none


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


def build_adapters(config):
    """The adapters configured for this container (keys: provider names)."""
    modes = capture_modes(config.get("PSP_CAPTURE"), {"stripe": config.get("PSP_CAPTURE_STRIPE"),
                                                      "paypal": config.get("PSP_CAPTURE_PAYPAL")})
    return {
        "stripe": StripeAdapter(
            config.get("STRIPE_API_KEY") or None, config.get("STRIPE_API_BASE") or None,
            timeout=float(config.get("PSP_TIMEOUT_SECONDS") or 10), capture_mode=modes["stripe"]),
        "paypal": PayPalAdapter(
            config.get("PAYPAL_API_BASE") or None, config.get("PAYPAL_CLIENT_ID") or None,
            config.get("PAYPAL_CLIENT_SECRET") or None, config.get("PAYPAL_WEBHOOK_ID") or None,
            timeout=float(config.get("PSP_TIMEOUT_SECONDS") or 10), capture_mode=modes["paypal"]),
    }

