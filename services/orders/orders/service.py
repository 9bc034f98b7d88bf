"""The orders service: entrypoints and dependencies only; the work is in the use case modules
(intake, workflow, customers, numbering, payment_status, notes) and the reads (reads, queries).
An entrypoint that only hands its arguments to a use case is one line (``use_case_rpc``); one
that adds settings or a callback, or has defaults of its own, is written out."""

import logging

from nameko.exceptions import UnknownService
from nameko.rpc import rpc

from oms_common.events import reliable_event_handler
from oms_common.problems import EXPECTED, ServiceUnavailable
from oms_common.providers import Database
from oms_common.rpc import TimedRpcProxy
from oms_common.service_base import OmsService
from oms_common.timers import configured_timer
from oms_common.use_case_rpc import use_case_rpc

from . import customers, intake, notes, numbering, payment_status, queries, reads, workflow
from .models import infrastructure
from .tax import tax_settings

log = logging.getLogger(__name__)


class OrdersService(OmsService):
    name = "orders"

    db = Database(infrastructure)
    payments = TimedRpcProxy("payments", timeout_setting="PAYMENTS_RPC_TIMEOUT")

    # orders: create and the open-order session (S14)
    @rpc(expected_exceptions=EXPECTED)
    def create_order(self, data, actor=None, idempotency_key=None):
        order, replayed = intake.create_order(self.db, data, actor, idempotency_key, tax_settings(self.settings))
        return {"order": order, "replayed": replayed}

    replace_lines = use_case_rpc(intake.replace_lines)
    submit_order = use_case_rpc(intake.submit_order)

    @rpc(expected_exceptions=EXPECTED)
    def pause_order(self, reference, data=None, actor=None):
        return workflow.pause_order(self.db, reference, data, actor)

    assign_order = use_case_rpc(workflow.assign_order)

    @configured_timer("OPEN_ORDER_SWEEP_SECONDS")
    def cancel_expired_open_orders(self):
        """Open orders whose session expired are cancelled; paused ones are kept. Every
        replica runs this: the handler's SKIP LOCKED batches keep them from colliding."""
        cancelled = workflow.cancel_expired_open_orders(self.db, self.settings("OPEN_ORDER_TTL_SECONDS"))
        if cancelled:
            log.info("cancelled %d expired open orders: %s", len(cancelled), ", ".join(cancelled[:50]))

    # status (S3, S4, S10, bulk)
    @rpc(expected_exceptions=EXPECTED)
    def ship_order(self, reference, data, actor=None):
        return workflow.ship_order(self.db, reference, data, actor, self._capture)

    cancel_order = use_case_rpc(workflow.cancel_order)

    @rpc(expected_exceptions=EXPECTED)
    def change_status(self, reference, data, actor=None):
        return workflow.change_status(self.db, reference, data, actor, self._capture)

    @rpc(expected_exceptions=EXPECTED)
    def bulk_change_status(self, data, actor=None):
        return workflow.bulk_change_status(self.db, data, actor, self._capture)

    def _capture(self, reference, actor):
        """Capture on shipment: the ship waits for payments' answer (with a deadline) before it
        commits, so an order never ships with its money uncollected; payments captures at most
        once (locked row, idempotency key). Asking from here, not from the gateway, covers every
        way an order ships (ship, status change, bulk)."""
        try:
            return self.payments("capture_for_shipment", reference, actor)
        except UnknownService:
            raise ServiceUnavailable("The payments service is not running; the order cannot ship now.") from None

    # customers (S15)
    reassign_customer = use_case_rpc(customers.reassign_customer)
    merge_customers = use_case_rpc(customers.merge_customers)

    # numbering (S7, S8)
    get_numbering = use_case_rpc(numbering.get_numbering)
    update_numbering = use_case_rpc(numbering.update_numbering)
    set_external_invoice_number = use_case_rpc(numbering.set_external_invoice_number)

    # reads (S1, S2, S5, S6, S12)
    @rpc(expected_exceptions=EXPECTED)
    def list_orders(self, query=None, psp_references=None):
        return reads.list_orders(
            self.db, query, self.settings("CURSOR_SECRET"), psp_references, self.settings("SEARCH_COUNT_LIMIT")
        )

    get_order = use_case_rpc(queries.get_order)
    order_history = use_case_rpc(queries.order_history)

    @rpc(expected_exceptions=EXPECTED)
    def list_customers(self, query=None):
        return reads.list_customers(self.db, query)

    get_customer = use_case_rpc(reads.get_customer)

    @rpc(expected_exceptions=EXPECTED)
    def customer_orders(self, customer_id, query=None, psp_references=None):
        return reads.customer_orders(
            self.db,
            customer_id,
            query,
            self.settings("CURSOR_SECRET"),
            psp_references,
            self.settings("SEARCH_COUNT_LIMIT"),
        )

    @rpc(expected_exceptions=EXPECTED)
    def article_report(self, query=None):
        return queries.article_report(self.db, query)

    # internal notes (S19)
    add_note = use_case_rpc(notes.add_note)
    edit_note = use_case_rpc(notes.edit_note)
    list_notes = use_case_rpc(notes.list_notes)

    @rpc(expected_exceptions=EXPECTED)
    def latest_notes(self, references):
        return notes.latest_notes(self.db, {"references": references})

    # payment status read copy (S13)
    @reliable_event_handler("payments", "payment_status_changed")
    def on_payment_status_changed(self, event):
        payment_status.apply_payment_status(self.db, event)
