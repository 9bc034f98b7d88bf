"""The one way a payment changes, shared by every use case: the locked row, its version, its
audit row, the status change that writes ``payment_status_changed`` to the outbox in the same
transaction, the answer the payment is dumped as, and the problem a domain refusal becomes.
"""

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms_common.audit_entries import audit_entry
from oms_common.db import SessionSource, utcnow
from oms_common.problems import Conflict, NotFound, Problem, ValidationFailed
from oms_contracts.events import stamp
from oms_contracts.payments import PaymentSchema

from . import amounts, domain
from .models import Payment, PaymentAudit

_payment_dump = PaymentSchema()

VIEW_COLUMNS = (
    "order_reference",
    "method",
    "provider",
    "status",
    "currency",
    "amount",
    "captured_amount",
    "refunded_amount",
    "psp_reference",
    "psp_capture_id",
    "completed_by_hand_reference",
    "order_status",
    "dunning_level",
    "dunning_fees",
    "due_date",
    "failure_reason",
    "sequence",
    "version",
    "created_at",
    "updated_at",
    "status_changed_at",
    "psp_charge_id",
    "psp_capture_status",
    "dispute_id",
    "dispute_status",
    "dispute_amount",
    "dispute_reason",
    "dispute_evidence_due_by",
    "capture_mode",
    "authorized_at",
    "authorization_expires_at",
    "authorization_expired_at",
    "qr_reference",
    "creditor_reference",
    "overpaid_amount",
)
MONEY_FIELDS = (
    "amount",
    "captured_amount",
    "refunded_amount",
    "refundable_amount",
    "dispute_amount",
    "overpaid_amount",
    "dunning_fees",
    "open_amount",
)
REFUND_COLUMNS = ("kind", "status", "psp_refund_id", "reason", "actor", "created_at", "failure_reason")


def as_problem(error: domain.DomainError) -> Problem:
    """A domain refusal as callers have always been told it: 422 for an impossible amount,
    409 otherwise, per field where the rule names one."""
    if isinstance(error, domain.InvalidAmount):
        return ValidationFailed(str(error), {error.field: [str(error)]})
    if error.field:
        return Conflict(str(error), {error.field: [error.detail]})
    return Conflict(str(error))


def find_payment(session: Session, reference: Any, lock: bool = True) -> Payment | None:
    if not reference:
        return None
    query = select(Payment).where(Payment.order_reference == str(reference))
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def lock_payment(session: Session, reference: Any) -> Payment:
    payment = find_payment(session, reference)
    if payment is None:
        raise NotFound(f"No payment for order '{reference}'.")
    return payment


def audit(session: Session, reference: str, actor: dict[str, Any], *change: Any, **named: Any) -> None:
    """Adds the payment's audit entry of a change to the session: ``change`` is what ``audit_entry``
    takes after the actor (the action, the status before and after, why, the details)."""
    session.add(audit_entry(PaymentAudit, actor, *change, order_reference=reference, **named))


def audit_flagged(session: Session, payment: Payment, actor: dict[str, Any], reason: str, **details: Any) -> None:
    """A PSP report that does not fit the payment: it changes nothing and is kept in the
    payment's audit trail for staff."""
    audit(
        session,
        payment.order_reference,
        actor,
        "psp_event_flagged",
        payment.status,
        payment.status,
        reason=reason,
        details=details,
    )


