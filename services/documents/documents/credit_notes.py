"""Credit notes: an issued invoice is never changed; money given back after invoicing is
documented by a credit note naming the invoice it corrects.

Two facts make one: orders' ``order_cancelled`` (the whole invoice is credited) and payments'
``payment_status_changed`` to ``refunded``/``partially_refunded`` (the refunded amount is). What
an order's credit notes add up to never exceeds its invoice and never counts the same money
twice: each new note credits only what the fact asks for beyond what is credited already, so a
cancellation that refunds the payment yields one credit note, not two. Numbers come from the
service's own gapless range (the ``credit_note`` row, locked until the note is committed).
"""

from decimal import Decimal

from sqlalchemy import func, select

from oms_common.db import utcnow
from oms_contracts.events import OrderEventSchema, PaymentStatusEventSchema

from . import domain, invoices, rendering
from .claiming import once_per_event
from .labels import labels, language_of
from .models import Document, NumberRange
from .profile import current_profile
from .storing import announce, store

REFUND_STATUSES = ("refunded", "partially_refunded")


def partial_breakdown(tax_rows, amount, invoice_total):
    """The invoice's tax rows scaled to ``amount`` (gross), rounded per rate; the last row takes
    what rounding left so that the rows add up to the amount exactly."""
    if not tax_rows or Decimal(invoice_total) == 0:
        return []
    share = Decimal(amount) / Decimal(invoice_total)
    rows, left = [], Decimal(amount)
    for index, row in enumerate(tax_rows):
        rate = Decimal(row["rate"])
        gross = left if index == len(tax_rows) - 1 else domain.money(Decimal(row["gross"]) * share)
        left -= gross
        tax = domain.money(gross * rate / (100 + rate))
        rows.append({"rate": row["rate"], "net": str(gross - tax), "tax": str(tax), "gross": str(gross)})
    return rows


def credited_order(invoice_order, amount, language):
    """The order as the credit note shows it: all its lines for a full credit, one line per
    rate for a part of it."""
    if Decimal(amount) == Decimal(invoice_order["total"]):
        return invoice_order
    rows = partial_breakdown(invoice_order.get("tax_breakdown") or [], amount, invoice_order["total"])
    name = labels(language)["credit_note"]
    lines = [
        {
            "position": index,
            "article_number": "",
            "name": name,
            "quantity": 1,
            "unit_price": row["gross"],
            "tax_rate": row["rate"],
            "line_total": row["gross"],
        }
        for index, row in enumerate(rows, start=1)
    ]
    return {
        **invoice_order,
        "lines": lines,
        "shipping_cost": None,
        "tax_breakdown": rows,
        "total": str(domain.money(amount)),
        "prices_include_tax": True,
    }


def _issue(uow, invoice, target, event_id, reason, timezone_name):
    """A credit note up to ``target`` credited in all, if anything is left to credit."""
    session = uow.session
    credited = session.execute(
        select(func.coalesce(func.sum(Document.amount), 0)).where(
            Document.corrects_id == invoice.id, Document.kind == "credit_note"
        )
    ).scalar_one()
    amount = domain.money(min(Decimal(target), invoice.amount)) - domain.money(credited)
    if amount <= 0:
        return None
    profile = current_profile(session)
    number_range = session.get(NumberRange, "credit_note", with_for_update=True)
    number, number_range.last_issued = domain.next_number(number_range.prefix, number_range.last_issued)
    order = credited_order(invoice.order_data, amount, language_of(invoice.order_data))
    content = invoices.content(
        order, profile, "credit_note", number, utcnow(), timezone_name, corrects=invoice.number, reason=reason
    )
    pdf = rendering.render(content, (profile or {}).get("logo_bytes"))
    document = store(session, order, "credit_note", number, pdf, event_id, corrects_id=invoice.id, amount=amount)
    announce(uow, document, corrects=invoice.number, amount=str(amount))
    return document.id


def _invoice_of(session, reference):
    return session.execute(
        select(Document).where(Document.order_reference == str(reference), Document.kind == "invoice").with_for_update()
    ).scalar_one_or_none()


@once_per_event(OrderEventSchema)
def on_cancelled(uow, event, timezone_name):
    invoice = _invoice_of(uow.session, event["order"]["reference"])
    issued = None
    if invoice is not None:  # cancelled before it was invoiced: nothing to correct
        issued = _issue(uow, invoice, invoice.amount, event["event_id"], event.get("reason"), timezone_name)
    uow.commit()
    return issued


@once_per_event(PaymentStatusEventSchema)
def on_payment_status(uow, event, timezone_name):
    issued = None
    if event.get("status") in REFUND_STATUSES:
        invoice = _invoice_of(uow.session, event["order_reference"])
        refunded = (event.get("payment") or {}).get("refunded_amount") or "0"
        if invoice is not None:
            issued = _issue(uow, invoice, refunded, event["event_id"], event.get("reason"), timezone_name)
    uow.commit()
    return issued
