"""PSP adapters behind one small interface.

Each adapter speaks its provider's wire format and turns the provider's objects and
webhook events into ``domain.PspUpdate``. Every outgoing mutation carries an idempotency
key, so a retried call (after a timeout, a crash or a redelivered event) never charges,
refunds or cancels twice.

    create_payment(reference, amount, currency, key) -> {"psp_reference", ...}
    retrieve(psp_reference)                          -> PspUpdate | None (lost callbacks, S9)
    refund(payment, amount, key, reason)             -> {"refund_id", "amount", "status"}
    void(payment, key)                               -> {"status"}
    parse_event(event)                               -> (event_id, event_type, PspUpdate | None)
"""
import base64
import logging
import threading
import time

import requests
import stripe

from .domain import CAPABILITIES, PspUpdate, from_minor, money, to_minor

log = logging.getLogger(__name__)


class PspError(Exception):
    """The PSP refused (``retryable`` False) or could not be reached (True)."""

    def __init__(self, message, retryable=True):
        super().__init__(message)
        self.retryable = retryable


class PspNotConfigured(PspError):
    pass


class Adapter:
    name = "abstract"

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

    def __init__(self, api_key, api_base=None, timeout=10, max_network_retries=2):
        self.api_key = api_key
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
            raise PspError(f"Stripe refused: {error.user_message or error}", retryable=False) from error
        except stripe.StripeError as error:
            raise PspError(f"Stripe: {error.user_message or error}") from error

    def create_payment(self, reference, amount, currency, key):
        intent = self._call(
            lambda: self._client.v1.payment_intents.create(
                params={"amount": to_minor(amount, currency), "currency": currency.lower(),
                        "metadata": {"order_reference": reference},
                        "description": f"Order {reference}"},
                options={"idempotency_key": key}))
        return {"psp_reference": intent.id, "status": intent.status}

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
                "status": refund.status}

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
        currency = (obj.get("currency") or "chf").upper()
        status = STRIPE_STATUS.get(event_type) if event_type else STRIPE_INTENT_STATUS.get(intent_status)
        if event_type is None and intent_status == "requires_payment_method" and obj.get("last_payment_error"):
            status = "failed"
        captured = None
        if status == "paid" and obj.get("amount_received") is not None:
            captured = from_minor(obj["amount_received"], currency)
        error = obj.get("last_payment_error") or {}
        return PspUpdate(
            order_reference=(obj.get("metadata") or {}).get("order_reference"),
            psp_reference=obj.get("id"), status=status, captured=captured, currency=currency,
            detail=error.get("message") if status == "failed" else None)

    @staticmethod
    def describe_event(event):
        """(event_id, event_type, order_reference, psp_reference) from a verified event body."""
        obj = ((event.get("data") or {}).get("object")) or {}
        reference = (obj.get("metadata") or {}).get("order_reference")
        psp_reference = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
        return event.get("id"), event.get("type"), reference, psp_reference

    def parse_event(self, event):
        event_id, event_type, reference, psp_reference = self.describe_event(event)
        obj = ((event.get("data") or {}).get("object")) or {}
        if event_type in STRIPE_STATUS:
            return self._update_from_intent(obj, obj.get("status"), event_type)
        if event_type == "charge.refunded":
            currency = (obj.get("currency") or "chf").upper()
            return PspUpdate(
                order_reference=reference, psp_reference=psp_reference, currency=currency,
                captured=from_minor(obj.get("amount_captured") or 0, currency),
                refunded_total=from_minor(obj.get("amount_refunded") or 0, currency))
        return None


# ---------------------------------------------------------------- PayPal

