"""The payments service: entrypoints and dependencies only; the work is in the use-case modules
(reads, staff_operations, order_events, webhook_inbox, webhook_processing, reconciliation).
An entrypoint that only hands its arguments to a use case is one line (``use_case_rpc``)."""

import base64
import binascii
from datetime import date, datetime
from zoneinfo import ZoneInfo

from nameko.dependency_providers import Config
from nameko.exceptions import UnknownService
from nameko.rpc import rpc

from oms_common.events import reliable_event_handler
from oms_common.listener import http
from oms_common.problems import EXPECTED, BadRequest, Problem, ValidationFailed
from oms_common.providers import Database
from oms_common.service_base import OmsService
from oms_common.timers import configured_timer
from oms_common.use_case_rpc import use_case_rpc
from oms_common.web import json_response, problem_response

from . import (
    dunning,
    lookup,
    order_events,
    reads,
    reconciliation,
    records,
    staff_operations,
    webhook_inbox,
    webhook_processing,
)
from .bank_statements import folder as bank_folder
from .bank_statements import imports as bank_imports
from .bank_statements import references as payment_refs
from .bank_statements import unmatched as bank_entries
from .dependencies import InboxProcessor, PspAdapters, Settings, TimedRpcProxy
from .models import infrastructure
from .webhooks import InvalidWebhook

MAX_WEBHOOK_BYTES = 512 * 1024  # PSP events are a few kB; the signature is checked on the raw body
# the listener reads (bounded, with a deadline) and inspects the body before a worker runs;
# a PSP is told 400 for anything it sent wrong, never 422
WEBHOOK = {"max_body_bytes": MAX_WEBHOOK_BYTES, "body_problem": BadRequest, "too_large_problem": BadRequest}


