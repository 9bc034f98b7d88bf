"""Money going back: through the PSP a void before capture, a refund after (one path for staff
refunds and for cancelled orders; the row is locked by the caller and the PSP call carries the
caller's idempotency key); for money paid by hand, the refund staff made themselves, recorded."""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from oms_common.db import utcnow
from oms_common.problems import Conflict, Problem, ServiceUnavailable, ValidationFailed

from . import amounts, domain
from .changes import PaymentUnit, audit, set_status, touch
from .currencies import CurrencyError
from .models import Payment, Refund
from .psp import Adapter, PspError, PspNotConfigured


def psp_problem(error: PspError) -> Problem:
    if isinstance(error, PspNotConfigured):
        # a refusal for configuration, not an outage: say what is missing
        return Conflict(str(error), {"provider": [str(error)]})
    if error.retryable:
        return ServiceUnavailable(str(error))
    return Conflict(str(error))


def _at_psp(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The PSP's answer to ``call``; a PSP error as the problem it is to the caller (``psp_problem``)."""
    try:
        return call()
    except PspError as error:
        raise psp_problem(error) from None


def void_at_psp(
    uow: PaymentUnit,
    adapters: Mapping[str, Adapter],
    payment: Payment,
    actor: dict[str, Any],
    reason: str | None,
    key: str,
) -> None:
    result = _at_psp(lambda: adapters[payment.provider].void(payment, key))
    payment.refunds.append(
        Refund(
            kind="void",
            amount=amounts.ZERO,
            status=str(result.get("status")),
            reason=reason,
            actor=actor["name"],
            created_at=utcnow(),
        )
    )
    set_status(uow, payment, "voided", actor, reason, action="voided", details={"psp": result})


def refund_at_psp(
    uow: PaymentUnit,
    adapters: Mapping[str, Adapter],
    payment: Payment,
    amount: Decimal,
    actor: dict[str, Any],
    reason: str | None,
    key: str,
) -> None:
    try:
        result = _at_psp(lambda: adapters[payment.provider].refund(payment, amount, key, reason))
    except CurrencyError as error:
        raise ValidationFailed(str(error), {"amount": [str(error)]}) from None
    if any(refund.psp_refund_id == result["refund_id"] for refund in payment.refunds):
        return  # the PSP replayed a refund we have already recorded
    status = result.get("status") or "pending"
    payment.refunds.append(
        Refund(
            kind="refund",
            psp_refund_id=result["refund_id"],
            amount=amount,
            status=status,
            reason=reason,
            actor=actor["name"],
            created_at=utcnow(),
        )
    )
    details = {"amount": str(amount), "psp_refund_id": result["refund_id"], "psp_status": status}
    if status != "succeeded":
        # counted once the PSP reports it succeeded (charge.refund.updated, PAYMENT.CAPTURE.REFUNDED)
        touch(payment)
        audit(
            uow.session,
            payment.order_reference,
            actor,
            "refund_pending",
            payment.status,
            payment.status,
            reason,
            details=details,
        )
        return
    payment.refunded_amount = amounts.money(payment.refunded_amount) + amount
    target = domain.status_after_refunds(payment.captured_amount, payment.refunded_amount, payment.amount)
    set_status(uow, payment, target, actor, reason, action="refunded", details=details)


def record_refund(
    uow: PaymentUnit, payment: Payment, amount: Decimal, actor: dict[str, Any], reason: str | None
) -> None:
    """A refund staff paid back outside OMS (a bank transfer to the customer): it counts at once."""
    payment.refunds.append(
        Refund(
            kind="refund", amount=amount, status="succeeded", reason=reason, actor=actor["name"], created_at=utcnow()
        )
    )
    payment.refunded_amount = amounts.money(payment.refunded_amount) + amount
    target = domain.status_after_refunds(payment.captured_amount, payment.refunded_amount, payment.amount)
    details = {"amount": str(amount), "paid_back": "outside OMS"}
    set_status(uow, payment, target, actor, reason, action="refund_recorded", details=details)
