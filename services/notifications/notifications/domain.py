"""The notification rules: which event asks for which e-mail, to whom, in which language,
with which headers, and when a failed delivery is tried again.

Plain Python on purpose (no nameko, no SQLAlchemy): the handlers load rows, ask these
functions, and store what they decide. Everything that ends up in a mail header goes
through ``mail_headers`` (:func:`header_text` / :func:`recipient_address`) and is then set
through ``email.message.EmailMessage`` / ``email.headerregistry.Address``, which encode
non-ASCII text and refuse CR/LF, so a customer called ``Müller "Ltd"\\r\\nBcc: x@y`` gets
exactly one mail with a harmless display name.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from oms_contracts.values import LANGUAGES

from .mail_headers import configured_address, header_text, recipient_address, split_address

# mail kinds (also the names of the triggers that can be switched on and off)
ORDER_CONFIRMATION = "order_confirmation"
SHIPPING_CONFIRMATION = "shipping_confirmation"
CANCELLATION = "cancellation"
DUNNING_1 = "dunning_1"
DUNNING_2 = "dunning_2"
PAYMENT_RECEIVED = "payment_received"
KINDS = (ORDER_CONFIRMATION, SHIPPING_CONFIRMATION, CANCELLATION, DUNNING_1, DUNNING_2, PAYMENT_RECEIVED)
TRIGGER_ALIASES = {"all": KINDS, "dunning": (DUNNING_1, DUNNING_2)}

# which template renders which kind (both dunning levels share one template)
TEMPLATE_OF = {
    ORDER_CONFIRMATION: "order_confirmation",
    SHIPPING_CONFIRMATION: "shipping_confirmation",
    CANCELLATION: "cancellation",
    DUNNING_1: "dunning",
    DUNNING_2: "dunning",
    PAYMENT_RECEIVED: "payment_received",
}

PAYMENT_RECEIVED_METHODS = frozenset({"invoice", "prepayment"})

# mail statuses
QUEUED = "queued"
SENT = "sent"
FAILED = "failed"

# an event, or an order as the events carry it
Json = Mapping[str, Any]


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class MailSettings:
    sender: str = "OMS Shop <shop@localhost>"
    reply_to: str = ""
    shop_name: str = "OMS Shop"
    footer: str = ""
    legal: str = ""
    fallback_language: str = "en"
    triggers: frozenset[str] = frozenset(KINDS)
    max_attempts: int = 8
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    message_id_domain: str = ""
    # the order confirmation waits up to ``invoice_wait_seconds`` for the order's invoice PDF and
    # takes it along; after that it goes without (the invoice stays downloadable)
    attach_invoice: bool = False
    invoice_wait_seconds: float = 120.0

    @property
    def id_domain(self) -> str:
        if self.message_id_domain:
            return self.message_id_domain
        _name, addr = split_address(self.sender)
        return addr.rpartition("@")[2] or "oms.localhost"


def parse_triggers(value: object) -> frozenset[str]:
    """``"all"`` (or empty), or a comma list of kinds (``dunning`` means both levels)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return frozenset(KINDS)
    items = value if isinstance(value, (list, tuple, set, frozenset)) else str(value).split(",")
    chosen: set[str] = set()
    for item in (str(i).strip().lower() for i in items):
        if not item:
            continue
        if item in ("none", "off"):
            continue
        if item in TRIGGER_ALIASES:
            chosen.update(TRIGGER_ALIASES[item])
        elif item in KINDS:
            chosen.add(item)
        else:
            raise ValueError(f"Unknown mail trigger {item!r}; use 'all' or some of {', '.join(KINDS)}, dunning.")
    return frozenset(chosen)


def choose_language(language: str | None, fallback: str) -> str:
    language = (language or "").strip().lower()[:2]
    if language in LANGUAGES:
        return language
    return fallback if fallback in LANGUAGES else "en"


# ---------------------------------------------------------------- triggers


