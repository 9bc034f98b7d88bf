"""Use cases of the notifications service: each event handled in one unit of work.

A handler claims the event id, refreshes its copy of the order, asks the domain whether a
mail is due, renders it and queues it in the ``mails`` table — all in one transaction.
Sending happens later, in the sender loop (``delivery``), so a slow or absent SMTP server
never holds up event consumption and never makes an event be redelivered.
"""

import base64
import hashlib
import logging
from datetime import datetime, timedelta, timezone

from jinja2 import TemplateError
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from oms_common.db import utcnow
from oms_common.locks import lock_key
from oms_common.problems import Conflict, load
from oms_common.row_locks import lock_one_or_404
from oms_contracts.events import (
    DocumentIssuedEventSchema,
    OrderEventSchema,
    PaymentDunningEventSchema,
    PaymentStatusEventSchema,
)

from . import domain, mail_headers
from .models import InvoiceCopy, Mail, OrderCopy
from .rendering import template_context
from .schemas import MailLogSchema, ReferenceSchema

log = logging.getLogger(__name__)

CONSUMER = "notifications.{}"
INVOICE_LOCK = 0x4F4D4E49  # advisory lock key space of an order's invoice attachment ("OMNI")
_log_dump = MailLogSchema()


class OrderNotKnownYet(Exception):
    """A payment event for an order whose recipient this service has not learnt yet.

    Raised so that the reliable handler retries later (the orders event is usually just
    behind); after its last retry the event is parked where operators can replay it.
    """


def _parse_time(value):
    if not value:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return utcnow()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------- order copies


def _remember_order(session, order, occurred_at):
    """Upserts the local copy of an order; an older event never overwrites a newer one."""
    email, name = domain.recipient_of(order)
    if not order.get("reference") or not email:
        return
    now = utcnow()
    values = {
        "reference": str(order["reference"]),
        "invoice_number": order.get("invoice_number"),
        "customer_email": email[:254],
        "customer_name": name[:201],
        "language": (order.get("language") or "")[:2] or "en",
        "payment_method": order.get("payment_method"),
        "currency": order.get("currency"),
        "total": domain.to_decimal(order.get("total")),
        "status": order.get("status"),
        "as_of": _parse_time(occurred_at),
        "updated_at": now,
    }
    statement = postgresql.insert(OrderCopy).values(**values)
    changes = {key: statement.excluded[key] for key in values if key != "reference"}
    statement = statement.on_conflict_do_update(
        index_elements=[OrderCopy.reference], set_=changes, where=OrderCopy.as_of <= statement.excluded.as_of
    )
    session.execute(statement)


def _copy_as_order(copy):
    if copy is None:
        return None
    return {
        "reference": copy.reference,
        "invoice_number": copy.invoice_number,
        "customer": {"email": copy.customer_email, "name": copy.customer_name},
        "language": copy.language,
        "payment_method": copy.payment_method,
        "currency": copy.currency,
        "total": str(copy.total) if copy.total is not None else None,
        "status": copy.status,
    }


# ---------------------------------------------------------------- queueing


def _queue_mail(session, event, event_type, request, mail):
    """Renders and queues one mail; a mail that cannot be built is stored as failed."""
    settings = mail.settings
    now = utcnow()
    email, name = domain.recipient_of(request.order)
    language = domain.choose_language(request.order.get("language"), settings.fallback_language)
    row = Mail(
        event_id=str(event["event_id"]),
        event_type=event_type,
        order_reference=str(request.order.get("reference") or event.get("order_reference") or ""),
        kind=request.kind,
        language=language,
        recipient=email[:254],
        recipient_name=name,
        message_id=domain.message_id(event["event_id"], request.kind, settings.id_domain),
        status=domain.QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        subject="",
        body_text="",
        body_html="",
    )
    try:
        mail_headers.recipient_address(email, name)
        rendered = mail.renderer.render(
            domain.TEMPLATE_OF[request.kind], language, template_context(request, settings, name)
        )
    except (mail_headers.NotificationError, TemplateError) as error:
        log.error("mail %s for event %s cannot be built: %s", request.kind, event["event_id"], error)
        row.status, row.next_attempt_at = domain.FAILED, None
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        row.subject = f"({request.kind})"
    else:
        row.subject, row.body_text, row.body_html = rendered.subject, rendered.body_text, rendered.body_html
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # a mail for this event exists already (should not happen: the event id was claimed)
        log.warning("mail for event %s exists already; nothing queued", event["event_id"])
        return None
    return row


