"""Sending queued mails over SMTP, with retry and backoff, as exactly once as SMTP allows.

How a mail travels
------------------
1. An event handler renders the mail and inserts it into ``mails`` (status ``queued``) in
   the same transaction that records the event id in ``processed_events``. ``mails.event_id``
   is unique as well. A redelivered event therefore finds its id claimed and adds nothing;
   a handler that dies before commit leaves nothing behind and the broker redelivers.
2. The sender (one loop per replica) claims due rows in a short transaction: it selects
   ``status = 'queued' AND next_attempt_at <= now`` with ``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL (replicas never take the same row), counts the attempt and pushes
   ``next_attempt_at`` forward by a *lease*, then commits. No transaction is held open
   while talking to SMTP.
3. It sends each claimed mail (envelope recipient given explicitly: only the customer) and
   records the outcome in its own short transaction: ``sent`` with ``sent_at``; or, on a
   temporary failure (server down, 4xx), ``queued`` again with ``next_attempt_at`` moved
   out by exponential backoff; or ``failed`` after a permanent refusal (5xx, an unusable
   address) or after the last allowed attempt. Failed mails stay visible through the
   ``failed_mails`` RPC and in each order's mail log, and can be queued again with
   ``retry_mail``.

What remains possible
---------------------
SMTP has no idempotency key, so one window cannot be closed: if the process dies (or the
database is unreachable) *after* the SMTP server accepted a message (its 250 reply to the
end of DATA) and *before* the ``sent`` row is committed, the row is still ``queued`` and is
sent again once its lease expires. That is at most one duplicate per such crash and per
mail, and only for the mail that was in flight (each outcome is committed on its own).
The duplicate carries the same ``Message-ID`` (``<oms.<event_id>@domain>``) and the
same ``X-OMS-Event-ID`` header, so mail clients and archives that de-duplicate on
Message-ID show it once and a human can recognise it. Conversely, the SMTP server may
have accepted a message whose reply was lost (timeout after DATA); that, too, is treated as
a temporary failure and resent, with the same Message-ID. Nothing is ever silently lost:
a mail leaves the table only as ``sent`` or ``failed``.

The ``sent`` mark is committed with ``synchronous_commit = off`` on PostgreSQL: a database
crash within a fraction of a second after it can lose the mark, which again means one
resend of that mail with the same Message-ID (the window above), never a lost mail; the
claim and every failure are committed durably.

The lease must outlast a batch (see ``SenderSettings.lease_for``), otherwise a second
replica could take over a mail that a slow but living sender is still delivering.

At sale pace
------------
A claimed batch is split into ``parallel`` lanes sent at the same time, each over its own
SMTP connection and each mail still recorded on its own as soon as the server took it (so
the window above stays one mail wide per lane). Connections are kept open between rounds
for ``keep_idle_seconds`` and reused; a kept connection the server has closed meanwhile is
noticed on its first command and replaced once, before anything was sent over it.
"""

import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, text, update

from oms_common.db import claim_rows, utcnow

from . import domain, mail_headers
from .models import InvoiceCopy, Mail
from .smtp import describe, is_permanent, quietly_close

log = logging.getLogger(__name__)

MAIL_COLUMNS = (
    "id",
    "event_id",
    "kind",
    "recipient",
    "recipient_name",
    "subject",
    "body_text",
    "body_html",
    "message_id",
    "created_at",
    "attempts",
    "order_reference",
    "language",
)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


def claim_due(source, batch_size, lease, now=None):
    """Takes up to ``batch_size`` due mails for this sender; returns their data as dicts."""
    now = now or utcnow()
    with source.unit_of_work() as uow:
        session = uow.session
        query = (
            select(Mail)
            .where(Mail.status == domain.QUEUED, Mail.next_attempt_at <= now)
            .order_by(Mail.next_attempt_at, Mail.id)
        )
        mails = claim_rows(session, query, batch_size)
        claimed = []
        for mail in mails:
            mail.attempts += 1
            mail.next_attempt_at = now + lease
            mail.updated_at = now
            claimed.append({column: getattr(mail, column) for column in MAIL_COLUMNS})
            if mail.attachment == "invoice":
                _attach_invoice(session, claimed[-1])
        uow.commit()
        return claimed


def _attach_invoice(session, mail):
    """The order's invoice, when it has come; a mail whose wait ran out goes without it."""
    invoice = session.get(InvoiceCopy, mail["order_reference"])
    if invoice is None:
        log.warning(
            "mail %s goes without the invoice of order %s: not issued in time", mail["id"], mail["order_reference"]
        )
        return
    mail["attachment_name"] = domain.invoice_file_name(mail["language"], invoice.number)
    mail["attachment_content"] = invoice.content


