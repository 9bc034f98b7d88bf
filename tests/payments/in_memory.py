"""Payments of a unit test kept in memory, and a PSP that answers from memory.

``InMemoryPayments`` is a place of payments the staff operations (payments.staff_operations)
change through the same ``PaymentUnit`` they use over PostgreSQL in the service: it keeps
audit rows and events only when the operation commits, and a unit left without a commit puts
the payment back as it was, refunds included, as a rolled-back transaction would.
``InMemoryPsp`` stands where the Stripe or PayPal adapter stands: it answers refunds and voids
by idempotency key (a replayed key gets the same refund), or refuses, or is unreachable.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

from oms_common.db import event_envelope, utcnow
from oms_common.problems import NotFound
from payments.checkout import new_payment_values
from payments.models import Payment, PaymentAudit
from payments.psp import PspError
from payments.psp.base import Adapter

PAYMENT_COLUMNS = [column.key for column in Payment.__table__.columns]


class InMemoryPayments:
    def __init__(self) -> None:
        self.payments: dict[str, Payment] = {}
        self.audit: list[PaymentAudit] = []
        self.events: list[dict[str, Any]] = []
        self.commits = 0

    def add_payment(self, method: str = "invoice", status: str | None = None, **values: Any) -> Payment:
        """A payment opened an hour ago as the service opens one for a submitted order of 46.90 CHF,
        then with ``status`` and ``values`` set."""
        reference = str(5000 + len(self.payments) + 1)
        order = {"reference": reference, "payment_method": method, "currency": "CHF", "total": "46.90", "status": "new"}
        payment = Payment(
            id=len(self.payments) + 1, refunds=[], **new_payment_values(order, utcnow() - timedelta(hours=1))
        )
        if status:
            payment.status = status
        for key, value in values.items():
            setattr(payment, key, value)
        self.payments[reference] = payment
        return payment

    @contextmanager
    def payment_unit(self, reference: Any) -> Iterator[tuple["InMemoryUnit", Payment]]:
        payment = self.payments.get(str(reference))
        if payment is None:
            raise NotFound(f"No payment for order '{reference}'.")
        unit = InMemoryUnit(self, payment)
        try:
            yield unit, payment
        finally:
            if not unit.committed:
                unit.roll_back()

    def actions(self) -> list[str]:
        return [entry.action for entry in self.audit]


class InMemoryUnit:
    def __init__(self, place: InMemoryPayments, payment: Payment) -> None:
        self.place, self.payment = place, payment
        self.session = self  # what the operations add and flush rows through
        self.committed = False
        self._before = {key: getattr(payment, key) for key in PAYMENT_COLUMNS}
        self._refunds_before = list(payment.refunds)
        self._rows: list[PaymentAudit] = []
        self._events: list[dict[str, Any]] = []

    def add(self, row: PaymentAudit) -> None:
        self._rows.append(row)

    def flush(self) -> None:
        pass

    def emit(self, event_type: str, payload: Any) -> dict[str, Any]:
        event = event_envelope(event_type, payload)
        self._events.append(event)
        return event

    def commit(self) -> None:
        self.place.audit.extend(self._rows)
        self.place.events.extend(self._events)
        self.place.commits += 1
        self.committed = True

    def roll_back(self) -> None:
        for key, value in self._before.items():
            setattr(self.payment, key, value)
        self.payment.refunds[:] = self._refunds_before


class InMemoryPsp(Adapter):
    """``status``: what a refund answers (``succeeded`` or ``pending``); ``refuse``: the PSP's
    reason to decline; ``down``: the PSP cannot be reached."""

    def __init__(self, name: str = "stripe", status: str = "succeeded") -> None:
        self.name, self.status = name, status
        self.refuse: str | None = None
        self.down = False
        self.calls: list[tuple[str, str, Decimal | None]] = []
        self._refund_ids: dict[str, str] = {}

    def _answer(self) -> None:
        if self.down:
            raise PspError(f"{self.name} did not answer", retryable=True)
        if self.refuse:
            raise PspError(self.refuse, retryable=False)

    def refund(self, payment: Payment, amount: Decimal, key: str, reason: str | None = None) -> dict[str, Any]:
        self._answer()
        self.calls.append(("refund", key, amount))
        refund_id = self._refund_ids.setdefault(key, f"re_{len(self._refund_ids) + 1}")
        return {"refund_id": refund_id, "status": self.status}

    def void(self, payment: Payment, key: str) -> dict[str, Any]:
        self._answer()
        self.calls.append(("void", key, None))
        return {"status": "canceled"}
