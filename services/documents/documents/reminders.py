"""Payment reminders: when payments announces a dunning level (``payment_dunning_changed``), the
order's invoice gets a reminder ``<invoice number>-M<level>`` that shows the invoice amount, the
dunning fees, what came in and the open amount, with a fresh QR-bill for the open amount (the
same QR or creditor reference as the invoice: payments keeps the one ``oms_common.payment_references``
derives from the order reference, which the bill derives too).

Issued once, like every document: the event id is claimed in the same transaction and the number
is unique per kind, so a redelivered event changes nothing. Stored with its SHA-256, listed
with the order's documents, announced with ``document_issued`` (kind ``reminder``). An order
without an invoice of OMS's making gets none.
"""

import logging
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oms_common.db import utcnow
from oms_contracts.events import PaymentDunningEventSchema

from . import invoices, qr, rendering
from .claiming import once_per_event
from .labels import format_date, labels, language_of
from .models import Document
from .profile import current_profile
from .storing import announce, store

log = logging.getLogger(__name__)
KIND = "reminder"
TEMPLATE = "reminder.txt"

REMINDER_LABELS = {
    "de": {
        "title": {1: "Zahlungserinnerung", 2: "2. Mahnung"},
        "number": "Mahnungsnummer",
        "text": {
            1: "Sicher ist es Ihrer Aufmerksamkeit entgangen: Die folgende Rechnung ist noch offen.",
            2: "Trotz unserer Zahlungserinnerung ist die folgende Rechnung noch offen.",
        },
        "invoice_amount": "Rechnungsbetrag",
        "received": "Bereits bezahlt",
        "fees": "Mahngebühren",
        "open_amount": "Offener Betrag",
        "pay_within": "Bitte überweisen Sie den offenen Betrag innerhalb von 10 Tagen mit dem Einzahlungsschein unten.",
    },
    "fr": {
        "title": {1: "Rappel de paiement", 2: "2e rappel"},
        "number": "Numéro de rappel",
        "text": {
            1: "Sauf erreur de notre part, la facture suivante est encore ouverte.",
            2: "Malgré notre rappel, la facture suivante est toujours ouverte.",
        },
        "invoice_amount": "Montant de la facture",
        "received": "Déjà payé",
        "fees": "Frais de rappel",
        "open_amount": "Montant dû",
        "pay_within": "Merci de régler le montant dû dans les 10 jours avec le bulletin de versement ci-dessous.",
    },
    "it": {
        "title": {1: "Promemoria di pagamento", 2: "2° sollecito"},
        "number": "Numero del sollecito",
        "text": {
            1: "Forse le è sfuggito: la fattura seguente è ancora in sospeso.",
            2: "Nonostante il nostro promemoria, la fattura seguente è ancora in sospeso.",
        },
        "invoice_amount": "Importo della fattura",
        "received": "Già pagato",
        "fees": "Spese di sollecito",
        "open_amount": "Importo dovuto",
        "pay_within": (
            "La preghiamo di saldare l'importo dovuto entro 10 giorni con la polizza di versamento qui sotto."
        ),
    },
    "en": {
        "title": {1: "Payment reminder", 2: "Second reminder"},
        "number": "Reminder number",
        "text": {
            1: "Perhaps it slipped your attention: the following invoice is still open.",
            2: "Despite our reminder, the following invoice is still open.",
        },
        "invoice_amount": "Invoice amount",
        "received": "Already paid",
        "fees": "Reminder fees",
        "open_amount": "Amount due",
        "pay_within": "Please pay the amount due within 10 days with the payment slip below.",
    },
}


def reminder_number(invoice_number, level):
    return f"{invoice_number}-M{level}"


def _shown(value):
    return f"{Decimal(str(value or 0)):.2f}"


def content(invoice, profile, event, number, issued_at, timezone_name):
    """The reminder template's variables."""
    order = invoice.order_data
    language = language_of(order)
    received = Decimal(str(event.get("received") or 0))
    return {
        "labels": labels(language),
        "R": REMINDER_LABELS.get(language, REMINDER_LABELS["en"]),
        "level": event["level"],
        "number": number,
        "seller": {"vat_number": profile.get("vat_number")},
        "seller_lines": invoices.seller_lines(profile),
        "buyer_lines": invoices.buyer_lines(order.get("billing_address") or {}),
        "issued_on": format_date(invoices.shop_day(issued_at, timezone_name), language),
        "invoice_number": invoice.number,
        "order_reference": invoice.order_reference,
        "amount": _shown(event.get("amount") if event.get("amount") is not None else invoice.amount),
        "received": _shown(received) if received else None,
        "dunning_fees": _shown(event.get("dunning_fees")),
        "open_amount": _shown(event["open_amount"]),
        "currency": event.get("currency") or invoice.currency,
        "footer": (profile.get("footer") or {}).get(language, ""),
    }


def render(invoice, profile, event, number, issued_at, timezone_name):
    """(pdf bytes, the QRBill or None): the reminder laid out as the invoices are, with a QR-bill
    for the open amount."""
    order = dict(invoice.order_data, total=_shown(event["open_amount"]))
    bill = qr.qr_bill(order, profile, number, language_of(order))
    text = content(invoice, profile, event, number, issued_at, timezone_name)
    return rendering.render(text, profile.get("logo_bytes"), qr.drawn(bill), template=TEMPLATE), bill


@once_per_event(PaymentDunningEventSchema)
def on_dunning(uow, event, timezone_name):
    """``payment_dunning_changed``: the reminder of that level, once. Answers its id or None."""
    reference = event["order_reference"]
    session = uow.session
    invoice = session.execute(
        select(Document).where(Document.order_reference == reference, Document.kind == "invoice")
    ).scalar_one_or_none()
    profile = current_profile(session)
    if invoice is None or profile is None or not event.get("open_amount"):
        # no invoice of OMS's making, nothing owed, or an event without amounts: nothing to remind of
        uow.commit()
        return None
    number = reminder_number(invoice.number, event["level"])
    if session.execute(select(Document.id).where(Document.kind == KIND, Document.number == number)).first():
        uow.commit()
        return None
    pdf, _bill = render(invoice, profile, event, number, utcnow(), timezone_name)
    order = dict(invoice.order_data, total=_shown(event["open_amount"]))
    try:
        document = store(
            session, order, KIND, number, pdf, event["event_id"], corrects_id=invoice.id, amount=order["total"]
        )
    except IntegrityError:
        return None  # another delivery issued it at the same moment
    announce(uow, document, corrects=invoice.number, amount=order["total"])
    uow.commit()
    return document.id
