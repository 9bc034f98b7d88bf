"""The notifications service: entrypoints and dependencies only; the work is in handlers."""

from nameko.rpc import rpc

from oms_common.event_handlers import handles_each
from oms_common.events import reliable_event_handler
from oms_common.metrics import Metrics
from oms_common.problems import EXPECTED
from oms_common.providers import Database
from oms_common.rpc import TimedRpcProxy
from oms_common.service_base import OmsService
from oms_contracts.events import ORDER_EVENTS

from . import handlers
from .models import infrastructure
from .providers import MailSender


def _mail_order_event(service, event_type, event):
    handlers.handle_order_event(service.db, service.mail, event_type, event)


@handles_each("orders", ORDER_EVENTS, _mail_order_event)
class NotificationsService(OmsService):
    name = "notifications"

    db = Database(infrastructure)
    metrics = Metrics(mail_table="mails")
    mail = MailSender()
    documents = TimedRpcProxy("documents", timeout_setting="DOCUMENTS_RPC_TIMEOUT")

    # triggers from the orders service (S4, S10, S3): on_order_created … on_order_status_changed,
    # one per order event, each mailed as its type says (@handles_each above)

    # trigger from the payments service
    @reliable_event_handler("payments", "payment_status_changed")
    def on_payment_status_changed(self, event):
        handlers.handle_payment_event(self.db, self.mail, event)

    @reliable_event_handler("payments", "payment_dunning_changed")
    def on_payment_dunning_changed(self, event):
        handlers.handle_dunning_event(self.db, self.mail, event)

    # the invoice an order confirmation takes along (OMS_MAIL_ATTACH_INVOICE)
    @reliable_event_handler("documents", "document_issued")
    def on_document_issued(self, event):
        handlers.handle_document_issued(
            self.db,
            lambda reference, document_id: self.documents("get_document", reference, document_id),
            self.mail,
            event,
        )

    # the mail log (gateway: order detail `emails`, order history)
    @rpc(expected_exceptions=EXPECTED)
    def mails_for_order(self, reference):
        return handlers.mails_for_order(self.db, reference)

    @rpc(expected_exceptions=EXPECTED)
    def failed_mails(self, limit=100):
        return handlers.failed_mails(self.db, limit)

    @rpc(expected_exceptions=EXPECTED)
    def retry_mail(self, event_id):
        return handlers.retry_mail(self.db, self.mail, event_id)
