"""PayPal Orders v2 (captures, refunds, authorizations) over plain HTTP, as ``PspUpdate``."""

import base64
import json
import threading
import time

import requests

from ..currencies import from_paypal_value, to_paypal_value
from . import paypal_reports as reports
from .base import Adapter, PspError, PspNotConfigured, http_error, refund_status


class PayPalAdapter(Adapter):
    """PayPal Orders v2 (captures, refunds, authorizations) over plain HTTP."""

    name = "paypal"
    update_from_capture = staticmethod(reports.update_from_capture)
    update_from_order = staticmethod(reports.update_from_order)
    describe_event = staticmethod(reports.describe_event)

    def parse_event(self, event):
        return reports.parse_event(event)

    def __init__(self, api_base, client_id, client_secret, webhook_id, timeout=10, capture_mode="checkout"):
        self.api_base = (api_base or "").rstrip("/")
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.timeout, self.capture_mode = timeout, capture_mode
        self._token, self._token_expires = None, 0  # the OAuth access token and when it runs out
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
                f"{self.api_base}/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": f"Basic {auth}"},
                timeout=self.timeout,
            )
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
        headers = {
            "Authorization": f"Bearer {self._access_token()}",
            "Content-Type": "application/json",
            "Prefer": "return=representation",
        }
        if key:
            headers["PayPal-Request-Id"] = key
        try:
            sent = {"data": raw} if raw is not None else {"json": body}
            response = self._http.request(
                method, f"{self.api_base}{path}", headers=headers, timeout=self.timeout, **sent
            )
        except requests.RequestException as error:
            raise PspError(f"PayPal: {type(error).__name__}") from error
        if response.status_code >= 400:
            raise http_error("PayPal", response)
        return response.json() if response.content else {}

    def create_payment(self, reference, amount, currency, key):
        order = self._request(
            "POST",
            "/v2/checkout/orders",
            {
                "intent": "AUTHORIZE" if self.capture_mode == "on_ship" else "CAPTURE",
                "purchase_units": [
                    {
                        "reference_id": reference,
                        "custom_id": reference,
                        "invoice_id": reference,
                        "amount": {"currency_code": currency, "value": to_paypal_value(amount, currency)},
                    }
                ],
            },
            key=key,
        )
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
        capture = self._request(
            "POST",
            f"/v2/payments/authorizations/{payment.psp_authorization_id}/capture",
            {"final_capture": True, "invoice_id": payment.order_reference},
            key=key,
        )
        return self.update_from_capture(capture, payment.psp_authorization_id)

    def refund(self, payment, amount, key, reason=None):
        if not payment.psp_capture_id:
            raise PspError("PayPal: no capture is known for this payment yet.")
        body = {
            "amount": {"value": to_paypal_value(amount, payment.currency), "currency_code": payment.currency},
            "invoice_id": payment.order_reference,
            "note_to_payer": (reason or "Refund")[:255],
        }
        refund = self._request("POST", f"/v2/payments/captures/{payment.psp_capture_id}/refund", body, key=key)
        value = (refund.get("amount") or {}).get("value")
        return {
            "refund_id": refund["id"],
            "amount": from_paypal_value(value, payment.currency) if value else amount,
            "status": refund_status(refund.get("status", "")),
        }

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
        names = {
            "transmission_id": "PAYPAL-TRANSMISSION-ID",
            "transmission_time": "PAYPAL-TRANSMISSION-TIME",
            "cert_url": "PAYPAL-CERT-URL",
            "auth_algo": "PAYPAL-AUTH-ALGO",
            "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
        }
        body = {key: headers.get(header) for key, header in names.items()}
        if not all(body.values()):
            return False
        body["webhook_id"] = self.webhook_id
        raw = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
        head = json.dumps(body, separators=(",", ":")).encode("utf-8")
        request = head[:-1] + b',"webhook_event":' + raw + b"}"
        result = self._request("POST", "/v1/notifications/verify-webhook-signature", raw=request)
        return result.get("verification_status") == "SUCCESS"
