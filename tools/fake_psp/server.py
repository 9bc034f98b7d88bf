r"""A local fake PSP that speaks enough of Stripe's and PayPal's wire formats for OMS.

Stripe (form-encoded requests, JSON answers, ``Idempotency-Key``):
    POST /v1/payment_intents, GET /v1/payment_intents/{id},
    POST /v1/payment_intents/{id}/cancel, POST /v1/payment_intents/{id}/capture,
    POST /v1/refunds, GET /v1/refunds/{id}
PayPal (JSON, ``PayPal-Request-Id``):
    POST /v1/oauth2/token, POST /v2/checkout/orders, GET /v2/checkout/orders/{id},
    POST /v2/checkout/orders/{id}/capture, POST /v2/checkout/orders/{id}/authorize,
    GET /v2/payments/authorizations/{id}, POST /v2/payments/authorizations/{id}/capture,
    POST /v2/payments/authorizations/{id}/void, POST /v2/payments/captures/{id}/refund,
    POST /v1/notifications/verify-webhook-signature
Control (tests and demos):
    POST /_fake/stripe/payment_intents/{id}/{succeed|fail|authorize}   (?deliver=1 sends the webhook)
    POST /_fake/paypal/orders/{id}/{approve|capture}                     (?deliver=1 sends the webhook)
    POST /_fake/stripe/payment_intents/{id}/{refund|dispute}
    GET  /_fake/state

Webhooks are signed like the real ones: Stripe's ``Stripe-Signature: t=..,v1=..`` (HMAC-SHA256
over ``f"{t}.{body}"``) and PayPal's transmission headers, whose signature only this fake's
verify-webhook-signature endpoint accepts (an HMAC instead of PayPal's RSA certificate chain).
Like PayPal, the signature covers ``transmission_id|transmission_time|webhook_id|crc32(body)``
over the raw bytes delivered, and the verify endpoint checks the CRC32 of the ``webhook_event``
text exactly as it appears in the verify request: a parsed and re-encoded body fails. PayPal
bodies are written as PayPal writes them (``\/`` escapes, raw non-ASCII).
``deliver_*`` can send an event several times, late (an old timestamp) or in any order.

Manual capture as the real APIs do it: a PaymentIntent made with ``capture_method=manual`` is
authorised (``requires_capture``, a charge with ``captured: false`` and the card's
``capture_before``) and captured by ``POST …/capture``; a PayPal order of intent ``AUTHORIZE`` is
authorised (``…/authorize``: an authorization with ``expiration_time``) and its authorization
captured. An authorisation past its time is refused on capture (Stripe
``charge_expired_for_capture``, PayPal ``AUTHORIZATION_EXPIRED``).

Failing on purpose (``program``): the next calls matching a method and a path pattern get
programmed answers instead of the normal one, one answer per call: ``error(status, …)`` (5xx,
402, 404, …: Stripe's error object or PayPal's error shape), ``rate_limited(retry_after)`` (429
with ``Retry-After``), ``delay(seconds)`` (the answer comes late: the client times out although
the call was made, as on a real lost answer), ``PASS`` (the normal answer). Every call is still
recorded in ``calls`` with its idempotency key. Refunds can stay pending (``refund_status``) and
settle later (``settle_refund`` → the matching webhook). Unknown ids are refused as the real
APIs refuse them (Stripe ``resource_missing``, PayPal ``RESOURCE_NOT_FOUND``).

The objects follow the real shapes (see tests/payments/fixtures): Stripe charges, refunds and
disputes carry no OMS metadata (only the PaymentIntent has ``order_reference``); PayPal
refunds carry no ``custom_id`` and name their capture only through ``links[rel=up]``.

Use it in-process (``FakePSP().start()``) or as ``python -m fake_psp --port 12111``.
"""

import base64
import fnmatch
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import requests
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

_counter = itertools.count(1)


def _id(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:20]}{next(_counter)}"


def parse_stripe_form(pairs):
    """Stripe's bracket form encoding (``metadata[order_reference]=1``) → nested dicts."""
    result = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return result


