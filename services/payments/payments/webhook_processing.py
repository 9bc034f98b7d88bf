"""Applying stored webhooks (the 'process after' half of the inbox): each row is matched to its
payment, checked to fit it, and applied through ``psp_effects``; or it waits for its order,
is flagged for staff, or is retried and finally left as failed."""

import json
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import false, or_, select

from oms_common.db import SessionSource, UnitOfWork, claim_rows, utcnow
from oms_contracts.actors import psp_actor

from . import amounts
from .changes import audit_flagged, find_payment
from .models import Payment, Refund, WebhookInbox
from .psp import Adapter
from .psp_effects import apply_approved, apply_psp_update
from .psp_reports import misfit
from .psp_reversals import apply_dispute, apply_refunds

log = logging.getLogger(__name__)


def process_inbox(
    source: SessionSource,
    adapters: Mapping[str, Adapter],
    limit: int = 100,
    max_attempts: int = 5,
    retry_base_seconds: float = 1.0,
    pause: Callable[[], Any] = lambda: None,
) -> int:
    """Applies stored webhooks, oldest first; returns how many.

    Several replicas may run it: a batch is claimed with ``FOR UPDATE SKIP LOCKED`` and
    applied in one transaction. If a row raises, the batch is redone row by row, each in a
    savepoint; the failing row is retried later with growing delays and, after
    ``max_attempts``, left as ``failed`` for an operator (``replay_webhook_event``).
    ``pause`` is called between rows so that the caller's scheduler can let others in.
    """
    now = utcnow()
    due = (
        select(WebhookInbox)
        .where(
            WebhookInbox.status == "received",
            or_(WebhookInbox.next_attempt_at.is_(None), WebhookInbox.next_attempt_at <= now),
        )
        .order_by(WebhookInbox.id)
    )
    with source.unit_of_work() as uow:
        rows = claim_rows(uow.session, due, limit)
        if not rows:
            return 0
        ids = [row.id for row in rows]
        try:
            # fast path: the whole batch in one go (no savepoint per row)
            with uow.session.begin_nested():
                for row in rows:
                    _process_row(uow, row, adapters)
                    pause()
        except Exception:  # noqa: BLE001 - find the culprit row by row below
            log.warning("a webhook batch failed; applying its rows one by one", exc_info=True)
            uow.session.expire_all()
            rows = (
                uow.session.execute(select(WebhookInbox).where(WebhookInbox.id.in_(ids)).order_by(WebhookInbox.id))
                .scalars()
                .all()
            )
            for row in rows:
                try:
                    with uow.session.begin_nested():
                        _process_row(uow, row, adapters)
                except Exception as error:  # noqa: BLE001 - recorded on the row, retried, then parked
                    log.exception("webhook %s %s failed", row.provider, row.provider_event_id)
                    row.attempts = (row.attempts or 0) + 1
                    row.note = f"{type(error).__name__}: {error}"[:1000]
                    if row.attempts >= max_attempts:
                        row.status = "failed"
                        row.processed_at = utcnow()
                    else:
                        row.next_attempt_at = utcnow() + timedelta(seconds=retry_base_seconds * 2**row.attempts)
        uow.commit()
        return len(ids)


def sweep_inbox(source: SessionSource, adapters: Mapping[str, Adapter], limit: int = 100) -> int:
    """'waiting' rows whose order appeared meanwhile (a race with the payment's creation)."""
    # least recently looked at first: rows that never match (a foreign reference) do not keep
    # newer ones from being looked at
    waiting = (
        select(WebhookInbox)
        .where(WebhookInbox.status == "waiting")
        .order_by(WebhookInbox.processed_at.asc().nulls_first(), WebhookInbox.id)
    )
    done = 0
    with source.unit_of_work() as uow:
        for row in claim_rows(uow.session, waiting, limit):
            update = _parse_row(adapters, row)
            if update is None or _match_payment(uow.session, row, update) is None:
                row.processed_at = utcnow()
                continue
            _process_row(uow, row, adapters)
            done += 1
        uow.commit()
    return done


