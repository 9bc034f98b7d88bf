"""PayPal Orders v2 (captures, refunds, authorizations) over plain HTTP, as ``PspUpdate``."""
import base64
import json
import threading
import time
from datetime import datetime

import requests

from ..amounts import money
from ..currencies import CurrencyError, from_paypal_value, to_paypal_value
from ..psp_reports import PspUpdate
from .base import Adapter, PspError, PspNotConfigured, http_error, refund_status


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
            sent = {"data": raw} if raw is not None else {"json": body}
            response = self._http.request(method, f"{self.api_base}{path}", headers=headers, timeout=self.timeout,
                                          **sent)
        except requests.RequestException as error:
            raise PspError(f"PayPal: {type(error).__name__}") from error
        if response.status_code >= 400:
            raise http_error("PayPal", response)
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
                update.capture_state = state or "PENDING"
                update.detail = _held(state, capture)
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

    def refund(self, payment, amount, key, reason=None):
        if not payment.psp_capture_id:
            raise PspError("PayPal: no capture is known for this payment yet.")
        body = {"amount": {"value": to_paypal_value(amount, payment.currency), "currency_code": payment.currency},
                "invoice_id": payment.order_reference, "note_to_payer": (reason or "Refund")[:255]}
        refund = self._request("POST", f"/v2/payments/captures/{payment.psp_capture_id}/refund", body, key=key)
        value = (refund.get("amount") or {}).get("value")
        return {"refund_id": refund["id"], "amount": from_paypal_value(value, payment.currency) if value else amount,
                "status": refund_status(refund.get("status", ""))}

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
                update = PspUpdate(order_reference=reference, currency=currency,
                                   ids=dict(ids, capture=resource.get("id")), capture_state="PENDING",
                                   detail=_held("PENDING", resource))
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
                                   "status": refund_status(resource.get("status", "")),
                                   "failure_reason": (resource.get("status_details") or {}).get("reason")}]
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
