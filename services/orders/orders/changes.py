"""The unit of change every order use case runs in.

Every change locks the order row (``FOR UPDATE``), checks the caller's ``version`` when given,
lets the domain decide and change, then steps the version, keeps the per-status counts in step,
records an audit entry and writes its events to the outbox, all in one transaction. Locks are
always taken in one order — customer rows, order rows, count rows, the invoice number sequence
— so that concurrent use cases wait for each other instead of deadlocking. What is stored goes
through an ``OrderUnit`` (units.py), so the use cases run against orders kept in memory too.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, object_session

from oms_common.audit_entries import audit_entry
from oms_common.db import SessionSource, utcnow
from oms_common.problems import Conflict
from oms_contracts.actors import load_actor
from oms_contracts.events import stamp

from . import domain
from .answers import OrderDump
from .models import Customer, Order, OrderHistory
from .units import OrderUnit, OrderUnits, open_unit

_order_dump = OrderDump()
Actor = dict[str, Any]
Data = dict[str, Any]  # what a caller sends, before its schema loads it
Answer = dict[str, Any]


def dump_order(order: Order) -> Answer:
    return _order_dump.dump(order)


def as_problem(error: domain.DomainError) -> Conflict:
    """The domain's refusals, as the problems callers understand."""
    return Conflict(str(error), error.errors)


@contextmanager
def refusals() -> Iterator[None]:
    """Within: a refusal of the domain reaches the caller as its problem."""
    try:
        yield
    except domain.DomainError as error:
        raise as_problem(error) from None


def check_version(order: Order, expected: int | None) -> None:
    if expected is not None and expected != order.version:
        raise Conflict(
            f"The order was changed meanwhile (version {order.version}, you had {expected}); reload and retry.",
            {"version": [f"Current version is {order.version}."]},
        )


def audit(session: Session, order: Order, actor: Actor, *change: Any, **named: Any) -> None:
    """Adds the order's audit entry of a change (``history_entry``) to the session."""
    session.add(history_entry(order, actor, *change, **named))


def customer_record(customer: Customer) -> dict[str, Any]:
    """The customer as this service keeps it (an order's own ``customer`` is the e-mail and name it
    was placed with): what read copies of customers, like the exports', take over as it is."""
    return {
        "id": customer.id,
        "email": customer.email,
        "name": f"{customer.first_name} {customer.last_name}".strip(),
        "language": customer.language,
        "merged_into": customer.merged_into_id,
        "updated_at": customer.updated_at.isoformat(),
    }


def event_payload(
    order: Order, actor: Actor, invoice_placeholder: str | None = None, customer: Customer | None = None, **extra: Any
) -> dict[str, Any]:
    payload = {"order": _order_dump.dump(order), "actor": actor}
    if invoice_placeholder:
        payload["order"]["invoice_number"] = invoice_placeholder
    if customer is None:
        session = object_session(order)
        customer = session.get(Customer, order.customer_id) if session is not None else None
    if customer is not None:
        payload["customer"] = customer_record(customer)
    payload.update(extra)
    return payload


def history_entry(order: Order, actor: Actor, *change: Any, **named: Any) -> OrderHistory:
    """The order's audit entry of a change: ``change`` is what ``audit_entry`` takes after the actor
    (the action, the status before and after, why, the details)."""
    return audit_entry(OrderHistory, actor, *change, order_id=order.id, **named)


class OrderChange:
    """One locked order being changed in ``unit`` by ``actor``; ``answer`` is the order as dumped
    once the change is done (set by ``changing``)."""

    def __init__(self, unit: OrderUnit, order: Order, actor: Actor) -> None:
        self.unit, self.order, self.actor = unit, order, actor
        self.answer: Answer | None = None
        self.invoice_pending = False
        self._counted = (order.status, order.payment_status)

    def record(
        self,
        action: str,
        from_status: str | None = None,
        to_status: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        events: Mapping[str, Mapping[str, Any]] | None = None,
        invoice_placeholder: str | None = None,
    ) -> None:
        """What follows every change: the version steps, the order moves to the count of its
        status now, the audit row and the events (type: extra payload fields; an
        ``order_updated`` unless named) are written. With ``invoice_placeholder`` the commit
        issues the invoice number into those events."""
        order, unit = self.order, self.unit
        order.version += 1
        order.updated_at = utcnow()
        counted, self._counted = self._counted, (order.status, order.payment_status)
        unit.move_count(counted, self._counted)
        unit.add_history(history_entry(order, self.actor, action, from_status, to_status, reason, details))
        customer = unit.customer_of(order)
        emitted = [
            unit.emit(
                event_type, stamp(event_type, event_payload(order, self.actor, invoice_placeholder, customer, **extra))
            )
            for event_type, extra in (events if events is not None else {"order_updated": {}}).items()
        ]
        if invoice_placeholder:
            unit.request_invoice_number(order, emitted)
            self.invoice_pending = True


@contextmanager
def changing(
    source: SessionSource | OrderUnits, reference: str | int, version: int | None = None, actor: Actor | None = None
) -> Iterator[OrderChange]:
    """One use case's change of one order: the order locked by its reference (404 if unknown) at
    the version the caller had (409 if it moved on since); the domain's refusals become
    problems. When the block ends the order is dumped into ``answer`` and everything commits
    together; an invoice number the commit issued is written into the answer."""
    actor = load_actor(actor)
    with open_unit(source) as unit:
        change = OrderChange(unit, unit.lock_order(reference), actor)
        check_version(change.order, version)
        with refusals():
            yield change
        change.answer = dump_order(change.order)
        unit.commit()
        if change.invoice_pending:
            change.answer["invoice_number"] = unit.issued_invoice_number(change.order)
