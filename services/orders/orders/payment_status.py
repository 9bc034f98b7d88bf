"""The order's read copy of its payment status (S13), kept from payments' ``payment_status_changed``."""

from oms_common.db import SessionSource
from oms_contracts.actors import load_actor
from oms_contracts.events import PaymentStatusEventSchema

from . import domain
from .changes import Data, OrderChange, audit, refusals
from .units import SqlOrderUnit, lock_order
from .workflow import apply_status

CONSUMER_PAYMENT_STATUS = "orders.payment_status_changed"
PAYMENTS_ACTOR = {"name": "payments", "kind": "system"}


def apply_payment_status(source: SessionSource, event: Data) -> bool:
    """Keeps the order's copy of its payment status; moves a paid PSP order on to ``new``."""
    payload = PaymentStatusEventSchema().load(event)
    actor = load_actor(payload.get("actor") or PAYMENTS_ACTOR)
    with source.unit_of_work() as uow, refusals():
        if not uow.claim_event(payload["event_id"], CONSUMER_PAYMENT_STATUS):
            return False
        order = lock_order(uow.session, payload["order_reference"])
        if not domain.payment_update_applies(order.payment_status_sequence, payload["sequence"]):
            audit(
                uow.session,
                order,
                actor,
                "payment_status_stale",
                order.payment_status,
                payload["status"],
                reason="An older payment update arrived late and was ignored.",
            )
            uow.commit()
            return False
        change = OrderChange(SqlOrderUnit(uow), order, actor)
        previous = domain.take_payment_status(order, payload["status"], payload["sequence"])
        change.record("payment_status_changed", previous, payload["status"], payload.get("reason"), events={})
        next_status = domain.status_after_payment(order.status, payload["status"])
        if next_status:
            apply_status(change, next_status, reason="Payment confirmed.", through="payment")
        uow.commit()
        return True