class PayPalAdapter(Adapter):
    """PayPal Orders v2 (captures, refunds, authorizations) over plain HTTP."""

    name = "paypal"

    def __init__(self, api_base, client_id, client_secret, webhook_id, timeout=10):
        self.api_base = (api_base or "").rstrip("/")
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

    def _request(self, method, path, body=None, key=None):
        if not self.configured:
            raise PspNotConfigured("PayPal is not configured (OMS_PAYPAL_*).")
        headers = {"Authorization": f"Bearer {self._access_token()}", "Content-Type": "application/json",
                   "Prefer": "return=representation"}
        if key:
            headers["PayPal-Request-Id"] = key
        try:
            response = self._http.request(method, f"{self.api_base}{path}", json=body, headers=headers,
                                          timeout=self.timeout)
        except requests.RequestException as error:
            raise PspError(f"PayPal: {type(error).__name__}") from error
        if response.status_code >= 400:
            try:
                detail = response.json().get("message") or response.text[:200]
            except ValueError:
                detail = response.text[:200]
            raise PspError(f"PayPal: {response.status_code} {detail}", retryable=response.status_code >= 500)
        return response.json() if response.content else {}

    def create_payment(self, reference, amount, currency, key):
        order = self._request("POST", "/v2/checkout/orders", {
            "intent": "CAPTURE",
            "purchase_units": [{"reference_id": reference, "custom_id": reference, "invoice_id": reference,
                                "amount": {"currency_code": currency, "value": str(money(amount))}}],
        }, key=key)
        return {"psp_reference": order["id"], "status": order.get("status")}

    def retrieve(self, psp_reference):
        order = self._request("GET", f"/v2/checkout/orders/{psp_reference}")
        unit = (order.get("purchase_units") or [{}])[0]
        reference = unit.get("custom_id") or unit.get("invoice_id") or unit.get("reference_id")
        captures = (unit.get("payments") or {}).get("captures") or []
        done = [c for c in captures if c.get("status") in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")]
        if done:
            capture = done[0]
            return PspUpdate(order_reference=reference, psp_reference=psp_reference, status="paid",
                             captured=money(capture["amount"]["value"]),
                             currency=capture["amount"]["currency_code"],
                             detail={"capture_id": capture["id"]}), order.get("status")
        if order.get("status") == "VOIDED":
            return PspUpdate(order_reference=reference, psp_reference=psp_reference, status="voided"), "VOIDED"
        return PspUpdate(order_reference=reference, psp_reference=psp_reference), order.get("status")

    def refund(self, payment, amount, key, reason=None):
        if not payment.psp_capture_id:
            raise PspError("PayPal: no capture is known for this payment yet.")
        body = {"amount": {"value": str(money(amount)), "currency_code": payment.currency},
                "invoice_id": payment.order_reference, "note_to_payer": (reason or "Refund")[:255]}
        refund = self._request("POST", f"/v2/payments/captures/{payment.psp_capture_id}/refund", body, key=key)
        value = (refund.get("amount") or {}).get("value")
        return {"refund_id": refund["id"], "amount": money(value) if value else money(amount),
                "status": refund.get("status", "").lower()}

    def void(self, payment, key):
        if payment.psp_authorization_id:
            self._request("POST", f"/v2/payments/authorizations/{payment.psp_authorization_id}/void", {}, key=key)
            return {"status": "voided"}
        # An order that was never approved or captured simply expires at PayPal.
        return {"status": "abandoned"}

    def verify_webhook(self, headers, event):
        """PayPal's own verdict (verify-webhook-signature) on a received webhook."""
        if not self.webhook_id:
            raise PspNotConfigured("PayPal webhook id is not configured (OMS_PAYPAL_WEBHOOK_ID).")
        names = {"auth_algo": "PAYPAL-AUTH-ALGO", "cert_url": "PAYPAL-CERT-URL",
                 "transmission_id": "PAYPAL-TRANSMISSION-ID", "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
                 "transmission_time": "PAYPAL-TRANSMISSION-TIME"}
        body = {key: headers.get(header) for key, header in names.items()}
        if not all(body.values()):
            return False
        body["webhook_id"] = self.webhook_id
        body["webhook_event"] = event
        result = self._request("POST", "/v1/notifications/verify-webhook-signature", body)
        return result.get("verification_status") == "SUCCESS"

    @staticmethod
    def describe_event(event):
        resource = event.get("resource") or {}
        reference = resource.get("custom_id") or resource.get("invoice_id")
        if not reference and resource.get("purchase_units"):
            unit = resource["purchase_units"][0]
            reference = unit.get("custom_id") or unit.get("invoice_id") or unit.get("reference_id")
        related = ((resource.get("supplementary_data") or {}).get("related_ids")) or {}
        psp_reference = related.get("order_id") or (resource.get("id") if "purchase_units" in resource else None)
        return event.get("id"), event.get("event_type"), reference, psp_reference

    def parse_event(self, event):
        event_id, event_type, reference, psp_reference = self.describe_event(event)
        resource = event.get("resource") or {}
        amount = resource.get("amount") or {}
        currency = amount.get("currency_code")
        if event_type == "PAYMENT.CAPTURE.COMPLETED":
            return PspUpdate(order_reference=reference, psp_reference=psp_reference, status="paid",
                             captured=money(amount.get("value") or 0), currency=currency,
                             detail={"capture_id": resource.get("id")})
        if event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            return PspUpdate(order_reference=reference, psp_reference=psp_reference, status="failed",
                             currency=currency, detail=f"PayPal {event_type}")
        if event_type == "PAYMENT.AUTHORIZATION.CREATED":
            return PspUpdate(order_reference=reference, psp_reference=psp_reference, status="authorized",
                             currency=currency, detail={"authorization_id": resource.get("id")})
        if event_type == "PAYMENT.AUTHORIZATION.VOIDED":
            return PspUpdate(order_reference=reference, psp_reference=psp_reference, status="voided")
        if event_type == "PAYMENT.CAPTURE.REFUNDED":
            return PspUpdate(order_reference=reference, psp_reference=psp_reference, currency=currency,
                             refund_id=resource.get("id"), refund_amount=money(amount.get("value") or 0))
        return None


def build_adapters(config):
    """The adapters configured for this container (keys: provider names)."""
    return {
        "stripe": StripeAdapter(
            config.get("STRIPE_API_KEY") or None, config.get("STRIPE_API_BASE") or None,
            timeout=float(config.get("PSP_TIMEOUT_SECONDS") or 10)),
        "paypal": PayPalAdapter(
            config.get("PAYPAL_API_BASE") or None, config.get("PAYPAL_CLIENT_ID") or None,
            config.get("PAYPAL_CLIENT_SECRET") or None, config.get("PAYPAL_WEBHOOK_ID") or None,
            timeout=float(config.get("PSP_TIMEOUT_SECONDS") or 10)),
    }

