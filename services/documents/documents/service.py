"""The documents service: entrypoints and dependencies only; the work is in profile/issuing."""

from nameko.rpc import rpc

from oms_common.event_handlers import handles_each
from oms_common.events import reliable_event_handler
from oms_common.problems import EXPECTED
from oms_common.providers import Database
from oms_common.service_base import OmsService

from . import credit_notes, delivery_notes, issuing, merging, profile, reminders
from .models import infrastructure

# the use case each event runs, with the event and the shop's time zone: the invoice, the delivery
# note, a credit note (a cancellation, a refund), a reminder
FROM_ORDERS = {
    "order_submitted": issuing.issue_invoice,
    "order_shipped": delivery_notes.on_shipped,
    "order_cancelled": credit_notes.on_cancelled,
}
FROM_PAYMENTS = {
    "payment_status_changed": credit_notes.on_payment_status,
    "payment_dunning_changed": reminders.on_dunning,
}
ISSUES = FROM_ORDERS | FROM_PAYMENTS


def _issue(service, event_type, event):
    ISSUES[event_type](service.db, event, service._timezone())


@handles_each("orders", FROM_ORDERS, _issue)
@handles_each("payments", FROM_PAYMENTS, _issue)
class DocumentsService(OmsService):
    name = "documents"

    db = Database(infrastructure)

    def _timezone(self):
        return self.settings("DOCUMENTS.TIMEZONE")

    def _logo_max_bytes(self):
        return self.settings("DOCUMENTS.LOGO_MAX_BYTES")

    # the shop profile (admin only at the gateway)
    @rpc(expected_exceptions=EXPECTED)
    def get_shop_profile(self):
        return profile.get_profile(self.db)

    @rpc(expected_exceptions=EXPECTED)
    def put_shop_profile(self, data, actor=None):
        return profile.put_profile(self.db, data, actor, self._logo_max_bytes())

    # documents issued from the orders' and payments' events: on_order_submitted …
    # on_payment_dunning_changed, one per event of ISSUES (@handles_each above)
    @reliable_event_handler("documents", "shop_profile_changed")
    def on_shop_profile_changed(self, event):
        # the orders that waited for a profile to be invoiced or to get their delivery notes
        issuing.issue_awaiting(self.db, self._timezone())

    @rpc(expected_exceptions=EXPECTED)
    def list_documents(self, reference):
        return issuing.list_documents(self.db, reference)

    @rpc(expected_exceptions=EXPECTED)
    def get_document(self, reference, document_id):
        return issuing.get_document(self.db, reference, document_id)

    @rpc(expected_exceptions=EXPECTED)
    def merged_documents(self, references, kinds=None):
        return merging.merged_documents(self.db, references, kinds)
