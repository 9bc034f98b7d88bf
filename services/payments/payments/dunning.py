"""Dunning with money: what reaching a level does to a payment (its fee, the open amount, the
audit entry and ``payment_dunning_changed`` for the reminder mail and PDF), and the automatic
dunning of overdue invoices.

One path for every way a level is reached: staff asking payments (``staff_operations``), staff
setting the order status in orders (``order_events``), and the timer here. The timer moves a
payment through the very use case staff use, as the system; it runs on one replica at a time
(a session advisory lock, like the bank-statement folder) and each payment is moved in its own
transaction over its locked row, whose level the domain checks again, so a payment is never
dunned twice.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select

from oms_common.db import utcnow
from oms_common.one_replica import on_one_replica
from oms_common.problems import Problem, load
from oms_contracts.events import DocumentIssuedEventSchema, stamp

from . import amounts, domain, dunning_rules
from .changes import audit, find_payment, touch
from .models import Payment

log = logging.getLogger(__name__)

AUTO_DUNNING_LOCK = 0x0D_0E_1C  # pg_try_advisory_lock key of the automatic dunning scan
AUTO_ACTOR = {"name": "system", "kind": "system", "role": None, "origin": "automatic dunning"}
SCAN_BATCH = 200


def reach_level(
    uow: Any,
    payment: Payment,
    level: int,
    fees: Mapping[int, Any],
    actor: dict[str, Any],
    reason: str | None,
    notify: bool,
    order: Mapping[str, Any] | None = None,
) -> None:
    """Records ``level`` on the locked payment: its fee is added to what is owed, the audit entry
    names the level and the fee, and the event tells the open amount."""
    previous = payment.dunning_level
    fee = dunning_rules.dunning_fee(payment.provider, payment.status, level, fees)
    payment.dunning_level = level
    payment.dunning_level_at = utcnow()
    payment.dunning_fees = amounts.money(payment.dunning_fees or 0) + fee
    touch(payment)
    currency = payment.currency
    open_amount = amounts.open_amount(payment.amount, payment.captured_amount or 0, payment.dunning_fees)
    shown = {
        "fee": str(amounts.shown(fee, currency)),
        "dunning_fees": str(amounts.shown(payment.dunning_fees, currency)),
        "open_amount": str(amounts.shown(open_amount, currency)),
    }
    audit(
        uow.session,
        payment.order_reference,
        actor,
        "dunning_level_changed",
        payment.status,
        payment.status,
        reason,
        details={"from": previous, "to": level, "notify": notify, **shown, "currency": currency},
    )
    order = order or {}
    uow.emit(
        "payment_dunning_changed",
        stamp(
            "payment_dunning_changed",
            {
                "order_reference": payment.order_reference,
                "level": level,
                "previous_level": previous,
                "notify": notify,
                "actor": actor,
                "reason": reason,
                **shown,
                "amount": str(amounts.shown(payment.amount, currency)),
                "received": str(amounts.shown(payment.captured_amount or 0, currency)),
                "currency": currency,
                "invoice_number": order.get("invoice_number"),
                "language": order.get("language"),
                "qr_reference": payment.qr_reference,
                "creditor_reference": payment.creditor_reference,
            },
        ),
    )


# ---------------------------------------------------------------- automatic dunning

CONSUMER_DOCUMENT_ISSUED = "payments.document_issued"


class PaymentNotKnownYet(Exception):
    """An invoice's due date for an order whose payment record is not here yet: raised so that
    the reliable handler retries (the order event is usually just behind)."""


def record_due_date(source: Any, event: dict[str, Any]) -> bool:
    """``document_issued`` of an invoice: its due date is kept on the payment (automatic dunning
    counts from it)."""
    payload = load(DocumentIssuedEventSchema(), event)
    if payload["kind"] != "invoice" or payload.get("due_date") is None:
        return False
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER_DOCUMENT_ISSUED):
            return False
        payment = find_payment(uow.session, payload["order_reference"])
        if payment is None:
            raise PaymentNotKnownYet(f"No payment for order {payload['order_reference']} yet; retrying later.")
        payment.due_date = payload["due_date"]
        touch(payment)
        uow.commit()
        return True


def overdue(source: Any, today: date, after_due_days: int, after_level_1_days: int) -> list[tuple[str, int]]:
    """(order reference, level) of the unpaid invoice payments to be dunned today."""
    with source.read_session() as session:
        rows = session.execute(
            select(Payment.order_reference, Payment.dunning_level, Payment.due_date, Payment.dunning_level_at)
            .where(
                Payment.provider == "manual",
                Payment.status.in_(domain.DUNNING_STATUSES),
                or_(
                    and_(Payment.dunning_level == 0, Payment.due_date <= today),
                    Payment.dunning_level == 1,  # level 2 counts from level 1, however that came
                ),
            )
            .order_by(Payment.due_date, Payment.id)
        ).all()
    found = []
    for reference, level, due_date, reached_at in rows:
        target = dunning_rules.dunning_due(level, due_date, reached_at, today, after_due_days, after_level_1_days)
        if target is not None:
            found.append((reference, target))
    return found


def scan(
    source: Any,
    request_dunning: Callable[[str, dict[str, Any], dict[str, Any]], Any],
    today: date,
    after_due_days: int,
    after_level_1_days: int,
) -> dict[str, Any] | None:
    """Dunns every overdue payment one level (None when another replica is scanning)."""
    return on_one_replica(
        source.engine,
        AUTO_DUNNING_LOCK,
        lambda: _scan(source, request_dunning, today, after_due_days, after_level_1_days),
    )


def _scan(source, request_dunning, today, after_due_days, after_level_1_days):
    moved, refused = [], []
    for reference, level in overdue(source, today, after_due_days, after_level_1_days)[:SCAN_BATCH]:
        reason = f"Dunning level {level}: the invoice is overdue."
        try:
            request_dunning(reference, {"level": level, "notify": True, "reason": reason}, AUTO_ACTOR)
        except Problem as problem:  # paid or dunned meanwhile, orders not reachable: next round
            log.info("automatic dunning of %s to level %s not done now: %s", reference, level, problem)
            refused.append(reference)
            continue
        moved.append(reference)
    return {"moved": moved, "refused": refused}
