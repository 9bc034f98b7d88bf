"""Delivery notes: when orders announces ``order_shipped``, the parcel gets a delivery note
``DN-<n>`` from the service's own gapless range (the ``delivery_note`` row, locked until the note
is committed): the shop, the customer and the delivery address, the date of issue, the order
reference, the invoice number and the tracking number where the order has them, and the goods
with their quantities, in the customer's language. It names no price and carries no QR-bill.

One per order, like an invoice: the event id is claimed in the same transaction as the document
and a unique index allows one delivery note per order, so a redelivered or replayed event (or a
second shipment of the same order) changes nothing. Before the shop profile exists the order
waits in ``delivery_notes_awaiting_profile`` and gets its note when the profile is saved.
"""

import logging

from oms_common.db import utcnow
from oms_common.problems import load
from oms_contracts.events import OrderEventSchema

from . import domain, invoices, rendering
from .labels import format_date, labels, language_of
from .models import DeliveryNoteAwaitingProfile, NumberRange
from .storing import announce, issue_once, issue_waiting, store

log = logging.getLogger(__name__)
KIND = "delivery_note"
TEMPLATE = "delivery_note.txt"


def shipped_order(event):
    """The order as the shipment left, with the tracking number its event names."""
    order = event["order"]
    return {**order, "tracking_number": event.get("tracking_number") or order.get("tracking_number")}


def content(order, profile, number, issued_at, timezone_name):
    """The delivery-note template's variables: the goods without a price."""
    language = language_of(order)
    recipient = invoices.buyer_lines(order.get("shipping_address") or order.get("billing_address") or {})
    customer = (order.get("customer") or {}).get("name")
    return {
        "labels": labels(language),
        "number": number,
        "seller": {"vat_number": profile.get("vat_number")},
        "seller_lines": invoices.seller_lines(profile),
        "buyer_lines": recipient,
        # the customer by name when the parcel goes to somebody else
        "customer": customer if customer and customer not in recipient else None,
        "issued_on": format_date(invoices.shop_day(issued_at, timezone_name), language),
        "order_reference": order["reference"],
        "invoice_number": order.get("invoice_number"),
        "tracking_number": order.get("tracking_number"),
        "lines": [
            {key: line.get(key, "") for key in ("position", "article_number", "name", "quantity")}
            for line in order.get("lines") or []
        ],
    }


def on_shipped(source, event, timezone_name):
    """``order_shipped``: the order's delivery note, once. Answers its id or None."""
    event = load(OrderEventSchema(), event)
    return issue_once(
        source,
        event["event_id"],
        shipped_order(event),
        KIND,
        DeliveryNoteAwaitingProfile,
        lambda uow, order, profile, event_id: _issue(uow, order, profile, event_id, timezone_name),
    )


def _issue(uow, order, profile, event_id, timezone_name):
    session = uow.session
    number_range = session.get(NumberRange, KIND, with_for_update=True)
    number, number_range.last_issued = domain.next_number(number_range.prefix, number_range.last_issued)
    text = content(order, profile, number, utcnow(), timezone_name)
    pdf = rendering.render(text, profile.get("logo_bytes"), template=TEMPLATE)
    document = store(session, order, KIND, number, pdf, event_id)
    announce(uow, document)
    return document


def issue_awaiting(source, timezone_name):
    """Every shipped order that waited for the shop profile gets its delivery note."""
    return issue_waiting(
        source,
        DeliveryNoteAwaitingProfile,
        KIND,
        lambda uow, order, profile, event_id: _issue(uow, order, profile, event_id, timezone_name),
    )
