"""The orders service: entrypoints and dependencies only; the work is in the use case modules
(intake, workflow, customers, numbering, payment_status, notes) and the reads (reads, queries)."""

import logging

from nameko.exceptions import UnknownService
from nameko.rpc import rpc

from oms_common.events import reliable_event_handler
from oms_common.problems import EXPECTED, ServiceUnavailable
from oms_common.providers import Database
from oms_common.rpc import TimedRpcProxy
from oms_common.service_base import OmsService
from oms_common.timers import configured_timer

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

    @rpc(expected_exceptions=EXPECTED)
    def replace_lines(self, reference, data, actor=None):
        return intake.replace_lines(self.db, reference, data, actor)

    @rpc(expected_exceptions=EXPECTED)
    def submit_order(self, reference, data, actor=None):
        return intake.submit_order(self.db, reference, data, actor)

    @rpc(expected_exceptions=EXPECTED)
    def pause_order(self, reference, data=None, actor=None):
        return workflow.pause_order(self.db, reference, data, actor)

    @rpc(expected_exceptions=EXPECTED)
    def assign_order(self, reference, data, actor=None):
        return workflow.assign_order(self.db, reference, data, actor)

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

    @rpc(expected_exceptions=EXPECTED)
    def cancel_order(self, reference, data, actor=None):
        return workflow.cancel_order(self.db, reference, data, actor)

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
    @rpc(expected_exceptions=EXPECTED)
    def reassign_customer(self, reference, data, actor=None):
        return customers.reassign_customer(self.db, reference, data, actor)

    @rpc(expected_exceptions=EXPECTED)
    def merge_customers(self, customer_id, data, actor=None):
        return customers.merge_customers(self.db, customer_id, data, actor)

    # numbering (S7, S8)
    @rpc(expected_exceptions=EXPECTED)
    def get_numbering(self):
        return numbering.get_numbering(self.db)

    @rpc(expected_exceptions=EXPECTED)
    def update_numbering(self, data, actor=None):
        return numbering.update_numbering(self.db, data, actor)

    @rpc(expected_exceptions=EXPECTED)
    def set_external_invoice_number(self, reference, data, actor=None):
        return numbering.set_external_invoice_number(self.db, reference, data, actor)

    # reads (S1, S2, S5, S6, S12)
    @rpc(expected_exceptions=EXPECTED)
    def list_orders(self, query=None, psp_references=None):
        return reads.list_orders(
            self.db, query, self.settings("CURSOR_SECRET"), psp_references, self.settings("SEARCH_COUNT_LIMIT")
        )

    @rpc(expected_exceptions=EXPECTED)
    def get_order(self, reference):
        return queries.get_order(self.db, reference)

    @rpc(expected_exceptions=EXPECTED)
    def order_history(self, reference):
        return queries.order_history(self.db, reference)

    @rpc(expected_exceptions=EXPECTED)
    def list_customers(self, query=None):
        return reads.list_customers(self.db, query)

    @rpc(expected_exceptions=EXPECTED)
    def get_customer(self, customer_id):
        return reads.get_customer(self.db, customer_id)

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
    @rpc(expected_exceptions=EXPECTED)
    def add_note(self, reference, data, author, actor=None):
        return notes.add_note(self.db, reference, data, author, actor)

    @rpc(expected_exceptions=EXPECTED)
    def edit_note(self, reference, note_id, data, author, actor=None):
        return notes.edit_note(self.db, reference, note_id, data, author, actor)

    @rpc(expected_exceptions=EXPECTED)
    def list_notes(self, reference):
        return notes.list_notes(self.db, reference)

    @rpc(expected_exceptions=EXPECTED)
    def latest_notes(self, references):
        return notes.latest_notes(self.db, {"references": references})

    # payment status read copy (S13)
    @reliable_event_handler("payments", "payment_status_changed")
    def on_payment_status_changed(self, event):
        payment_status.apply_payment_status(self.db, event)