def stripe_signature(body, secret, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    payload = body.decode("utf-8") if isinstance(body, bytes) else body
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class Answer:
    """A programmed answer to one call (see ``FakePSP.program``)."""

    def __init__(self, status=None, body=None, headers=None, delay=0.0):
        self.status, self.body, self.headers, self.delay = status, body, headers or {}, delay


PASS = Answer()


class Refused(Exception):
    """An error answer ``(status, body)`` raised where a handler finds it (an unknown id, a state
    that forbids the call); the call around the handler answers it."""

    def __init__(self, answer):
        super().__init__(answer[0])
        self.answer = answer


def _answered(handler, request_body):
    """The handler's ``(status, body)``, or the answer it was refused with."""
    try:
        return handler(request_body)
    except Refused as refused:
        return refused.answer


# the Stripe and PayPal API this fake answers, then its own controls
RULES = [
    Rule("/v1/payment_intents", methods=["POST"], endpoint="pi_create"),
    Rule("/v1/payment_intents/<pid>", methods=["GET"], endpoint="pi_get"),
    Rule("/v1/payment_intents/<pid>/cancel", methods=["POST"], endpoint="pi_cancel"),
    Rule("/v1/payment_intents/<pid>/capture", methods=["POST"], endpoint="pi_capture"),
    Rule("/v1/refunds", methods=["POST"], endpoint="refund_create"),
    Rule("/v1/refunds/<rid>", methods=["GET"], endpoint="refund_get"),
    Rule("/v1/oauth2/token", methods=["POST"], endpoint="pp_token"),
    Rule("/v2/checkout/orders", methods=["POST"], endpoint="pp_order_create"),
    Rule("/v2/checkout/orders/<oid>", methods=["GET"], endpoint="pp_order_get"),
    Rule("/v2/checkout/orders/<oid>/capture", methods=["POST"], endpoint="pp_order_capture"),
    Rule("/v2/payments/captures/<cid>/refund", methods=["POST"], endpoint="pp_refund"),
    Rule("/v2/checkout/orders/<oid>/authorize", methods=["POST"], endpoint="pp_order_authorize"),
    Rule("/v2/payments/authorizations/<aid>", methods=["GET"], endpoint="pp_authorization_get"),
    Rule("/v2/payments/authorizations/<aid>/capture", methods=["POST"], endpoint="pp_authorization_capture"),
    Rule("/v2/payments/authorizations/<aid>/void", methods=["POST"], endpoint="pp_void"),
    Rule("/v1/notifications/verify-webhook-signature", methods=["POST"], endpoint="pp_verify"),
    Rule("/_fake/stripe/payment_intents/<pid>/<action>", methods=["POST"], endpoint="ctl_stripe"),
    Rule("/_fake/paypal/orders/<oid>/<action>", methods=["POST"], endpoint="ctl_paypal"),
    Rule("/_fake/state", methods=["GET"], endpoint="ctl_state"),
]


def error(status, code=None, message=None, kind=None, body=None, headers=None):
    """An error answer; ``body`` None: the provider's own shape made from code and message."""
    return Answer(status, body if body is not None else {"code": code, "message": message, "type": kind}, headers)


def rate_limited(retry_after=1):
    return Answer(
        429,
        {"code": "rate_limit", "message": "Too many requests hit the API too quickly.", "type": "rate_limit_error"},
        {"Retry-After": str(retry_after)},
    )


def delay(seconds):
    """The normal answer, but only after ``seconds``: the client may give up meanwhile."""
    return Answer(delay=seconds)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class FakePSP:
    def __init__(
        self,
        stripe_api_key="sk_test_fake",
        stripe_webhook_secret="whsec_fake",
        stripe_webhook_url=None,
        paypal_client_id="fake-client",
        paypal_client_secret="fake-secret",
        paypal_webhook_id="WH-FAKE",
        paypal_webhook_url=None,
        paypal_signing_key="fake-paypal-key",
    ):
        self.stripe_api_key = stripe_api_key
        self.stripe_webhook_secret = stripe_webhook_secret
        self.stripe_webhook_url = stripe_webhook_url
        self.paypal_client_id = paypal_client_id
        self.paypal_client_secret = paypal_client_secret
        self.paypal_webhook_id = paypal_webhook_id
        self.paypal_webhook_url = paypal_webhook_url
        self.paypal_signing_key = paypal_signing_key.encode()
        self.lock = threading.RLock()
        self.intents, self.charges, self.refunds = {}, {}, {}
        self.paypal_orders, self.paypal_captures, self.paypal_refunds = {}, {}, {}
        self.idempotency = {}
        self.disputes = {}
        self.last_refund_id = None
        self.paypal_capture_refusal = None  # e.g. "INSTRUMENT_DECLINED": the next captures are refused
        self.paypal_deliveries = {}  # transmission id → the raw bytes delivered
        self.paypal_verify_requests = []  # raw bodies of verify-webhook-signature calls
        self.paypal_refunded = {}  # capture id → refunded cents
        self.paypal_authorizations = {}
        self.paypal_authorization_valid = timedelta(days=29)  # PayPal's validity of an authorization
        self.stripe_authorization_valid = timedelta(days=7)  # Stripe's hold of a card authorisation
        self.refund_status = None  # "pending": refunds made through the API stay pending
        self.programmed = []  # [(method, path pattern, [Answer, …])]
        self.calls = []  # (method, path, idempotency key) of every API call
        self.tokens = set()
        self.base_url = None
        self._server = None
        self._thread = None
        self.url_map = Map([rule.empty() for rule in RULES])  # unbound copies: a map of its own

    # ------------------------------------------------------------ server
    def start(self, host="127.0.0.1", port=0):
        self._server = make_server(host, port, self, threaded=True, request_handler=_QuietHandler)
        self.base_url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------ failing on purpose
    def program(self, method, pattern, *answers):
        """The next calls of ``method`` to a path matching ``pattern`` (fnmatch, e.g.
        ``/v1/payment_intents/*/capture``) get ``answers``, one per call, then the normal one."""
        with self.lock:
            self.programmed.append((method.upper(), pattern, list(answers)))

    def _programmed(self, request):
        with self.lock:
            for method, pattern, answers in self.programmed:
                if answers and method == request.method and fnmatch.fnmatchcase(request.path, pattern):
                    return answers.pop(0)
        return None

    def _answer(self, request, answer):
        paypal = request.path.startswith(("/v2/", "/v1/notifications", "/v1/oauth2"))
        key = request.headers.get("PayPal-Request-Id" if paypal else "Idempotency-Key")
        with self.lock:
            self.calls.append((request.method, request.path, key))
        spec = answer.body or {}
        if paypal:
            body = (
                spec
                if "name" in spec
                else {
                    "name": spec.get("code")
                    or (
                        "INTERNAL_SERVER_ERROR"
                        if answer.status >= 500
                        else "RATE_LIMIT_REACHED"
                        if answer.status == 429
                        else "UNPROCESSABLE_ENTITY"
                    ),
                    "message": spec.get("message") or "An internal server error has occurred.",
                    "debug_id": uuid.uuid4().hex[:13],
                }
            )
            if "name" not in spec and answer.status == 422 and spec.get("code"):
                body = {
                    "name": "UNPROCESSABLE_ENTITY",
                    "message": "The requested action could not be performed.",
                    "debug_id": uuid.uuid4().hex[:13],
                    "details": [{"issue": spec["code"], "description": spec.get("message") or spec["code"]}],
                }
        else:
            body = (
                spec
                if "error" in spec
                else {
                    "error": {
                        "type": spec.get("type") or ("api_error" if answer.status >= 500 else "invalid_request_error"),
                        "code": spec.get("code"),
                        "message": spec.get("message") or "An unknown error occurred",
                        **({"decline_code": spec["code"]} if spec.get("type") == "card_error" else {}),
                    }
                }
            )
        response = self._json(body, answer.status)
        for name, value in answer.headers.items():
            response.headers[name] = value
        if not paypal:
            response.headers["Request-Id"] = f"req_{uuid.uuid4().hex[:14]}"
        return response

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, values = self.url_map.bind_to_environ(environ).match()
            answer = self._programmed(request) if not endpoint.startswith("ctl_") else None
            if answer is not None and answer.delay:
                time.sleep(answer.delay)
            if answer is not None and answer.status is not None:
                response = self._answer(request, answer)
            else:
                response = getattr(self, "_" + endpoint)(request, **values)
        except NotFound:
            response = self._json({"error": {"type": "invalid_request_error", "message": "Unrecognized URL"}}, 404)
        except HTTPException as error:
            response = error.get_response()
        return response(environ, start_response)

    @staticmethod
    def _json(body, status=200):
        return Response(json.dumps(body), status=status, mimetype="application/json")

    # ------------------------------------------------------------ Stripe API
    def _stripe_auth(self, request):
        header = request.headers.get("Authorization", "")
        return header == f"Bearer {self.stripe_api_key}"

    def _stripe_error(self, message, status=400, kind="invalid_request_error", code=None):
        return self._json({"error": {"type": kind, "message": message, "code": code}}, status)

    def _stripe_call(self, request, handler):
        """Auth + Idempotency-Key replay around a mutating Stripe call."""
        if not self._stripe_auth(request):
            return self._stripe_error("Invalid API Key provided.", 401, "invalid_request_error")
        params = parse_stripe_form(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            self.calls.append((request.method, request.path, key))
            if key:
                cache_key = ("stripe", key)
                fingerprint = hashlib.sha256(json.dumps([request.path, params], sort_keys=True).encode()).hexdigest()
                if cache_key in self.idempotency:
                    stored_print, status, body = self.idempotency[cache_key]
                    if stored_print != fingerprint:
                        return self._stripe_error(
                            "Keys for idempotent requests can only be used with the same parameters.",
                            400,
                            "idempotency_error",
                        )
                    response = self._json(body, status)
                    response.headers["Idempotent-Replayed"] = "true"
                    return response
            status, body = _answered(handler, params)
            if key and status < 500:
                self.idempotency[("stripe", key)] = (fingerprint, status, body)
        return self._json(body, status)

    def _pi_create(self, request):
        def create(params):
            try:
                amount = int(params["amount"])
            except (KeyError, ValueError):
                return 400, {"error": {"type": "invalid_request_error", "message": "Missing amount", "param": "amount"}}
            pid = _id("pi")
            intent = {
                "id": pid,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": 0,
                "amount_capturable": 0,
                "currency": params.get("currency", "chf"),
                "status": "requires_payment_method",
                "metadata": params.get("metadata", {}),
                "description": params.get("description"),
                "client_secret": f"{pid}_secret_{uuid.uuid4().hex[:8]}",
                "capture_method": params.get("capture_method", "automatic"),
                "latest_charge": None,
                "last_payment_error": None,
                "created": int(time.time()),
                "livemode": False,
            }
            self.intents[pid] = intent
            return 200, dict(intent)

        return self._stripe_call(request, create)

    def _pi_get(self, request, pid):
        if not self._stripe_auth(request):
            return self._stripe_error("Invalid API Key provided.", 401)
        with self.lock:
            self.calls.append((request.method, request.path, None))
            intent = self.intents.get(pid)
            if intent is None:
                return self._stripe_error(f"No such payment_intent: '{pid}'", 404, code="resource_missing")
            return self._json(intent)

    @staticmethod
    def _missing(kind, rid, param="intent"):
        """Stripe's answer for an id it does not know."""
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": param,
                "message": f"No such {kind}: '{rid}'",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            }
        }

    def _intent(self, pid, param="intent"):
        """The PaymentIntent ``pid``; Stripe's answer for an unknown one is raised (``Refused``)."""
        intent = self.intents.get(pid)
        if intent is None:
            raise Refused(self._missing("payment_intent", pid, param))
        return intent

    def _pi_cancel(self, request, pid):
        def cancel(params):
            intent = self._intent(pid)
            if intent["status"] in ("succeeded", "canceled"):
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "payment_intent_unexpected_state",
                        "message": f"This PaymentIntent's status is {intent['status']}.",
                    }
                }
            intent["status"] = "canceled"
            intent["cancellation_reason"] = params.get("cancellation_reason")
            return 200, dict(intent)

        return self._stripe_call(request, cancel)

    def _pi_capture(self, request, pid):
        def capture(params):
            intent = self._intent(pid)
            if intent["status"] != "requires_capture":
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "payment_intent_unexpected_state",
                        "message": f"This PaymentIntent could not be captured because it has a status of "
                        f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
                        "be captured: requires_capture.",
                        "payment_intent": dict(intent),
                    }
                }
            charge = self.charges.get(intent.get("latest_charge") or "")
            before = (((charge or {}).get("payment_method_details") or {}).get("card") or {}).get("capture_before")
            if before is not None and before <= time.time():
                intent.update(status="canceled", cancellation_reason="automatic", amount_capturable=0)
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_expired_for_capture",
                        "message": f"Charge {charge['id']} has expired for capture, and can no longer be captured.",
                        "charge": charge["id"],
                    }
                }
            self._stripe_succeed(intent, int(params["amount_to_capture"]) if params.get("amount_to_capture") else None)
            return 200, dict(intent)

        return self._stripe_call(request, capture)

    def _refund_create(self, request):
        def create(params):
            intent = self._intent(params.get("payment_intent", ""), "payment_intent")
            if intent["status"] != "succeeded":
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_not_refundable",
                        "message": "This PaymentIntent has no successful charge to refund.",
                    }
                }
            charge = self.charges[intent["latest_charge"]]
            left = charge["amount_captured"] - charge["amount_refunded"]
            amount = int(params.get("amount", left))
            if amount <= 0 or amount > left:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "amount_too_large",
                        "message": f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                        "param": "amount",
                    }
                }
            status = self.refund_status or "succeeded"
            refund = {
                "id": _id("re"),
                "object": "refund",
                "amount": amount,
                "currency": intent["currency"],
                "payment_intent": intent["id"],
                "charge": charge["id"],
                "status": status,
                "metadata": params.get("metadata", {}),
                "created": int(time.time()),
                "failure_reason": None,
                "balance_transaction": _id("txn"),
            }
            self.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount  # Stripe counts a pending refund on the charge too
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            return 200, dict(refund)

        return self._stripe_call(request, create)

    def _refund_get(self, request, rid):
        with self.lock:
            refund = self.refunds.get(rid)
            if refund is None:
                status, body = self._missing("refund", rid, "id")
                return self._json(body, status)
            return self._json(refund)

    def _new_charge(self, intent, amount_captured, captured, created, **details):
        """A paid charge of the intent, kept; a charge carries its own (empty) metadata, not the
        PaymentIntent's."""
        charge = {
            "id": _id("ch"),
            "object": "charge",
            "payment_intent": intent["id"],
            "amount": intent["amount"],
            "amount_captured": amount_captured,
            "amount_refunded": 0,
            "captured": captured,
            "paid": True,
            "currency": intent["currency"],
            "metadata": {},
            "refunded": False,
            "disputed": False,
            "status": "succeeded",
            "created": created,
            "livemode": False,
            **details,
        }
        self.charges[charge["id"]] = charge
        return charge

    def _stripe_succeed(self, intent, amount=None):
        received = intent["amount"] if amount is None else amount
        held = self.charges.get(intent.get("latest_charge") or "")
        if held is not None and not held["captured"]:
            # the authorised charge is captured (manual capture)
            held.update(captured=True, amount_captured=received, paid=True, status="succeeded")
            intent.update(status="succeeded", amount_received=received, amount_capturable=0, last_payment_error=None)
            return held
        charge = self._new_charge(
            intent,
            received,
            captured=True,
            created=int(time.time()),
            balance_transaction=_id("txn"),
            payment_method=_id("pm"),
        )
        intent.update(
            status="succeeded",
            amount_received=received,
            amount_capturable=0,
            latest_charge=charge["id"],
            last_payment_error=None,
        )
        return charge

    # ------------------------------------------------------------ Stripe state changes + events
    def stripe_event(self, event_type, obj, created=None):
        return {
            "id": _id("evt"),
            "object": "event",
            "api_version": "2024-06-20",
            "type": event_type,
            "created": int(created or time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": json.loads(json.dumps(obj))},
        }

    def create_intent(self, amount_minor, currency="chf", order_reference=None):
        """A PaymentIntent made outside OMS (e.g. by a storefront), as Stripe would hold it."""
        pid = _id("pi")
        with self.lock:
            self.intents[pid] = {
                "id": pid,
                "object": "payment_intent",
                "amount": amount_minor,
                "amount_received": 0,
                "amount_capturable": 0,
                "currency": currency,
                "status": "requires_payment_method",
                "metadata": {"order_reference": order_reference} if order_reference else {},
                "client_secret": f"{pid}_secret",
                "latest_charge": None,
                "last_payment_error": None,
                "capture_method": "automatic",
                "created": int(time.time()),
                "livemode": False,
            }
        return pid

    def succeed_intent(self, pid, amount_received=None):
        """The customer paid: the intent succeeds; returns the payment_intent.succeeded event.
        ``amount_received`` less than the amount: a partial capture."""
        with self.lock:
            intent = self.intents[pid]
            if intent["status"] != "succeeded":
                self._stripe_succeed(intent, amount_received)
            return self.stripe_event("payment_intent.succeeded", intent)

    def fail_intent(self, pid, message="Your card was declined."):
        with self.lock:
            intent = self.intents[pid]
            if intent["status"] != "succeeded":
                intent.update(
                    status="requires_payment_method", last_payment_error={"code": "card_declined", "message": message}
                )
            obj = dict(intent, last_payment_error={"code": "card_declined", "message": message})
            return self.stripe_event("payment_intent.payment_failed", obj)

    def authorize_intent(self, pid, valid=None):
        """The card is authorised (a manual-capture intent): ``requires_capture``, a charge not yet
        captured whose card must be captured before ``capture_before`` (``valid`` from now, Stripe's
        7 days by default). Returns payment_intent.amount_capturable_updated."""
        with self.lock:
            intent = self.intents[pid]
            if intent["status"] == "requires_payment_method":
                now = int(time.time())
                before = now + int((valid or self.stripe_authorization_valid).total_seconds())
                charge = self._new_charge(
                    intent,
                    0,
                    captured=False,
                    created=now,
                    payment_method_details={
                        "type": "card",
                        "card": {"brand": "visa", "last4": "4242", "capture_before": before},
                    },
                )
                intent.update(
                    status="requires_capture",
                    amount_capturable=intent["amount"],
                    capture_method="manual",
                    latest_charge=charge["id"],
                )
            return self.stripe_event(
                "payment_intent.amount_capturable_updated", dict(intent, status="requires_capture")
            )

    def refund_intent(self, pid, amount_minor=None):
        """A refund made in the PSP's dashboard; returns the charge.refunded event."""
        with self.lock:
            intent = self.intents[pid]
            if intent["status"] != "succeeded":
                self._stripe_succeed(intent)
            charge = self.charges[intent["latest_charge"]]
            left = charge["amount_captured"] - charge["amount_refunded"]
            amount = left if amount_minor is None else amount_minor
            refund = {
                "id": _id("re"),
                "object": "refund",
                "amount": amount,
                "currency": intent["currency"],
                "payment_intent": pid,
                "charge": charge["id"],
                "status": "succeeded",
                "metadata": {},
                "created": int(time.time()),
                "balance_transaction": _id("txn"),
                "failure_reason": None,
            }
            self.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            self.last_refund_id = refund["id"]
            return self.stripe_event("charge.refunded", charge)

    def refund_event(self, rid, status=None, failure_reason=None):
        """charge.refund.updated for a refund, optionally moving it to ``status`` first (a pending
        refund settling; a refund that fails gives the money back to the charge)."""
        with self.lock:
            refund = self.refunds[rid]
            previous = refund["status"]
            if status and status != previous:
                refund["status"] = status
                refund["failure_reason"] = failure_reason
                if status in ("failed", "canceled") and previous in ("succeeded", "pending"):
                    charge = self.charges[refund["charge"]]
                    charge["amount_refunded"] -= refund["amount"]
                    charge["refunded"] = False
                    refund["failure_balance_transaction"] = _id("txn")
            event = self.stripe_event("charge.refund.updated", refund)
            event["data"]["previous_attributes"] = {"status": previous}
            return event

    def dispute_intent(self, pid, reason="fraudulent", amount_minor=None):
        """The cardholder disputes the charge: returns charge.dispute.created (no OMS metadata)."""
        with self.lock:
            intent = self.intents[pid]
            charge = self.charges[intent["latest_charge"]]
            charge["disputed"] = True
            dispute = {
                "id": _id("dp"),
                "object": "dispute",
                "amount": charge["amount_captured"] if amount_minor is None else amount_minor,
                "charge": charge["id"],
                "payment_intent": pid,
                "currency": intent["currency"],
                "created": int(time.time()),
                "evidence": {},
                "metadata": {},
                "livemode": False,
                "evidence_details": {
                    "due_by": int(time.time()) + 7 * 86400,
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "reason": reason,
                "status": "needs_response",
            }
            self.disputes[dispute["id"]] = dispute
            return self.stripe_event("charge.dispute.created", dispute)

    def close_dispute(self, did, status):
        """charge.dispute.closed with ``status`` won or lost."""
        with self.lock:
            dispute = self.disputes[did]
            previous = dispute["status"]
            dispute["status"] = status
            event = self.stripe_event("charge.dispute.closed", dispute)
            event["data"]["previous_attributes"] = {"status": previous}
            return event

    def sign_stripe(self, body, timestamp=None, secret=None):
        return stripe_signature(body, secret or self.stripe_webhook_secret, timestamp)

    def deliver_stripe(self, event, url=None, times=1, timestamp=None, secret=None, signature=None, timeout=10):
        """POSTs the event (the same bytes ``times`` times); returns the HTTP status codes."""
        body = json.dumps(event).encode()
        statuses = []
        for _ in range(times):
            header = signature if signature is not None else self.sign_stripe(body, timestamp, secret)
            response = requests.post(
                url or self.stripe_webhook_url,
                data=body,
                timeout=timeout,
                headers={"Content-Type": "application/json", "Stripe-Signature": header},
            )
            statuses.append(response.status_code)
        return statuses

    # ------------------------------------------------------------ PayPal API
    def _pp_auth(self, request):
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self.tokens

    def _pp_error(self, name, message, status):
        return self._json({"name": name, "message": message, "debug_id": uuid.uuid4().hex[:12]}, status)

    @staticmethod
    def _pp_missing(field, value):
        """PayPal's answer for an id it does not know."""
        return 404, {
            "name": "RESOURCE_NOT_FOUND",
            "message": "The specified resource does not exist.",
            "debug_id": uuid.uuid4().hex[:13],
            "details": [
                {
                    "field": field,
                    "value": value,
                    "location": "path",
                    "issue": "INVALID_RESOURCE_ID",
                    "description": "Specified resource ID does not exist. Please check the resource ID and try again.",
                }
            ],
        }

    @staticmethod
    def _pp_unprocessable(issue, description):
        return 422, {
            "name": "UNPROCESSABLE_ENTITY",
            "message": "The requested action could not be performed, "
            "semantically incorrect, or failed business validation.",
            "debug_id": uuid.uuid4().hex[:13],
            "details": [{"issue": issue, "description": description}],
        }

    def _pp_call(self, request, handler):
        if not self._pp_auth(request):
            return self._pp_error("AUTHENTICATION_FAILURE", "Authentication failed.", 401)
        body = request.get_json(silent=True) or {}
        key = request.headers.get("PayPal-Request-Id")
        with self.lock:
            self.calls.append((request.method, request.path, key))
            if key and ("paypal", key) in self.idempotency:
                _, status, stored = self.idempotency[("paypal", key)]
                return self._json(stored, status)
            status, answer = _answered(handler, body)
            if key and status < 500:
                self.idempotency[("paypal", key)] = (None, status, answer)
        return self._json(answer, status)

    def _pp_token(self, request):
        auth = request.authorization
        if auth is None or auth.username != self.paypal_client_id or auth.password != self.paypal_client_secret:
            return self._json({"error": "invalid_client", "error_description": "Client Authentication failed"}, 401)
        token = f"A21_{uuid.uuid4().hex}"
        with self.lock:
            self.tokens.add(token)
        return self._json(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 32400,
                "app_id": "APP-FAKE",
                "scope": "https://uri.paypal.com/services/payments",
            }
        )

    def _pp_order_create(self, request):
        def create(body):
            units = body.get("purchase_units") or []
            if not units or "amount" not in units[0]:
                return 422, {"name": "UNPROCESSABLE_ENTITY", "message": "purchase_units[0].amount is required."}
            oid = f"PPO{uuid.uuid4().hex[:15].upper()}"
            order = {
                "id": oid,
                "status": "CREATED",
                "intent": body.get("intent", "CAPTURE"),
                "purchase_units": [dict(units[0], payments={"captures": []})],
                "links": [{"rel": "approve", "href": f"{self.base_url}/checkoutnow?token={oid}"}],
            }
            self.paypal_orders[oid] = order
            return 201, json.loads(json.dumps(order))

        return self._pp_call(request, create)

    def _pp_resource(self, request, resources, id_name, rid):
        """GET of one stored PayPal resource, as PayPal answers it (or its RESOURCE_NOT_FOUND)."""
        if not self._pp_auth(request):
            return self._pp_error("AUTHENTICATION_FAILURE", "Authentication failed.", 401)
        with self.lock:
            resource = resources.get(rid)
            if resource is None:
                status, body = self._pp_missing(id_name, rid)
                return self._json(body, status)
            return self._json(resource)

    def _pp_found(self, resources, id_name, rid):
        """The stored PayPal resource ``rid``; PayPal's RESOURCE_NOT_FOUND is raised (``Refused``)."""
        resource = resources.get(rid)
        if resource is None:
            raise Refused(self._pp_missing(id_name, rid))
        return resource

    def _pp_order_get(self, request, oid):
        return self._pp_resource(request, self.paypal_orders, "order_id", oid)

    def _pp_order_capture(self, request, oid):
        def capture(body):
            order = self._pp_found(self.paypal_orders, "order_id", oid)
            if order.get("intent") == "AUTHORIZE":
                return self._pp_unprocessable(
                    "ACTION_DOES_NOT_MATCH_INTENT", "Order was created with an intent to 'AUTHORIZE'."
                )
            if order["status"] == "COMPLETED":
                return 422, {
                    "name": "UNPROCESSABLE_ENTITY",
                    "message": "The requested action could not be performed.",
                    "details": [{"issue": "ORDER_ALREADY_CAPTURED"}],
                }
            if order["status"] != "APPROVED":
                return 422, {
                    "name": "UNPROCESSABLE_ENTITY",
                    "message": "The requested action could not be performed.",
                    "details": [{"issue": "ORDER_NOT_APPROVED"}],
                }
            if self.paypal_capture_refusal:
                return 422, {
                    "name": "UNPROCESSABLE_ENTITY",
                    "message": "The requested action could not be performed.",
                    "details": [
                        {
                            "issue": self.paypal_capture_refusal,
                            "description": "The instrument presented was either declined or cannot be used.",
                        }
                    ],
                }
            self._paypal_capture(order)
            return 201, json.loads(json.dumps(order))

        return self._pp_call(request, capture)

    def _paypal_capture(self, order, status="COMPLETED"):
        unit = order["purchase_units"][0]
        cid = f"{uuid.uuid4().hex[:17].upper()}"
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        capture = {
            "id": cid,
            "status": status,
            "amount": dict(unit["amount"]),
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "custom_id": unit.get("custom_id"),
            "invoice_id": unit.get("invoice_id"),
            "supplementary_data": {"related_ids": {"order_id": order["id"]}},
            "links": [
                {"href": f"{self.base_url}/v2/payments/captures/{cid}", "rel": "self", "method": "GET"},
                {"href": f"{self.base_url}/v2/payments/captures/{cid}/refund", "rel": "refund", "method": "POST"},
                {"href": f"{self.base_url}/v2/checkout/orders/{order['id']}", "rel": "up", "method": "GET"},
            ],
            "create_time": now,
            "update_time": now,
        }
        if status == "PENDING":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        unit["payments"]["captures"].append(capture)
        order["status"] = "COMPLETED"
        self.paypal_captures[cid] = capture
        self.paypal_refunded[cid] = 0
        return capture

    def _pp_refund(self, request, cid):
        def refund(body):
            capture = self._pp_found(self.paypal_captures, "capture_id", cid)
            value = (body.get("amount") or {}).get("value")
            result = self._paypal_refund(capture, value)
            if result is None:
                return 422, {"name": "UNPROCESSABLE_ENTITY", "message": "REFUND_AMOUNT_EXCEEDED"}
            return 201, result

        return self._pp_call(request, refund)

    def _paypal_refund(self, capture, value=None):
        """A refund of the capture, in PayPal's shape: no custom_id, the capture only in links[rel=up]."""
        cid = capture["id"]
        captured = int(round(float(capture["amount"]["value"]) * 100))
        refunded = self.paypal_refunded.get(cid, 0)
        amount = int(round(float(value) * 100)) if value else captured - refunded
        if amount <= 0 or amount > captured - refunded:
            return None
        self.paypal_refunded[cid] = refunded + amount
        capture["status"] = "REFUNDED" if refunded + amount >= captured else "PARTIALLY_REFUNDED"
        rid = f"{uuid.uuid4().hex[:17].upper()}"
        currency = capture["amount"]["currency_code"]
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S-00:00")
        result = {
            "id": rid,
            "status": "PENDING" if self.refund_status == "pending" else "COMPLETED",
            "amount": {"value": f"{amount / 100:.2f}", "currency_code": currency},
            "seller_payable_breakdown": {
                "gross_amount": {"value": f"{amount / 100:.2f}", "currency_code": currency},
                "net_amount": {"value": f"{amount / 100:.2f}", "currency_code": currency},
                "total_refunded_amount": {"value": f"{(refunded + amount) / 100:.2f}", "currency_code": currency},
            },
            "create_time": now,
            "update_time": now,
            "links": [
                {"href": f"{self.base_url}/v2/payments/refunds/{rid}", "rel": "self", "method": "GET"},
                {"href": f"{self.base_url}/v2/payments/captures/{cid}", "rel": "up", "method": "GET"},
            ],
        }
        self.paypal_refunds[rid] = result
        return result

    def refund_paypal_capture(self, cid, value=None):
        """A refund made in PayPal's dashboard: returns PAYMENT.CAPTURE.REFUNDED."""
        with self.lock:
            result = self._paypal_refund(self.paypal_captures[cid], value)
            return self.paypal_event("PAYMENT.CAPTURE.REFUNDED", result, resource_type="refund")

    def settle_paypal_refund(self, rid):
        """A pending PayPal refund completes: PAYMENT.CAPTURE.REFUNDED with the refund."""
        with self.lock:
            refund = self.paypal_refunds[rid]
            refund["status"] = "COMPLETED"
            return self.paypal_event("PAYMENT.CAPTURE.REFUNDED", refund, resource_type="refund")

    def _pp_uncaptured_authorization(self, aid, action):
        """The authorization; PayPal's answer is raised (``Refused``) when it is unknown or was
        captured already and so cannot ``action``."""
        authorization = self._pp_found(self.paypal_authorizations, "authorization_id", aid)
        if authorization["status"] == "CAPTURED":
            raise Refused(
                self._pp_unprocessable(
                    "AUTHORIZATION_ALREADY_CAPTURED",
                    f"Authorization has been previously captured and hence cannot {action}.",
                )
            )
        return authorization

    def _pp_void(self, request, aid):
        def void(body):
            authorization = self._pp_uncaptured_authorization(aid, "be voided")
            authorization["status"] = "VOIDED"
            return 204, {}

        return self._pp_call(request, void)

    def _pp_order_authorize(self, request, oid):
        def authorize(body):
            order = self._pp_found(self.paypal_orders, "order_id", oid)
            if order.get("intent") != "AUTHORIZE":
                return self._pp_unprocessable(
                    "ACTION_DOES_NOT_MATCH_INTENT", "Order was created with an intent to 'CAPTURE'."
                )
            if order["status"] == "COMPLETED":
                return self._pp_unprocessable("ORDER_ALREADY_AUTHORIZED", "Order already has an authorization.")
            if order["status"] != "APPROVED":
                return self._pp_unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order.")
            self._paypal_authorize(order)
            return 201, json.loads(json.dumps(order))

        return self._pp_call(request, authorize)

    @staticmethod
    def _paypal_time(moment):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _paypal_authorize(self, order):
        unit = order["purchase_units"][0]
        aid = f"{uuid.uuid4().hex[:17].upper()}"
        now = datetime.now(timezone.utc)
        authorization = {
            "id": aid,
            "status": "CREATED",
            "amount": dict(unit["amount"]),
            "custom_id": unit.get("custom_id"),
            "invoice_id": unit.get("invoice_id"),
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "supplementary_data": {"related_ids": {"order_id": order["id"]}},
            "expiration_time": self._paypal_time(now + self.paypal_authorization_valid),
            "create_time": self._paypal_time(now),
            "update_time": self._paypal_time(now),
            "links": [
                {"href": f"{self.base_url}/v2/payments/authorizations/{aid}", "rel": "self", "method": "GET"},
                {
                    "href": f"{self.base_url}/v2/payments/authorizations/{aid}/capture",
                    "rel": "capture",
                    "method": "POST",
                },
                {"href": f"{self.base_url}/v2/payments/authorizations/{aid}/void", "rel": "void", "method": "POST"},
                {
                    "href": f"{self.base_url}/v2/payments/authorizations/{aid}/reauthorize",
                    "rel": "reauthorize",
                    "method": "POST",
                },
                {"href": f"{self.base_url}/v2/checkout/orders/{order['id']}", "rel": "up", "method": "GET"},
            ],
        }
        unit["payments"].setdefault("authorizations", []).append(authorization)
        order["status"] = "COMPLETED"
        self.paypal_authorizations[aid] = authorization
        return authorization

    def authorization_event(self, aid):
        """PAYMENT.AUTHORIZATION.CREATED for an authorization, as PayPal sends it."""
        with self.lock:
            return self.paypal_event(
                "PAYMENT.AUTHORIZATION.CREATED", self.paypal_authorizations[aid], resource_type="authorization"
            )

    def _pp_authorization_get(self, request, aid):
        return self._pp_resource(request, self.paypal_authorizations, "authorization_id", aid)

    def _pp_authorization_capture(self, request, aid):
        def capture(body):
            authorization = self._pp_uncaptured_authorization(aid, "be captured again")
            if authorization["status"] == "VOIDED":
                return self._pp_unprocessable("AUTHORIZATION_VOIDED", "A voided authorization cannot be captured.")
            if authorization["expiration_time"] <= self._paypal_time(datetime.now(timezone.utc)):
                authorization["status"] = "EXPIRED"
                return self._pp_unprocessable("AUTHORIZATION_EXPIRED", "An expired authorization cannot be captured.")
            cid = f"{uuid.uuid4().hex[:17].upper()}"
            now = self._paypal_time(datetime.now(timezone.utc))
            amount = dict(body.get("amount") or authorization["amount"])
            result = {
                "id": cid,
                "status": "COMPLETED",
                "amount": amount,
                "final_capture": True,
                "seller_protection": authorization["seller_protection"],
                "custom_id": authorization.get("custom_id"),
                "invoice_id": body.get("invoice_id") or authorization.get("invoice_id"),
                "supplementary_data": {
                    "related_ids": {
                        "order_id": authorization["supplementary_data"]["related_ids"]["order_id"],
                        "authorization_id": aid,
                    }
                },
                "create_time": now,
                "update_time": now,
                "links": [
                    {"href": f"{self.base_url}/v2/payments/captures/{cid}", "rel": "self", "method": "GET"},
                    {"href": f"{self.base_url}/v2/payments/captures/{cid}/refund", "rel": "refund", "method": "POST"},
                    {"href": f"{self.base_url}/v2/payments/authorizations/{aid}", "rel": "up", "method": "GET"},
                ],
            }
            authorization["status"] = "CAPTURED"
            self.paypal_captures[cid] = result
            self.paypal_refunded[cid] = 0
            return 201, json.loads(json.dumps(result))

        return self._pp_call(request, capture)

    def approve_paypal_order(self, oid):
        """The buyer approved: returns CHECKOUT.ORDER.APPROVED with the order as PayPal shows it."""
        with self.lock:
            order = self.paypal_orders[oid]
            if order["status"] == "CREATED":
                order["status"] = "APPROVED"
                order["payer"] = {
                    "name": {"given_name": "Zoë", "surname": "Müller"},
                    "email_address": "zoe.mueller@example.com",
                    "payer_id": "QYR5Z8XDVJNXQ",
                    "address": {"country_code": "CH"},
                }
                order["create_time"] = order["update_time"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            return self.paypal_event("CHECKOUT.ORDER.APPROVED", order, resource_type="checkout-order")

    def capture_paypal_order(self, oid):
        """The buyer approved and the order was captured: returns PAYMENT.CAPTURE.COMPLETED."""
        with self.lock:
            order = self.paypal_orders[oid]
            if order["status"] != "COMPLETED":
                order["status"] = "APPROVED"
                capture = self._paypal_capture(order)
            else:
                capture = order["purchase_units"][0]["payments"]["captures"][0]
            return self.paypal_event("PAYMENT.CAPTURE.COMPLETED", capture)

    def paypal_event(self, event_type, resource, resource_type="capture"):
        summaries = {"CHECKOUT.ORDER.APPROVED": "An order has been approved by buyer"}
        return {
            "id": f"WH-{uuid.uuid4().hex[:17].upper()}-{uuid.uuid4().hex[:17].upper()}",
            "event_version": "1.0",
            "create_time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summaries.get(event_type, event_type),
            "resource": json.loads(json.dumps(resource)),
            "links": [
                {
                    "href": f"{self.base_url}/v1/notifications/webhooks-events/{event_type}",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        }

    @staticmethod
    def paypal_body(event):
        r"""The bytes PayPal would deliver: compact, raw UTF-8, slashes escaped as ``\/``."""
        if isinstance(event, (bytes, bytearray)):
            return bytes(event)
        return json.dumps(event, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/").encode("utf-8")

    def _paypal_sig(self, transmission_id, transmission_time, webhook_id, raw):
        crc = zlib.crc32(raw)
        message = f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()
        return base64.b64encode(hmac.new(self.paypal_signing_key, message, hashlib.sha256).digest()).decode()

    def paypal_headers(self, event, webhook_id=None):
        """Transmission headers for the bytes ``paypal_body(event)`` (or for ``event`` given as bytes)."""
        raw = self.paypal_body(event)
        transmission_id = str(uuid.uuid4())
        transmission_time = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.paypal_deliveries[transmission_id] = raw
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.base_url}/_fake/paypal/cert.pem",
            "PAYPAL-TRANSMISSION-SIG": self._paypal_sig(
                transmission_id, transmission_time, webhook_id or self.paypal_webhook_id, raw
            ),
        }

    @staticmethod
    def raw_member(text, name):
        """The exact text of top-level member ``name`` of the JSON object ``text`` (None if absent)."""
        decoder = json.JSONDecoder()
        index = text.index("{") + 1
        while True:
            while text[index] in " \t\r\n,":
                index += 1
            if text[index] == "}":
                return None
            key, index = decoder.raw_decode(text, index)
            while text[index] in " \t\r\n:":
                index += 1
            start = index
            _, index = decoder.raw_decode(text, index)
            if key == name:
                return text[start:index]

    def _pp_verify(self, request):
        if not self._pp_auth(request):
            return self._pp_error("AUTHENTICATION_FAILURE", "Authentication failed.", 401)
        raw_request = request.get_data()
        try:
            text = raw_request.decode("utf-8")
            body = json.loads(text)
            raw_event = self.raw_member(text, "webhook_event")
            expected = self._paypal_sig(
                body["transmission_id"], body["transmission_time"], body["webhook_id"], raw_event.encode("utf-8")
            )
            ok = body["webhook_id"] == self.paypal_webhook_id and hmac.compare_digest(
                expected, body.get("transmission_sig") or ""
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return self._pp_error("VALIDATION_ERROR", "Invalid request.", 400)
        with self.lock:
            self.paypal_verify_requests.append(raw_request)
        return self._json({"verification_status": "SUCCESS" if ok else "FAILURE"})

    def deliver_paypal(self, event, url=None, times=1, headers=None, timeout=10):
        body = self.paypal_body(event)
        statuses = []
        for _ in range(times):
            sent = headers if headers is not None else self.paypal_headers(body)
            response = requests.post(
                url or self.paypal_webhook_url,
                data=body,
                timeout=timeout,
                headers={"Content-Type": "application/json", **sent},
            )
            statuses.append(response.status_code)
        return statuses

    # ------------------------------------------------------------ control endpoints
    def _ctl_stripe(self, request, pid, action):
        if pid not in self.intents:
            return self._stripe_error("No such payment_intent", 404)
        makers = {
            "succeed": self.succeed_intent,
            "fail": self.fail_intent,
            "authorize": self.authorize_intent,
            "refund": self.refund_intent,
            "dispute": self.dispute_intent,
        }
        if action not in makers:
            return self._stripe_error(f"Unknown action {action}", 404)
        event = makers[action](pid)
        statuses = self.deliver_stripe(event) if request.args.get("deliver") and self.stripe_webhook_url else []
        return self._json({"event": event, "delivered": statuses})

    def _ctl_paypal(self, request, oid, action):
        if oid not in self.paypal_orders:
            return self._pp_error("RESOURCE_NOT_FOUND", "No such order.", 404)
        makers = {"approve": self.approve_paypal_order, "capture": self.capture_paypal_order}
        if action not in makers:
            return self._pp_error("NOT_FOUND", f"Unknown action {action}", 404)
        event = makers[action](oid)
        statuses = self.deliver_paypal(event) if request.args.get("deliver") and self.paypal_webhook_url else []
        return self._json({"event": event, "delivered": statuses})

    def _ctl_state(self, request):
        with self.lock:
            return self._json(
                {
                    "payment_intents": self.intents,
                    "refunds": self.refunds,
                    "paypal_orders": self.paypal_orders,
                    "paypal_authorizations": self.paypal_authorizations,
                    "calls": self.calls,
                }
            )
