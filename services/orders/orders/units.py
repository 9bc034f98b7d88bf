"""Where the order use cases keep what they change: one ``OrderUnit`` per transaction.

The service runs every unit over PostgreSQL (``SqlOrderUnit``); the unit tests of the use cases
pass a place of their own that keeps orders, audit rows, counts and events in memory, so a
rule that is not about SQL can be checked without a database.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms_common.db import SessionSource, UnitOfWork
from oms_common.problems import NotFound

from .counts import move_count
from .models import Customer, Order, OrderHistory
from .sequences import issued_invoice_number, request_invoice_number


def lock_order(session: Session, reference: str | int) -> Order:
    order = session.execute(
        select(Order).where(Order.reference == str(reference)).with_for_update()
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(f"No order with reference '{reference}'.")
    return order


class OrderUnit(Protocol):
    """What one change of orders needs from where orders are kept, in one transaction:
    PostgreSQL in the service (``SqlOrderUnit``), dictionaries in the unit tests of the use cases."""

    def lock_order(self, reference: str | int) -> Order: ...

    def customer_of(self, order: Order) -> Customer | None: ...

    def move_count(self, before: tuple[str, str], after: tuple[str, str]) -> None: ...

    def add_history(self, entry: OrderHistory) -> None: ...

    def emit(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]: ...

    def request_invoice_number(self, order: Order, events: list[dict[str, Any]]) -> None: ...

    def issued_invoice_number(self, order: Order) -> str | None: ...

    def commit(self) -> None: ...


@runtime_checkable
class OrderUnits(Protocol):
    """A place of orders that opens its own units (the in-memory one of the unit tests); the
    service passes its ``SessionSource`` instead, and every unit is then a ``SqlOrderUnit``."""

    def order_unit(self) -> AbstractContextManager[OrderUnit]: ...


class SqlOrderUnit:
    """An ``OrderUnit`` over one database transaction; ``session`` is there for the use cases
    whose rule is the SQL itself (intake, numbering, customer merges)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow, self.session = uow, uow.session

    def lock_order(self, reference: str | int) -> Order:
        return lock_order(self.session, reference)

    def customer_of(self, order: Order) -> Customer | None:
        return self.session.get(Customer, order.customer_id)

    def move_count(self, before: tuple[str, str], after: tuple[str, str]) -> None:
        move_count(self.session, before, after)

    def add_history(self, entry: OrderHistory) -> None:
        self.session.add(entry)

    def emit(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.uow.emit(event_type, payload)

    def request_invoice_number(self, order: Order, events: list[dict[str, Any]]) -> None:
        request_invoice_number(self.session, order, events)

    def issued_invoice_number(self, order: Order) -> str | None:
        return issued_invoice_number(self.session, order)

    def commit(self) -> None:
        self.uow.commit()


def session_of(unit: OrderUnit) -> Session:
    """The transaction of a use case whose rule is the SQL itself (only a ``SqlOrderUnit`` has one)."""
    if not isinstance(unit, SqlOrderUnit):
        raise TypeError("this use case needs the database")
    return unit.session


@contextmanager
def open_unit(source: SessionSource | OrderUnits) -> Iterator[OrderUnit]:
    if isinstance(source, OrderUnits):
        with source.order_unit() as unit:
            yield unit
    else:
        with source.unit_of_work() as uow:
            yield SqlOrderUnit(uow)
