"""The documents service: entrypoints and dependencies only; the work is in profile/issuing."""

from nameko.rpc import rpc

from oms_common.events import reliable_event_handler
from oms_common.problems import EXPECTED
from oms_common.providers import Database
from oms_common.service_base import OmsService

from . import credit_notes, delivery_notes, issuing, merging, profile, reminders
from .models import infrastructure


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

    # documents issued from the orders' events
    @reliable_event_handler("orders", "order_submitted")
    def on_order_submitted(self, event):
        issuing.issue_invoice(self.db, event, self._timezone())

    @reliable_event_handler("documents", "shop_profile_changed")
    def on_shop_profile_changed(self, event):
        # the orders that waited for a profile to be invoiced or to get their delivery notes
        issuing.issue_awaiting(self.db, self._timezone())

    @reliable_event_handler("orders", "order_shipped")
    def on_order_shipped(self, event):
        delivery_notes.on_shipped(self.db, event, self._timezone())

    @reliable_event_handler("orders", "order_cancelled")
    def on_order_cancelled(self, event):
        credit_notes.on_cancelled(self.db, event, self._timezone())

    @reliable_event_handler("payments", "payment_status_changed")
    def on_payment_status_changed(self, event):
        credit_notes.on_payment_status(self.db, event, self._timezone())

    @reliable_event_handler("payments", "payment_dunning_changed")
    def on_payment_dunning_changed(self, event):
        reminders.on_dunning(self.db, event, self._timezone())

    @rpc(expected_exceptions=EXPECTED)
    def list_documents(self, reference):
        return issuing.list_documents(self.db, reference)

    @rpc(expected_exceptions=EXPECTED)
    def get_document(self, reference, document_id):
        return issuing.get_document(self.db, reference, document_id)

    @rpc(expected_exceptions=EXPECTED)
    def merged_documents(self, references, kinds=None):
        return merging.merged_documents(self.db, references, kinds)
