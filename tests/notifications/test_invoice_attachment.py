"""The order confirmation with its invoice (OMS_MAIL_ATTACH_INVOICE): the real orders and
documents services make the order and its invoice, the mail goes to a real SMTP server."""

import base64
import hashlib
import io

import pytest
from nameko.testing.services import entrypoint_hook
from pypdf import PdfReader

from documents.service import DocumentsService
from tests.documents.conftest import shop_profile

from .conftest import purge_event_queues, wait_for
from .test_notifications_with_orders import ADMIN, kinds_sent_to, new_order
from .test_notifications_with_orders import orders as orders  # noqa: F401 - the fixture


def call(container, method, *args):
    with entrypoint_hook(container, method) as entrypoint:
        return entrypoint(*args)


@pytest.fixture
def documents(container_factory, service_config):
    container = container_factory(DocumentsService, service_config)
    purge_event_queues(container, service_config["AMQP_URI"])
    container.start()
    call(container, "put_shop_profile", shop_profile(), ADMIN)
    return container


def confirmation_to(smtp_sink, address):
    return wait_for(lambda: kinds_sent_to(smtp_sink, address), timeout=30, message="the order confirmation")[0]


def test_the_confirmation_carries_the_invoice_exactly_as_issued(
    orders,  # noqa: F811
    documents,
    start_notifications,
    smtp_sink,
):
    notifications = start_notifications(ATTACH_INVOICE=True, INVOICE_WAIT_SECONDS=60)
    order = new_order(orders, "fr")

    message = confirmation_to(smtp_sink, order["customer"]["email"])
    assert message.get_content_type() == "multipart/mixed"
    attachments = list(message.iter_attachments())
    assert [part.get_content_type() for part in attachments] == ["application/pdf"]
    assert attachments[0].get_filename() == f"Facture-{order['invoice_number']}.pdf"
    # the text and the HTML alternative are still there, in French
    assert "commande" in message.get_body(("plain",)).get_content().lower()
    assert message.get_body(("html",)) is not None

    content = attachments[0].get_content()
    issued = call(documents, "list_documents", order["reference"])
    invoice = next(document for document in issued if document["kind"] == "invoice")
    stored = call(documents, "get_document", order["reference"], invoice["id"])
    assert content == base64.b64decode(stored["content"])
    assert hashlib.sha256(content).hexdigest() == invoice["sha256"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert order["invoice_number"] in text and order["reference"] in text

    log = call(notifications, "mails_for_order", order["reference"])
    assert [(m["kind"], m["attachment"], m["attachment_name"]) for m in log] == [
        ("order_confirmation", "invoice", f"Facture-{order['invoice_number']}.pdf")
    ]


def test_without_an_invoice_in_time_the_confirmation_goes_alone_and_says_so(
    orders,  # noqa: F811
    start_notifications,
    smtp_sink,
):
    # no documents service runs: the invoice never comes
    notifications = start_notifications(ATTACH_INVOICE=True, INVOICE_WAIT_SECONDS=1)
    order = new_order(orders, "de")

    message = confirmation_to(smtp_sink, order["customer"]["email"])
    assert list(message.iter_attachments()) == []
    log = call(notifications, "mails_for_order", order["reference"])
    assert [(m["status"], m["attachment"], m["attachment_name"]) for m in log] == [("sent", "invoice", None)]


def test_with_the_setting_off_the_confirmation_has_no_attachment(
    orders,  # noqa: F811
    documents,
    start_notifications,
    smtp_sink,
):
    notifications = start_notifications()
    order = new_order(orders, "en")

    message = confirmation_to(smtp_sink, order["customer"]["email"])
    assert list(message.iter_attachments()) == []
    assert [m["attachment"] for m in call(notifications, "mails_for_order", order["reference"])] == [None]