@dataclass
class MailRequest:
    """What an event asks for: one mail of ``kind`` about ``order``."""

    kind: str
    order: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def mail_for_order_event(event_type: str, event: Json, triggers: Collection[str]) -> MailRequest | None:
    """The mail an event from the orders service asks for, or None."""
    order = event.get("order") or {}
    notify = bool(event.get("notify"))
    kind: str | None = None
    extra: dict[str, Any] = {}
    if event_type == "order_submitted":
        kind = ORDER_CONFIRMATION
    elif event_type == "order_shipped" and notify:
        kind = SHIPPING_CONFIRMATION
        extra["tracking_number"] = event.get("tracking_number") or order.get("tracking_number")
    elif event_type == "order_cancelled" and notify:
        kind = CANCELLATION
        extra["reason"] = event.get("reason")
    # a dunning status (order_status_changed to dunning_1/2) asks for nothing here: the reminder
    # goes out once, from payments' payment_dunning_changed, with the fee and the open amount
    if kind is None or kind not in triggers:
        return None
    return MailRequest(kind, order, extra)


DUNNING_KINDS = {1: DUNNING_1, 2: DUNNING_2}


def wants_dunning_mail(event: Json, triggers: Collection[str]) -> bool:
    """Whether a ``payment_dunning_changed`` asks for a reminder at all (before the recipient is known)."""
    return bool(event.get("notify")) and DUNNING_KINDS.get(event.get("level") or 0) in triggers


def mail_for_dunning_event(
    event: Json, order_copy: Json, triggers: Collection[str], already_sent_kinds: Collection[str] = ()
) -> MailRequest | None:
    """The reminder of dunning level 1 or 2, with the fee and the open amount the payment reached
    it with, or None: without ``notify``, switched off, nothing owed, or sent already for this level (one per
    order and level, whatever the event's redeliveries)."""
    if not wants_dunning_mail(event, triggers):
        return None
    level = int(event["level"])
    kind = DUNNING_KINDS[level]
    if kind in already_sent_kinds:
        return None
    open_amount = event.get("open_amount")
    if open_amount is not None and (to_decimal(open_amount) or 0) <= 0:
        return None  # nothing is owed (paid meanwhile): no reminder
    order = dict(order_copy)
    for key in ("invoice_number", "language"):
        if event.get(key):
            order[key] = event[key]
    return MailRequest(
        kind,
        order,
        {
            "level": level,
            "open_amount": order.get("total") if open_amount is None else open_amount,
            "fee": event.get("fee"),
            "dunning_fees": event.get("dunning_fees"),
            "amount": event.get("amount"),
            "received": event.get("received"),
            "currency": event.get("currency") or order.get("currency"),
        },
    )


def payment_facts(event: Json) -> dict[str, Any]:
    """Method, amount and currency of a payment event, at the top level or in its ``payment``."""
    payment = event.get("payment") or {}
    return {
        "method": event.get("payment_method") or payment.get("method"),
        "amount": event.get("amount") or payment.get("amount"),
        "currency": event.get("currency") or payment.get("currency"),
    }


def wants_payment_mail(event: Json, order_copy: Json | None, triggers: Collection[str]) -> bool:
    """Whether a payment event can ask for a mail at all (before the recipient is known)."""
    if event.get("status") != "paid" or PAYMENT_RECEIVED not in triggers:
        return False
    method = payment_facts(event)["method"] or (order_copy or {}).get("payment_method")
    return method is None or method in PAYMENT_RECEIVED_METHODS


def mail_for_payment_event(
    event: Json, order_copy: Json | None, triggers: Collection[str], already_sent_kinds: Collection[str] = ()
) -> MailRequest | None:
    """The 'payment received' mail for an invoice/prepayment order that became paid, or None.

    ``order_copy`` is what this service remembers of the order (from the orders events);
    the payment event may carry the order itself, which then wins. One such mail per order.
    """
    if event.get("status") != "paid" or PAYMENT_RECEIVED not in triggers:
        return None
    facts = payment_facts(event)
    method = facts["method"] or (order_copy or {}).get("payment_method")
    if method not in PAYMENT_RECEIVED_METHODS:
        return None
    if PAYMENT_RECEIVED in already_sent_kinds:
        return None
    order = dict(order_copy or {})
    order.update({k: v for k, v in (event.get("order") or {}).items() if v is not None})
    return MailRequest(
        PAYMENT_RECEIVED,
        order,
        {"amount": facts["amount"] or order.get("total"), "currency": facts["currency"] or order.get("currency")},
    )


