"""What the orders service's events do to payments: a submitted order gets its payment record
(and its PSP checkout), a status change is copied (dunning included), a cancelled order's
money is voided, refunded or left to staff. Each event is claimed once per consumer."""

from collections.abc import Mapping
from typing import Any

from oms_common.db import SessionSource
from oms_common.problems import load
from oms_contracts.actors import load_actor
from oms_contracts.events import OrderEventSchema

from . import amounts, domain, dunning, dunning_rules
from .changes import audit, find_payment, set_status, touch
from .checkout import create_payment, open_at_psp
from .psp import Adapter
from .refunds import refund_at_psp, void_at_psp
from .schemas import OrderInEventSchema
from .webhook_processing import apply_waiting

CONSUMER_ORDER_SUBMITTED = "payments.order_submitted"
CONSUMER_ORDER_CREATED = "payments.order_created"
CONSUMER_ORDER_CANCELLED = "payments.order_cancelled"
CONSUMER_ORDER_STATUS = "payments.order_status_changed"


def _order_event(event: dict[str, Any]) -> dict[str, Any]:
    """An order event as the contracts define it, with the order read as payments needs it."""
    payload = load(OrderEventSchema(), event)
    payload["order"] = load(OrderInEventSchema(), payload["order"])
    return payload


def record_order(
    source: SessionSource,
    adapters: Mapping[str, Adapter],
    event: dict[str, Any],
    consumer: str,
    open_at_psp_now: bool = True,
) -> str | None:
    """Creates the payment record of a submitted order; applies webhooks that came first."""
    payload = _order_event(event)
    order = payload["order"]
    if order["status"] == "open":
        return None
    reference = order["reference"]
    with source.unit_of_work() as uow:
        uow.claim_event(payload["event_id"], consumer)
        payment = find_payment(uow.session, reference)
        if payment is None:
            payment = create_payment(uow, order, load_actor(payload.get("actor")))
            if payment is None:  # created concurrently by the sibling event
                payment = find_payment(uow.session, reference)
            else:
                apply_waiting(uow, payment, adapters)
        needs_psp = (
            open_at_psp_now
            and payment.provider != "manual"
            and not payment.psp_reference
            and payment.status == "pending"
            and adapters[payment.provider].configured
        )
        uow.commit()
    if needs_psp:
        open_at_psp(source, adapters, reference)
    return reference


def order_status_changed(
    source: SessionSource, event: dict[str, Any], fees: Mapping[int, Any] = dunning_rules.DEFAULT_DUNNING_FEES
) -> bool:
    """Keeps the copy of the order status and the dunning level (also when set in orders: the
    level's fee and ``payment_dunning_changed`` follow, as when staff ask payments)."""
    payload = _order_event(event)
    order = payload["order"]
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER_ORDER_STATUS):
            return False
        payment = find_payment(uow.session, order["reference"])
        if payment is None:
            uow.commit()
            return False
        payment.order_status = order["status"]
        level = dunning_rules.dunning_level_reached(payload.get("to_status"), payment.dunning_level)
        if level:
            dunning.reach_level(
                uow,
                payment,
                level,
                fees,
                load_actor(payload.get("actor")),
                payload.get("reason"),
                bool(payload["notify"]),
                order,
            )
        touch(payment)
        uow.commit()
        return True


def order_cancelled(source: SessionSource, adapters: Mapping[str, Adapter], event: dict[str, Any]) -> bool:
    """Voids a payment not yet captured, refunds a captured one, closes an unpaid invoice."""
    payload = _order_event(event)
    reference = payload["order"]["reference"]
    actor = load_actor(payload.get("actor"))
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER_ORDER_CANCELLED):
            return False
        payment = find_payment(uow.session, reference)
        if payment is None:
            uow.commit()
            return False
        payment.order_status = "cancelled"
        plan = domain.cancellation_plan(payment.provider, payment.status)
        reason = f"Order cancelled{': ' + payload['reason'] if payload.get('reason') else ''}."
        if plan == "close":
            set_status(uow, payment, "voided", actor, reason, action="closed_on_cancel")
        elif plan == "void":
            void_at_psp(uow, adapters, payment, actor, reason, key=f"oms-cancel-void-{reference}")
        elif plan == "refund":
            amount = amounts.refundable(payment.captured_amount, payment.refunded_amount)
            refund_at_psp(uow, adapters, payment, amount, actor, reason, key=f"oms-cancel-refund-{reference}")
        else:
            action, why = domain.cancel_without_action(payment.status)
            touch(payment)
            audit(uow.session, reference, actor, action, payment.status, payment.status, reason=why)
        uow.commit()
        return True