def apply_waiting(uow: UnitOfWork, payment: Payment, adapters: Mapping[str, Adapter]) -> None:
    """The webhooks that came before the payment record, applied to it now."""
    rows = (
        uow.session.execute(
            select(WebhookInbox)
            .where(
                WebhookInbox.status == "waiting",
                or_(
                    WebhookInbox.order_reference == payment.order_reference,
                    (WebhookInbox.psp_reference == payment.psp_reference) if payment.psp_reference else false(),
                ),
            )
            # no SKIP LOCKED: a row the sweep holds is waited for, or the payment would open a second
            # PaymentIntent and the event paid on the first would then no longer fit (flagged)
            .order_by(WebhookInbox.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    for row in rows:
        _process_row(uow, row, adapters, payment)


def _parse_row(adapters, row):
    return adapters[row.provider].parse_event(json.loads(row.body))


# Which payment column holds each kind of PSP id an event may carry.
_ID_COLUMNS = {
    "intent": Payment.psp_reference,
    "order": Payment.psp_reference,
    "psp": Payment.psp_reference,
    "charge": Payment.psp_charge_id,
    "capture": Payment.psp_capture_id,
    "authorization": Payment.psp_authorization_id,
    "dispute": Payment.dispute_id,
}


def _match_payment(session, row, update, lock=True):
    """The payment an event is about: the order reference when it is one of ours, else any PSP id
    OMS stored (a foreign reference never blocks that fallback)."""
    reference = update.order_reference or row.order_reference
    if reference:
        payment = find_payment(session, reference, lock=lock)
        if payment is not None:
            return payment
    for kind, value in update.ids.items():
        if kind == "refund":
            query = select(Payment).join(Refund, Refund.payment_id == Payment.id).where(Refund.psp_refund_id == value)
        else:
            query = select(Payment).where(_ID_COLUMNS[kind] == value)
        query = query.where(Payment.provider == row.provider).order_by(Payment.id).limit(1)
        payment = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        if payment is not None:
            return payment
    return None


def _process_row(uow, row, adapters, payment=None):
    update = _parse_row(adapters, row)
    row.processed_at = utcnow()
    if update is None:
        row.status, row.note = "ignored", f"'{row.event_type}' does not change a payment."
        return row.status
    row.currency = (update.currency or "")[:3].upper() or None
    try:
        row.amount = amounts.money(update.amount) if update.amount is not None else None
    except (ArithmeticError, ValueError):
        row.amount = None
    if payment is None:
        payment = _match_payment(uow.session, row, update)
    if payment is None:
        if update.order_reference or row.order_reference:
            row.status, row.note = "waiting", "The order is not known yet; applied when it appears."
        else:
            row.status, row.note = "unmatched", "The event names no order and no PSP id OMS knows."
        return row.status
    row.order_reference = payment.order_reference
    actor = psp_actor(row.provider)
    label = f"{row.provider} {row.event_type} {row.provider_event_id}"
    unfit = update.invalid or misfit(payment, row.provider, update)
    if unfit:
        return _flag(uow, row, payment, actor, label, unfit, update)
    if update.kind == "approved":
        changed, note = apply_approved(uow, adapters[row.provider], payment, update, actor, label)
    elif update.kind == "refund":
        changed, note = apply_refunds(uow, payment, update, actor, label)
    elif update.kind == "dispute":
        changed, note = apply_dispute(uow, payment, update, actor, label)
    else:
        changed, note = apply_psp_update(uow, payment, update, actor, label)
    if note and note.startswith("flag:"):
        return _flag(uow, row, payment, actor, label, note[5:], update)
    if note == "wait":
        row.status, row.note = "waiting", "The refund arrived before its capture; applied once the capture is known."
        return row.status
    row.status, row.note = ("applied" if changed else "ignored"), note
    return row.status


def _flag(uow, row, payment, actor, label, reason, update):
    """Stored and acknowledged, but changes nothing: staff see it on the payment and in the list."""
    row.status, row.note = "flagged", reason[:1000]
    audit_flagged(
        uow.session,
        payment,
        actor,
        reason,
        event=label,
        amount=str(row.amount) if row.amount is not None else None,
        currency=row.currency,
        psp_ids=update.ids,
    )
    return row.status