def recipient_of(order: Json) -> tuple[str, str]:
    customer = order.get("customer") or {}
    billing = order.get("billing_address") or {}
    email = customer.get("email") or order.get("customer_email") or ""
    name = (
        customer.get("name")
        or order.get("customer_name")
        or " ".join(part for part in (billing.get("first_name"), billing.get("last_name")) if part)
    )
    return email.strip(), header_text(name)


INVOICE_FILE_NAMES = {"de": "Rechnung", "fr": "Facture", "it": "Fattura", "en": "Invoice"}


def waits_for_invoice(kind: str, order: Json, settings: MailSettings) -> bool:
    """Whether a mail is to carry the order's invoice: the confirmation of an order that OMS
    numbers (the documents service issues an invoice for exactly those), when the shop wants it."""
    return (
        settings.attach_invoice
        and kind == ORDER_CONFIRMATION
        and bool(order.get("invoice_number"))
        and not order.get("invoice_number_external")
    )


def invoice_file_name(language: str, number: object) -> str:
    """``Rechnung-2026-17.pdf``: the invoice number made safe for a MIME file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", str(number or "")).strip("-.")[:60] or "1"
    return f"{INVOICE_FILE_NAMES.get(language, INVOICE_FILE_NAMES['en'])}-{safe}.pdf"


def message_id(event_id: object, kind: str | None, domain: str) -> str:
    """Stable per event (one event, one mail; ``kind`` only documents the call): a resend
    after a crash carries the same Message-ID."""
    safe_event = re.sub(r"[^A-Za-z0-9._-]", "", str(event_id))[:64] or "unknown"
    safe_domain = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "oms.localhost"
    return f"<oms.{safe_event}@{safe_domain}>"


def build_message(mail: Any, settings: MailSettings) -> EmailMessage:
    """The RFC 5322 message for a stored mail (a dict or an object with the mail's columns)."""
    get = mail.get if isinstance(mail, dict) else (lambda key, default=None: getattr(mail, key, default))
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = configured_address(settings.sender)
    message["To"] = recipient_address(get("recipient"), get("recipient_name") or "")
    reply_to = configured_address(settings.reply_to) if settings.reply_to else None
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Subject"] = header_text(get("subject"), 300)
    message["Message-ID"] = get("message_id") or message_id(get("event_id"), get("kind"), settings.id_domain)
    created_at = get("created_at")
    if created_at:
        message["Date"] = format_datetime(created_at)
    message["X-OMS-Event-ID"] = header_text(get("event_id"), 64)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(get("body_text") or "")
    if get("body_html"):
        message.add_alternative(get("body_html"), subtype="html")
    attachment = get("attachment_content")
    if attachment:
        # multipart/mixed: the text and HTML alternatives first, then the PDF
        message.add_attachment(
            bytes(attachment), maintype="application", subtype="pdf", filename=get("attachment_name")
        )
    return message


# ---------------------------------------------------------------- delivery rules


def retry_delay(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed attempt (1, 2, …)."""
    exponent = max(0, int(attempts) - 1)
    return timedelta(seconds=min(float(max_seconds), float(base_seconds) * (2 ** min(exponent, 30))))


def after_failure(attempts: int, permanent: bool, settings: MailSettings) -> tuple[str, timedelta | None]:
    """(status, delay) after a failed attempt: queued again later, or finally failed."""
    if permanent or attempts >= settings.max_attempts:
        return FAILED, None
    return QUEUED, retry_delay(attempts, settings.retry_base_seconds, settings.retry_max_seconds)


def to_decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
