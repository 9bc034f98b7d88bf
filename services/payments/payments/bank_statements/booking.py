"""Booking a bank credit (or its reversal) on a locked payment: one path for the import and
for staff assigning an unmatched credit, through the payments' one status-change function
(audit entry, ``payment_status_changed`` in the outbox, hence the payment-received mail)."""

from sqlalchemy import select

from oms_common.db import utcnow
from oms_contracts.actors import load_actor

from .. import amounts
from ..changes import audit, set_status, touch
from ..models import Payment
from .matching import PaymentFacts

ORIGIN = "bank statement"
CHUNK = 1000


def bank_actor(actor):
    """The caller (staff member, or the system for the watched folder) acting from a bank statement."""
    return dict(load_actor(actor), origin=ORIGIN)


def facts(payment):
    return PaymentFacts(
        provider=payment.provider,
        status=payment.status,
        currency=payment.currency,
        amount=amounts.money(payment.amount),
        received=amounts.money(payment.captured_amount or 0),
        order_status=payment.order_status,
        fees=amounts.money(payment.dunning_fees or 0),
    )


def lock_payments(session, references):
    """The payments of these orders, locked in id order (so two imports cannot deadlock)."""
    found = {}
    ordered = sorted(set(references))
    for start in range(0, len(ordered), CHUNK):
        rows = (
            session.execute(
                select(Payment)
                .where(Payment.order_reference.in_(ordered[start : start + CHUNK]))
                .order_by(Payment.id)
                .with_for_update()
            )
            .scalars()
            .all()
        )
        found.update((payment.order_reference, payment) for payment in rows)
    return found


class DeferredEvents:
    """Stands for the unit of work while a statement is booked: the status changes' events are
    collected and written to the outbox in one statement by ``flush`` (same transaction)."""

    def __init__(self, uow):
        self.uow = uow
        self.session = uow.session
        self.events = []

    def emit(self, event_type, payload):
        self.events.append((event_type, payload))
        return payload

    def flush(self):
        events, self.events = self.events, []
        return self.uow.emit_many(events)


def book(uow, payment, effect, actor, entry, action):
    """Applies ``effect`` (matching.credit_effect / reversal_effect) for ``entry`` (a
    BankStatementEntry) to the locked ``payment``; ``uow`` may be a DeferredEvents."""
    payment.captured_amount = effect.received
    payment.overpaid_amount = effect.overpaid_amount or None
    currency = payment.currency
    details = {
        "entry_reference": entry.entry_reference,
        "import_id": entry.import_id,
        "amount": str(amounts.shown(entry.amount, currency)),
        "currency": entry.currency,
        "received": str(amounts.shown(effect.received, currency)),
        "open_amount": str(amounts.shown(effect.open_amount, currency)),
        "overpaid_amount": str(amounts.shown(effect.overpaid_amount, currency)),
        "outcome": effect.outcome,
    }
    reason = f"Bank statement entry {entry.entry_reference}" + (f": {effect.reason}" if effect.reason else ".")
    if effect.status != payment.status:
        set_status(uow, payment, effect.status, actor, reason, action=action, details=details, flush=False)
    else:
        touch(payment)
        audit(uow.session, payment.order_reference, actor, action, payment.status, payment.status, reason, details)


def now():
    return utcnow()
