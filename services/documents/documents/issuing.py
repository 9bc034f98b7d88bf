"""Issuing documents (once, from the event that makes them true) and handing them out unchanged.

An invoice is issued when orders announces ``order_submitted`` with an invoice number of its
own making (the event carries the number issued at commit; with invoice numbering switched off
an ERP owns invoicing and OMS issues none). The event id is claimed in the same transaction as
the document, and one invoice per order is a unique index: a redelivered or replayed event
changes nothing. The bytes are rendered once and stored with their SHA-256; every download
returns them as stored. Before the shop profile exists nobody can issue an invoice: the order
waits in ``invoices_awaiting_profile`` and is invoiced when the profile is saved (with the
delivery notes that waited likewise, see delivery_notes.py).
"""

import base64
import logging

from sqlalchemy import select

from oms_common.db import utcnow
from oms_common.problems import NotFound, load
from oms_contracts.documents import DocumentSchema
from oms_contracts.events import OrderEventSchema

from . import delivery_notes, due_dates, invoices, qr, rendering
from .labels import language_of
from .models import Document, InvoiceAwaitingProfile
from .storing import announce, issue_once, issue_waiting, store

log = logging.getLogger(__name__)
KIND = "invoice"
_dump = DocumentSchema()


def render_invoice(order, profile, issued_at, timezone_name):
    """(pdf bytes, the QRBill or None) of the invoice of ``order``."""
    number = order["invoice_number"]
    language = language_of(order)
    content = invoices.content(order, profile, "invoice", number, issued_at, timezone_name)
    bill = qr.qr_bill(order, profile, number, language)
    pdf = rendering.render(content, profile.get("logo_bytes"), qr.drawn(bill))
    return pdf, bill


def issue_invoice(source, event, timezone_name):
    event = load(OrderEventSchema(), event)
    return issue_once(
        source,
        event["event_id"],
        event["order"],
        KIND,
        InvoiceAwaitingProfile,
        lambda uow, order, profile, event_id: _issue(uow, order, profile, event_id, timezone_name),
        # an invoice of OMS's making only: with an external number an ERP owns invoicing
        wanted=lambda order: bool(order.get("invoice_number")) and not order.get("invoice_number_external"),
    )


def _issue(uow, order, profile, event_id, timezone_name):
    issued_at = utcnow()
    pdf, _bill = render_invoice(order, profile, issued_at, timezone_name)
    document = store(uow.session, order, KIND, order["invoice_number"], pdf, event_id, amount=order["total"])
    announce(uow, document, due_date=due_dates.of_invoice(order, profile, issued_at, timezone_name))
    return document


def issue_awaiting(source, timezone_name):
    """Every document that waited for the shop profile: the invoices, then the delivery notes of
    the orders shipped meanwhile. Answers how many were issued."""
    invoiced = issue_waiting(
        source,
        InvoiceAwaitingProfile,
        KIND,
        lambda uow, order, profile, event_id: _issue(uow, order, profile, event_id, timezone_name),
    )
    return invoiced + delivery_notes.issue_awaiting(source, timezone_name)


def awaiting_profile(source, reference):
    with source.read_session() as session:
        return session.get(InvoiceAwaitingProfile, str(reference)) is not None


def _document_dump(session, document):
    shown = _dump.dump(document)
    if document.corrects_id:
        shown["corrects"] = session.get(Document, document.corrects_id).number
    return shown


def list_documents(source, reference):
    with source.read_session() as session:
        rows = (
            session.execute(select(Document).where(Document.order_reference == str(reference)).order_by(Document.id))
            .scalars()
            .all()
        )
        return [_document_dump(session, row) for row in rows]


def get_document(source, reference, document_id):
    """The document's facts and its bytes (base64), exactly as stored when it was issued."""
    with source.read_session() as session:
        document = session.get(Document, int(document_id))
        if document is None or document.order_reference != str(reference):
            raise NotFound(f"Order {reference} has no document {document_id}.")
        return {**_document_dump(session, document), "content": base64.b64encode(document.content).decode("ascii")}