class PaymentUnit(Protocol):
    """What a staff operation needs of its transaction: ``session`` to ``add`` and ``flush`` rows,
    ``emit`` into the outbox, ``commit``. A ``UnitOfWork`` in the service; in the unit tests, a
    place that keeps payments, audit rows and events in memory."""

    session: Any

    def emit(self, event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def commit(self) -> None: ...


@runtime_checkable
class PaymentUnits(Protocol):
    """Payments that open their own units over a locked payment (the in-memory ones of the unit
    tests); the service passes its ``SessionSource`` instead."""

    def payment_unit(self, reference: Any) -> AbstractContextManager[tuple[PaymentUnit, Payment]]: ...


@contextmanager
def _locked(source: SessionSource | PaymentUnits, reference: Any) -> Iterator[tuple[PaymentUnit, Payment]]:
    if isinstance(source, PaymentUnits):
        with source.payment_unit(reference) as locked:
            yield locked
    else:
        with source.unit_of_work() as uow:
            yield uow, lock_payment(uow.session, reference)


@contextmanager
def payment_change(source: SessionSource | PaymentUnits, reference: Any) -> Iterator[tuple[PaymentUnit, Payment]]:
    """One unit of work over the locked payment of ``reference`` (404 when it has none). A domain
    refusal raised inside becomes its problem; what was not committed is rolled back."""
    with _locked(source, reference) as (unit, payment):
        try:
            yield unit, payment
        except domain.DomainError as error:
            raise as_problem(error) from None


def touch(payment: Payment) -> None:
    payment.version += 1
    payment.updated_at = utcnow()


def set_status(
    uow: Any,
    payment: Payment,
    target: str,
    actor: dict[str, Any],
    reason: str | None = None,
    action: str = "status_changed",
    details: dict[str, Any] | None = None,
    flush: bool = True,
) -> None:
    """The one place a payment changes: audit entry plus payment_status_changed in the outbox.

    ``uow`` is the unit of work (or a stand-in with its ``session`` and ``emit``).
    ``flush=False`` leaves the rows to the transaction's next flush: a bank statement books
    thousands of payments in one transaction, and one flush writes them in batches."""
    previous = payment.status
    payment.status = target
    payment.sequence = (payment.sequence or 0) + 1
    payment.status_changed_at = utcnow()
    touch(payment)
    if flush:
        uow.session.flush()
    audit(uow.session, payment.order_reference, actor, action, previous, target, reason, details)
    uow.emit(
        "payment_status_changed",
        stamp(
            "payment_status_changed",
            {
                "order_reference": payment.order_reference,
                "status": target,
                "previous_status": previous,
                "sequence": payment.sequence,
                "actor": actor,
                "reason": reason,
                "payment": payment_view(payment),
            },
        ),
    )


def _open_amount(payment: Payment) -> Any:
    """What is still to pay: nothing once the payment is settled (paid, refunded, voided, …)."""
    if payment.status not in ("unpaid", "announced", "partially_paid", "pending", "authorized", "failed"):
        return amounts.ZERO
    return amounts.open_amount(payment.amount, payment.captured_amount or 0, payment.dunning_fees or 0)


def payment_view(payment: Payment, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """The payment as callers see it; with ``configuration`` (reads.provider_configuration), the
    operations are narrowed to what the configured provider can do, and the ones left out
    for want of settings are named with the reason."""
    view = {column: getattr(payment, column) for column in VIEW_COLUMNS}
    view["authorization_expired"] = payment.authorization_expired_at is not None
    view["refundable_amount"] = amounts.refundable(payment.captured_amount or 0, payment.refunded_amount or 0)
    view["dunning_fees"] = payment.dunning_fees or 0
    view["open_amount"] = _open_amount(payment)
    for field in MONEY_FIELDS:
        view[field] = amounts.shown(view[field], payment.currency)
    view["pending_refund_amount"] = amounts.shown(amounts.pending_refunds(payment.refunds), payment.currency)
    view["disputed"] = payment.status == "disputed"
    view["refunds"] = [
        dict({c: getattr(r, c) for c in REFUND_COLUMNS}, amount=amounts.shown(r.amount, payment.currency))
        for r in payment.refunds
    ]
    view["capabilities"] = sorted(domain.CAPABILITIES[payment.provider])
    state = (configuration or {}).get("providers", {}).get(payment.provider) or {"configured": True}
    facts = (
        payment.provider,
        payment.status,
        payment.captured_amount or 0,
        payment.refunded_amount or 0,
        payment.dunning_level,
    )
    view["allowed_operations"] = domain.allowed_operations(*facts, provider_configured=state["configured"])
    view["operations_unavailable"] = {
        operation: state["reason"]
        for operation in domain.allowed_operations(*facts)
        if operation not in view["allowed_operations"]
    }
    return _payment_dump.dump(view)