def handle_order_event(source, mail, event_type, event):
    """An event from the orders service. Returns the queued mail's kind, or None."""
    payload = load(OrderEventSchema(), event)
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER.format(event_type)):
            return None
        _remember_order(uow.session, payload["order"], payload["occurred_at"])
        request = domain.mail_for_order_event(event_type, payload, mail.settings.triggers)
        row = _queue_mail(uow.session, payload, event_type, request, mail) if request else None
        queued = row is not None and row.status == domain.QUEUED
        if queued and domain.waits_for_invoice(row.kind, request.order, mail.settings):
            _wait_for_invoice(uow.session, row, mail.settings)
        kind = row.kind if row is not None else None
        uow.commit()
    if queued:
        mail.wake()
    return kind


def _wait_for_invoice(session, row, settings):
    """Holds the mail until its order's invoice is here (at most ``invoice_wait_seconds``).
    Under the order's lock, so that an invoice arriving at the same moment is either seen here
    or sees this mail (``handle_document_issued``)."""
    row.attachment = "invoice"
    lock_key(session, INVOICE_LOCK, row.order_reference)
    if session.get(InvoiceCopy, row.order_reference) is None:
        row.next_attempt_at = row.created_at + timedelta(seconds=settings.invoice_wait_seconds)


def handle_document_issued(source, fetch_document, mail, event):
    """``document_issued`` from documents: an invoice that an order confirmation may wait for is
    fetched (its bytes checked against the event's SHA-256), kept, and the waiting mail released."""
    payload = load(DocumentIssuedEventSchema(), event)
    if payload["kind"] != "invoice" or not mail.settings.attach_invoice:
        return None
    reference = payload["order_reference"]
    with source.read_session() as session:
        if session.get(InvoiceCopy, reference) is not None:
            return None  # a redelivery: kept already
    document = fetch_document(reference, payload["document_id"])
    content = base64.b64decode(document["content"])
    if hashlib.sha256(content).hexdigest() != payload["sha256"]:
        raise ValueError(f"The invoice of order {reference} does not match the SHA-256 its event names.")
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER.format("document_issued")):
            return None
        session, now = uow.session, utcnow()
        lock_key(session, INVOICE_LOCK, reference)
        statement = postgresql.insert(InvoiceCopy).values(
            order_reference=reference,
            document_id=payload["document_id"],
            number=str(payload.get("number") or document.get("number") or payload["document_id"]),
            sha256=payload["sha256"],
            content=content,
            received_at=now,
        )
        session.execute(statement.on_conflict_do_nothing(index_elements=[InvoiceCopy.order_reference]))
        released = session.execute(
            update(Mail)
            .where(
                Mail.order_reference == reference,
                Mail.attachment == "invoice",
                Mail.status == domain.QUEUED,
                Mail.attempts == 0,
            )
            .values(next_attempt_at=now, updated_at=now)
        ).rowcount
        uow.commit()
    if released:
        mail.wake()
    return released


def _check_recipient_known(copy, reference):
    """A payment mail goes to the order's customer: until the order copy names one, the event waits."""
    if copy is None or not domain.recipient_of(copy)[0]:
        raise OrderNotKnownYet(f"No recipient known yet for order {reference}; retrying later.")


def _kinds_sent(session, reference, *conditions):
    """The kinds of the order's mails that meet ``conditions`` (sent or queued already)."""
    return set(session.execute(select(Mail.kind).where(Mail.order_reference == reference, *conditions)).scalars())


def _queue_and_commit(uow, payload, event_type, request, mail):
    """Queues the mail asked for (if any) and commits: (its kind, whether it waits to be sent)."""
    row = _queue_mail(uow.session, payload, event_type, request, mail) if request else None
    queued = row is not None and row.status == domain.QUEUED
    kind = row.kind if row is not None else None
    uow.commit()
    return kind, queued


