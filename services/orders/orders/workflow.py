"""Use cases of an order's way through its statuses: pause and assign an open order (S14), ship,
cancel, any status change (one order or many), and the cleanup of expired open orders."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from oms_common.db import SessionSource, claim_rows, utcnow
from oms_common.problems import Conflict, NotFound, ServiceUnavailable, load
from oms_contracts.orders.inputs import BulkStatusSchema, CancelSchema, SessionSchema, ShipSchema, StatusChangeSchema

from . import domain
from .changes import Actor, Answer, Data, OrderChange, changing, refusals
from .models import Order
from .units import SqlOrderUnit

Capture = Callable[[str, Actor], Any]  # asks payments to capture an order's money before it ships


def pause_order(source: SessionSource, reference: str, data: Data | None, actor: Actor | None = None) -> Answer:
    data = load(SessionSchema(partial=("session_id",)), data or {})
    with changing(source, reference, data.get("version"), actor) as change:
        previous_session = domain.pause(change.order)
        change.record("paused", details={"session_id": previous_session})
    return change.answer


def assign_order(source: SessionSource, reference: str, data: Data, actor: Actor | None = None) -> Answer:
    payload = load(SessionSchema(), data)
    with changing(source, reference, payload.get("version"), actor) as change:
        domain.assign(change.order, payload["session_id"])
        change.record("assigned", details={"session_id": payload["session_id"]})
    return change.answer


# ---------------------------------------------------------------- status changes


def apply_status(
    change: OrderChange,
    target: str,
    notify: bool = False,
    reason: str | None = None,
    tracking_number: str | None = None,
    through: str = "status",
) -> None:
    """Moves the order of ``change`` to ``target`` as the operation ``through``, announcing it."""
    order = change.order
    previous = domain.move(order, target, through=through)
    if target == "shipped" and tracking_number:
        order.tracking_number = tracking_number
    common = {"from_status": previous, "to_status": target, "notify": notify, "reason": reason}
    events = {}
    if target == "shipped":
        events["order_shipped"] = {"tracking_number": order.tracking_number, **common}
    elif target == "cancelled":
        events["order_cancelled"] = common
    events["order_status_changed"] = common
    change.record(
        "status_changed",
        previous,
        target,
        reason,
        events=events,
        details={"notify": notify, **({"tracking_number": tracking_number} if tracking_number else {})},
    )


def _status_use_case(source, reference, payload, target, actor, capture=None):
    """``capture(reference, actor)``: asks payments to collect the order's authorised money; run
    for a ship, after the order is locked and the move checked, before anything is written. A
    refusal (409) or silence (503) propagates and the order stays as it was."""
    with changing(source, reference, payload.get("version"), actor) as change:
        order = change.order
        if (
            target == "shipped"
            and capture is not None
            and domain.ship_needs_payment_check(order.payment_method, order.payment_status)
        ):
            domain.check_transition(order.status, target)
            capture(order.reference, change.actor)
        apply_status(
            change,
            target,
            notify=payload.get("notify", False),
            reason=payload.get("reason"),
            tracking_number=payload.get("tracking_number"),
        )
    return change.answer


def ship_order(
    source: SessionSource, reference: str, data: Data, actor: Actor | None = None, capture: Capture | None = None
) -> Answer:
    payload = load(ShipSchema(), data)
    return _status_use_case(source, reference, payload, "shipped", actor, capture)


def cancel_order(source: SessionSource, reference: str, data: Data, actor: Actor | None = None) -> Answer:
    payload = load(CancelSchema(), data)
    return _status_use_case(source, reference, payload, "cancelled", actor)


def change_status(
    source: SessionSource, reference: str, data: Data, actor: Actor | None = None, capture: Capture | None = None
) -> Answer:
    payload = load(StatusChangeSchema(), data)
    return _status_use_case(source, reference, payload, payload["status"], actor, capture)


def bulk_change_status(
    source: SessionSource, data: Data, actor: Actor | None = None, capture: Capture | None = None
) -> Answer:
    """Each order is changed (or refused) in its own transaction."""
    payload = load(BulkStatusSchema(), data)
    results = []
    for reference in payload["references"]:
        try:
            order = _status_use_case(source, reference, payload, payload["status"], actor, capture)
            results.append({"reference": reference, "ok": True, "status": order["status"], "version": order["version"]})
        except (Conflict, NotFound, ServiceUnavailable) as problem:
            results.append({"reference": reference, "ok": False, "problem": problem.as_dict()})
    return {
        "status": payload["status"],
        "results": results,
        "succeeded": sum(1 for r in results if r["ok"]),
        "failed": sum(1 for r in results if not r["ok"]),
    }


# ---------------------------------------------------------------- expired open orders (S14)

CLEANUP_ACTOR = {"name": "system", "kind": "system", "role": None, "origin": "open-order cleanup"}


def cancel_expired_open_orders(
    source: SessionSource, ttl_seconds: float, batch_size: int = 100, now: datetime | None = None
) -> list[str]:
    """Cancels open, not paused orders nobody touched for ``ttl_seconds`` (their session is
    gone); returns the references cancelled. Paused orders are kept.

    Each batch is one transaction: its orders are locked with ``FOR UPDATE SKIP LOCKED``, so
    several replicas sweeping at once split the work instead of cancelling an order twice, and
    an order someone is changing right now is left alone (and no longer expired once they
    commit: the lock re-reads the row). Each cancellation is an ordinary status change: audited
    with the system as actor, counted, announced through the outbox.
    """
    now = now or utcnow()
    cutoff = domain.open_order_expiry_cutoff(now, ttl_seconds)
    if cutoff is None:
        return []
    cancelled = []
    while True:
        with source.unit_of_work() as uow, refusals():
            candidates = claim_rows(
                uow.session,
                select(Order)
                .where(Order.status == "open", Order.paused.is_(False), Order.updated_at <= cutoff)
                .order_by(Order.updated_at, Order.id),
                batch_size,
            )
            batch = []
            for order in candidates:
                if domain.open_order_expired(order.status, order.paused, order.updated_at, now, ttl_seconds):
                    apply_status(
                        OrderChange(SqlOrderUnit(uow), order, CLEANUP_ACTOR),
                        "cancelled",
                        reason=domain.OPEN_ORDER_EXPIRY_REASON,
                    )
                    batch.append(order.reference)
            uow.commit()
        cancelled.extend(batch)
        if len(candidates) < batch_size or not batch:
            return cancelled