def _record(source, mail_id, durable=True, **values):
    values["updated_at"] = utcnow()
    with source.unit_of_work() as uow:
        if not durable:
            # losing this commit in a database crash only means one resend (see above)
            uow.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        uow.session.execute(update(Mail).where(Mail.id == mail_id, Mail.status == domain.QUEUED).values(**values))
        uow.commit()


def record_sent(source, mail):
    now = utcnow()
    _record(
        source,
        mail["id"],
        durable=False,
        status=domain.SENT,
        sent_at=now,
        next_attempt_at=None,
        last_error=None,
        attachment_name=mail.get("attachment_name"),
    )


def record_failure(source, mail, error, settings):
    status, delay = domain.after_failure(mail["attempts"], is_permanent(error), settings)
    values = {"status": status, "last_error": describe(error)}
    values["next_attempt_at"] = utcnow() + delay if delay is not None else None
    _record(source, mail["id"], **values)
    if status == domain.FAILED:
        log.error(
            "mail %s (%s) to order event %s failed for good after %s attempt(s): %s",
            mail["id"],
            mail["kind"],
            mail["event_id"],
            mail["attempts"],
            values["last_error"],
        )
    else:
        log.warning(
            "mail %s (%s) not sent (attempt %s), next try in %ss: %s",
            mail["id"],
            mail["kind"],
            mail["attempts"],
            delay.total_seconds(),
            values["last_error"],
        )
    return status


def release(source, mails):
    """Gives claimed but unsent mails back at once (a sender that stops between two mails)."""
    if mails:
        with source.unit_of_work() as uow:
            uow.session.execute(
                update(Mail)
                .where(Mail.id.in_([m["id"] for m in mails]), Mail.status == domain.QUEUED)
                .values(next_attempt_at=utcnow(), attempts=Mail.attempts - 1)
            )
            uow.commit()


def deliver_due(source, transport, settings, batch_size=10, lease=timedelta(minutes=5), keep_going=None, parallel=1):
    """One round of the sender: claims due mails and hands them to SMTP in ``parallel`` lanes,
    each over one connection.

    ``keep_going`` (a callable) is asked before each mail; when it says no, the mails not yet
    sent are released for the next sender instead of waiting out their lease.
    """
    report = DeliveryReport()
    mails = claim_due(source, batch_size, lease)
    report.claimed = len(mails)
    if not mails:
        return report
    lanes = [mails[start::parallel] for start in range(min(max(1, parallel), len(mails)))]
    if len(lanes) == 1:
        reports = [_send_lane(source, transport, settings, mails, keep_going)]
    else:
        reports, errors = [], []

        def run(lane):
            try:
                reports.append(_send_lane(source, transport, settings, lane, keep_going))
            except BaseException as error:  # noqa: BLE001 - raised in the caller below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(lane,), name="mail-lane", daemon=True) for lane in lanes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    for lane_report in reports:
        report.sent += lane_report.sent
        report.retried += lane_report.retried
        report.failed += lane_report.failed
    return report


def _send_lane(source, transport, settings, mails, keep_going):
    """Sends ``mails`` one after the other over one connection, each recorded on its own."""
    report = DeliveryReport()
    envelope_from = mail_headers.split_address(settings.sender)[1]
    client, kept = None, False
    try:
        for index, mail in enumerate(mails):
            if keep_going is not None and not keep_going():
                release(source, mails[index:])
                return report
            try:
                message = domain.build_message(mail, settings)
            except mail_headers.NotificationError as error:
                record_failure(source, mail, error, settings)
                report.failed += 1
                continue
            try:
                if client is None:
                    client, kept = transport.acquire()
                try:
                    client.send_message(message, from_addr=envelope_from, to_addrs=[mail["recipient"]])
                except smtplib.SMTPServerDisconnected:
                    if not kept:
                        raise
                    # a kept connection the server closed while idle: it failed at its first
                    # command, before this mail was handed over; once more on a new one
                    quietly_close(client)
                    client, kept = None, False
                    client = transport.connect()
                    client.send_message(message, from_addr=envelope_from, to_addrs=[mail["recipient"]])
                kept = False
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                # the connection is still usable; only this mail was refused
                kept = False
                outcome = record_failure(source, mail, error, settings)
                report.failed += outcome == domain.FAILED
                report.retried += outcome == domain.QUEUED
                continue
            except (OSError, smtplib.SMTPException) as error:
                # connection-level trouble: count it for this mail and every one still waiting
                quietly_close(client)
                client = None
                for waiting in mails[index:]:
                    outcome = record_failure(source, waiting, error, settings)
                    report.failed += outcome == domain.FAILED
                    report.retried += outcome == domain.QUEUED
                return report
            record_sent(source, mail)
            report.sent += 1
    except BaseException:
        quietly_close(client)
        raise
    transport.give_back(client)
    return report