def _handle_payments_event(source, mail, event_type, payload, request_for):
    """Claims an event of payments and queues the mail ``request_for(session, payload, triggers)``
    asks for (None: no mail), in one unit of work."""
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER.format(event_type)):
            return None
        request = request_for(uow.session, payload, mail.settings.triggers)
        kind, queued = _queue_and_commit(uow, payload, event_type, request, mail)
    if queued:
        mail.wake()
    return kind


def handle_payment_event(source, mail, event):
    """``payment_status_changed`` from payments: 'payment received' for invoice/prepayment."""
    payload = load(PaymentStatusEventSchema(), event)
    return _handle_payments_event(source, mail, "payment_status_changed", payload, _payment_received_request)


def _payment_received_request(session, payload, triggers):
    reference = payload["order_reference"]
    carried = payload.get("order") or {}
    if carried.get("reference") and domain.recipient_of(carried)[0]:
        _remember_order(session, carried, payload["occurred_at"])
    copy = _copy_as_order(session.get(OrderCopy, reference))
    if copy is None and carried:
        copy = dict(carried, reference=reference)
    if not domain.wants_payment_mail(payload, copy, triggers):
        return None
    _check_recipient_known(copy, reference)
    sent_kinds = _kinds_sent(session, reference, Mail.kind == domain.PAYMENT_RECEIVED)
    return domain.mail_for_payment_event(payload, copy, triggers, sent_kinds)


def handle_dunning_event(source, mail, event):
    """``payment_dunning_changed`` from payments: the reminder of that level, with the fee and the
    open amount. One per order and level: the event id is claimed, a reminder of that level sent
    already is looked for, and a unique index (``uq_mails_dunning``) stops two racing events."""
    payload = load(PaymentDunningEventSchema(), event)
    return _handle_payments_event(source, mail, "payment_dunning_changed", payload, _reminder_request)


def _reminder_request(session, payload, triggers):
    if not domain.wants_dunning_mail(payload, triggers):
        return None
    reference = payload["order_reference"]
    copy = _copy_as_order(session.get(OrderCopy, reference))
    _check_recipient_known(copy, reference)
    sent_kinds = _kinds_sent(
        session,
        reference,
        Mail.event_type == "payment_dunning_changed",
        Mail.kind.in_((domain.DUNNING_1, domain.DUNNING_2)),
    )
    return domain.mail_for_dunning_event(payload, copy, triggers, sent_kinds)


# ---------------------------------------------------------------- reads and operator actions


def mails_for_order(source, reference):
    reference = load(ReferenceSchema(), {"reference": reference})["reference"]
    with source.read_session() as session:
        rows = (
            session.execute(select(Mail).where(Mail.order_reference == reference).order_by(Mail.created_at, Mail.id))
            .scalars()
            .all()
        )
        return [_log_dump.dump(row) for row in rows]


def failed_mails(source, limit=100):
    limit = max(1, min(int(limit or 100), 1000))
    with source.read_session() as session:
        rows = (
            session.execute(
                select(Mail)
                .where(Mail.status == domain.FAILED)
                .order_by(Mail.updated_at.desc(), Mail.id.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        return [_log_dump.dump(row) for row in rows]


def retry_mail(source, mail, event_id):
    """Queues a failed mail again (an operator fixed the address or the SMTP settings)."""
    with source.unit_of_work() as uow:
        row = lock_one_or_404(uow.session, Mail, Mail.event_id == str(event_id), f"No mail for event '{event_id}'.")
        if row.status == domain.FAILED and not row.body_text:
            raise Conflict(
                f"The mail for event '{event_id}' could not be built ({row.last_error}); it cannot be resent."
            )
        if row.status == domain.FAILED:
            now = utcnow()
            row.status, row.attempts, row.next_attempt_at, row.updated_at = domain.QUEUED, 0, now, now
        result = _log_dump.dump(row)
        uow.commit()
    mail.wake()
    return result