def _decoded(encoded):
    """The camt bytes the gateway sent in base64 (RPC payloads are JSON)."""
    try:
        return base64.b64decode(encoded or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValidationFailed("The document is not valid base64.", {"document": ["Not base64."]}) from None


class PaymentsService(OmsService):
    name = "payments"

    db = Database(infrastructure)
    psp = PspAdapters()
    settings = Settings()
    orders = TimedRpcProxy("orders", timeout_setting="ORDERS_RPC_TIMEOUT")
    inbox = InboxProcessor()
    config = Config()

    # reads (detail view, S9 list, webhook visibility)
    @rpc(expected_exceptions=EXPECTED)
    def get_payment(self, reference):
        return self._first_use(reference, lambda: reads.get_payment(self.db, reference, self.configured_providers()))

    orders_for_psp_id = use_case_rpc(lookup.orders_for_psp_id)  # the order search asks

    @rpc(expected_exceptions=EXPECTED)
    def configured_providers(self):
        """What each provider can do with the settings given (the gateway refuses PSP orders by it)."""
        return reads.provider_configuration(self.psp, self.config)

    payment_history = use_case_rpc(reads.payment_history)

    @rpc(expected_exceptions=EXPECTED)
    def list_stuck_payments(self, query=None):
        return reconciliation.list_stuck_payments(self.db, query, self.settings["stuck_after_seconds"])

    list_webhook_events = use_case_rpc(webhook_inbox.list_webhook_events)
    list_unmatched_webhook_events = use_case_rpc(webhook_inbox.list_unmatched_webhook_events)

    @rpc(expected_exceptions=EXPECTED)
    def replay_webhook_event(self, inbox_id, actor=None):
        result = webhook_inbox.replay_webhook_event(self.db, inbox_id, actor)
        self.inbox.wake()
        return result

    # staff operations (S9, S11, S13)
    @rpc(expected_exceptions=EXPECTED)
    def set_payment_status(self, reference, data, actor=None):
        return self._first_use(reference, lambda: staff_operations.set_payment_status(self.db, reference, data, actor))

    @rpc(expected_exceptions=EXPECTED)
    def refund_payment(self, reference, data, actor=None):
        return self._first_use(
            reference, lambda: staff_operations.refund_payment(self.db, self.psp, reference, data, actor)
        )

    @rpc(expected_exceptions=EXPECTED)
    def request_dunning(self, reference, data, actor=None):
        return self._first_use(reference, lambda: self._request_dunning(reference, data, actor))

    def _request_dunning(self, reference, data, actor):
        return staff_operations.request_dunning(
            self.db,
            reference,
            data,
            actor,
            lambda *args: self.orders("change_status", *args),
            self.settings["dunning_fees"],
        )

    @rpc(expected_exceptions=EXPECTED)
    def complete_payment(self, reference, data, actor=None):
        return self._first_use(reference, lambda: staff_operations.complete_payment(self.db, reference, data, actor))

    @rpc(expected_exceptions=EXPECTED)
    def capture_for_shipment(self, reference, actor=None):
        """Called by orders while it ships the order, before the ship commits (see staff_operations)."""
        return self._first_use(
            reference, lambda: staff_operations.capture_for_shipment(self.db, self.psp, reference, actor)
        )

    def _first_use(self, reference, call):
        """Read your writes: an order the client was just told exists has its payment record
        even while the order event is still on its way (see records)."""
        return records.on_first_use(call, self.db, self.psp, reference, self._order_of)

    def _order_of(self, reference):
        try:
            return self.orders("get_order", reference)
        except UnknownService:
            return None  # no orders service on this broker: nothing to make a record from

    # bank statements (camt.053 / camt.054) and the payment references they bring back
    @rpc(expected_exceptions=EXPECTED)
    def payment_references(self, order_reference):
        return payment_refs.references_of(order_reference)

    order_for_payment_reference = use_case_rpc(payment_refs.order_for_reference)

    @rpc(expected_exceptions=EXPECTED)
    def import_bank_statement(self, encoded, actor=None):
        return bank_imports.import_statement(
            self.db, _decoded(encoded), self.settings["bank_statement_max_bytes"], actor, self._order_of_invoice
        )

    get_bank_statement_import = use_case_rpc(bank_imports.get_import)
    list_bank_entries = use_case_rpc(bank_entries.list_entries)
    assign_bank_entry = use_case_rpc(bank_entries.assign)

    @configured_timer("BANK_STATEMENT_SCAN_SECONDS")
    def bank_statement_folder_timer(self):
        bank_folder.scan(
            self.db,
            self.settings["bank_statement_dir"],
            self.settings["bank_statement_max_bytes"],
            self._order_of_invoice,
        )

    def _order_of_invoice(self, invoice_number):
        """The order with exactly this invoice number (orders owns the numbers), or None."""
        try:
            found = self.orders("list_orders", {"q": invoice_number, "page_size": 5})
        except UnknownService:
            return None
        return next(
            (item["reference"] for item in found.get("items", []) if item.get("invoice_number") == invoice_number), None
        )

    @rpc(expected_exceptions=EXPECTED)
    def reconcile_now(self, older_than_seconds=None):
        return self._reconcile(older_than_seconds)

    # PSP webhooks: verify, persist, ack; the inbox processor applies them right after
    @http("POST", "/webhooks/stripe", **WEBHOOK)
    def stripe_webhook(self, request):
        return self._webhook(
            request,
            lambda body: webhook_inbox.receive_stripe_webhook(
                self.db,
                body,
                request.headers.get("Stripe-Signature"),
                self.settings["stripe_webhook_secrets"],
                self.settings["stripe_tolerance"],
            ),
        )

    @http("POST", "/webhooks/paypal", **WEBHOOK)
    def paypal_webhook(self, request):
        return self._webhook(
            request,
            lambda body: webhook_inbox.receive_paypal_webhook(self.db, self.psp["paypal"], body, request.headers),
        )

    def _webhook(self, request, receive):
        if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
            return problem_response(BadRequest(f"The body is larger than {MAX_WEBHOOK_BYTES} bytes."))
        try:
            result = receive(request.get_data(cache=False))
            if not result["duplicate"]:
                self.inbox.accepted()
            return json_response(result)
        except InvalidWebhook as error:
            return problem_response(BadRequest(str(error)))
        except Problem as problem:
            return problem_response(problem)

    # orders events
    @reliable_event_handler("orders", "order_created")
    def on_order_created(self, event):
        order_events.record_order(
            self.db, self.psp, event, order_events.CONSUMER_ORDER_CREATED, self.settings["open_at_psp"]
        )

    @reliable_event_handler("orders", "order_submitted")
    def on_order_submitted(self, event):
        order_events.record_order(
            self.db, self.psp, event, order_events.CONSUMER_ORDER_SUBMITTED, self.settings["open_at_psp"]
        )

    @reliable_event_handler("orders", "order_cancelled")
    def on_order_cancelled(self, event):
        order_events.order_cancelled(self.db, self.psp, event)

    @reliable_event_handler("orders", "order_status_changed")
    def on_order_status_changed(self, event):
        order_events.order_status_changed(self.db, event, self.settings["dunning_fees"])

    # the invoice's due date (documents), which automatic dunning counts from
    @reliable_event_handler("documents", "document_issued")
    def on_document_issued(self, event):
        dunning.record_due_date(self.db, event)

    # automatic dunning of overdue invoices (OMS_AUTO_DUNNING, off by default)
    @configured_timer("AUTO_DUNNING_SCAN_SECONDS")
    def auto_dunning_timer(self):
        self._auto_dunning()

    @rpc(expected_exceptions=EXPECTED)
    def auto_dunning_now(self, today=None):
        """One round of the automatic dunning now (``today``: an ISO date, for operators and tests)."""
        return self._auto_dunning(date.fromisoformat(today) if today else None)

    def _auto_dunning(self, today=None):
        if not self.settings["auto_dunning"]:
            return None
        return dunning.scan(
            self.db,
            self._request_dunning,
            today or datetime.now(ZoneInfo(self.settings["timezone"])).date(),
            self.settings["dunning_1_after_days"],
            self.settings["dunning_2_after_days"],
        )

    # lost callbacks (S9) and the inbox safety net
    @configured_timer("RECONCILE_INTERVAL_SECONDS")
    def reconcile_timer(self):
        self._reconcile()

    @configured_timer("INBOX_SWEEP_SECONDS")
    def sweep_inbox_timer(self):
        webhook_processing.sweep_inbox(self.db, self.psp)

    def _reconcile(self, older_than_seconds=None):
        age = self.settings["stuck_after_seconds"] if older_than_seconds is None else int(older_than_seconds)
        return reconciliation.reconcile(
            self.db, self.psp, age, self.settings["reconcile_batch"], self.settings["reconcile_recheck_seconds"]
        )
