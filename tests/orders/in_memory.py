"""The orders of a unit test kept in memory: a place of orders the use cases change through the
same ``OrderUnit`` port as they change PostgreSQL in the service (orders.units).

A unit stages what a use case records — audit rows, count moves, events, invoice requests —
and keeps it only when the use case commits; a unit left without a commit (a refusal, an
error) puts every order it locked back as it was, as a rolled-back transaction would.
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

from oms_common.db import event_envelope, utcnow
from oms_common.problems import NotFound
from orders.models import Customer, Order, OrderHistory, OrderLine

ORDER_COLUMNS = [column.key for column in Order.__table__.columns]


class InMemoryOrders:
    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.customers: dict[int, Customer] = {}
        self.history: list[OrderHistory] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.events: list[dict[str, Any]] = []
        self.invoice_numbers_issued = 0
        self.commits = 0

    def add_order(self, status: str = "new", payment_method: str = "invoice", **values: Any) -> Order:
        number = len(self.orders) + 1
        created = utcnow() - timedelta(hours=1)
        customer = self.customers.setdefault(
            number,
            Customer(
                id=number,
                email=f"c{number}@example.com",
                first_name="Anna",
                last_name="Keller",
                language="de",
                created_at=created,
                updated_at=created,
            ),
        )
        order = Order(
            id=number,
            reference=str(1000 + number),
            customer_id=customer.id,
            customer_email=customer.email,
            customer_name="Anna Keller",
            language="de",
            status=status,
            payment_status="unpaid",
            payment_status_rank=0,
            payment_method=payment_method,
            currency="CHF",
            subtotal=Decimal("40.00"),
            shipping_cost=Decimal("6.90"),
            total=Decimal("46.90"),
            billing_address={"name": "Anna Keller", "country": "CH"},
            shipping_address={"name": "Anna Keller", "country": "CH"},
            paused=False,
            version=1,
            created_at=created,
            updated_at=created,
            lines=[
                OrderLine(
                    position=1,
                    article_number="A-1",
                    name="Tea",
                    quantity=2,
                    unit_price=Decimal("20.00"),
                    line_total=Decimal("40.00"),
                )
            ],
        )
        for key, value in values.items():
            setattr(order, key, value)
        self.orders[order.reference] = order
        self.counts[(order.status, order.payment_status)] += 1
        return order

    @contextmanager
    def order_unit(self) -> Iterator["InMemoryUnit"]:
        unit = InMemoryUnit(self)
        try:
            yield unit
        finally:
            if not unit.committed:
                unit.roll_back()

    def events_of(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["event_type"] == event_type]


class InMemoryUnit:
    def __init__(self, place: InMemoryOrders) -> None:
        self.place = place
        self.committed = False
        self._before: dict[str, dict[str, Any]] = {}
        self._history: list[OrderHistory] = []
        self._count_moves: list[tuple[tuple[str, str], tuple[str, str]]] = []
        self._events: list[dict[str, Any]] = []
        self._invoice_requests: list[tuple[Order, list[dict[str, Any]]]] = []

    def lock_order(self, reference: str | int) -> Order:
        order = self.place.orders.get(str(reference))
        if order is None:
            raise NotFound(f"No order with reference '{reference}'.")
        self._before.setdefault(order.reference, {key: getattr(order, key) for key in ORDER_COLUMNS})
        return order

    def customer_of(self, order: Order) -> Customer | None:
        return self.place.customers.get(order.customer_id)

    def move_count(self, before: tuple[str, str], after: tuple[str, str]) -> None:
        self._count_moves.append((before, after))

    def add_history(self, entry: OrderHistory) -> None:
        self._history.append(entry)

    def emit(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        event = event_envelope(event_type, payload)
        self._events.append(event)
        return event

    def request_invoice_number(self, order: Order, events: list[dict[str, Any]]) -> None:
        self._invoice_requests.append((order, events))

    def issued_invoice_number(self, order: Order) -> str | None:
        return order.invoice_number

    def commit(self) -> None:
        place = self.place
        for before, after in self._count_moves:
            place.counts[before] -= 1
            place.counts[after] += 1
        place.history.extend(self._history)
        for order, events in self._invoice_requests:
            # as the commit of the service does: the next number, written into the events
            place.invoice_numbers_issued += 1
            order.invoice_number = str(place.invoice_numbers_issued)
            for event in events:
                event["order"]["invoice_number"] = order.invoice_number
        place.events.extend(self._events)
        place.commits += 1
        self.committed = True

    def roll_back(self) -> None:
        for reference, values in self._before.items():
            order = self.place.orders[reference]
            for key, value in values.items():
                setattr(order, key, value)
