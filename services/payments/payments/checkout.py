"""The payment record of a submitted order and its opening at the PSP (PaymentIntent / PayPal order)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from oms_common.db import SessionSource, UnitOfWork, utcnow
from oms_contracts.actors import SYSTEM

from . import amounts, domain
from .changes import audit, find_payment, lock_payment, touch
from .currencies import CurrencyError
from .models import Payment
from .psp import Adapter


def new_payment_values(order: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The columns of the payment record ``order`` (as orders dumps it) opens with at ``now``."""
    method = order["payment_method"]
    return dict(
        order_reference=order["reference"],
        method=method,
        provider=domain.provider_for(method),
        status=domain.initial_status(method),
        currency=order["currency"],
        amount=amounts.money(order["total"]),
        captured_amount=amounts.ZERO,
        refunded_amount=amounts.ZERO,
        order_status=order["status"],
        dunning_level=0,
        dunning_fees=amounts.ZERO,
        sequence=0,
        reconcile_checks=0,
        version=1,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        **domain.payment_references(order["reference"]),
    )


def create_payment(uow: UnitOfWork, order: dict[str, Any], actor: dict[str, Any]) -> Payment | None:
    """The record of ``order`` (as orders dumps it); None when it was created concurrently."""
    payment = Payment(**new_payment_values(order, utcnow()))
    try:
        with uow.session.begin_nested():
            uow.session.add(payment)
            uow.session.flush()
    except IntegrityError:
        return None
    audit(
        uow.session,
        payment.order_reference,
        actor,
        "payment_created",
        None,
        payment.status,
        details={
            "method": payment.method,
            "provider": payment.provider,
            "amount": str(payment.amount),
            "currency": payment.currency,
        },
    )
    return payment


def open_at_psp(source: SessionSource, adapters: Mapping[str, Adapter], reference: str) -> None:
    """Opens the PaymentIntent / PayPal order; the key makes a retried event reuse it."""
    with source.read_session() as session:
        payment = find_payment(session, reference, lock=False)
        amount, currency, provider = payment.amount, payment.currency, payment.provider
    try:
        result = adapters[provider].create_payment(reference, amount, currency, key=f"oms-payment-{reference}")
    except CurrencyError as error:
        # refused visibly: staff see why the PSP was not asked (never a rounded amount)
        with source.unit_of_work() as uow:
            payment = lock_payment(uow.session, reference)
            payment.failure_reason = f"Not opened at {provider}: {error}"[:1000]
            touch(payment)
            audit(
                uow.session,
                reference,
                SYSTEM,
                "psp_amount_refused",
                payment.status,
                payment.status,
                reason=payment.failure_reason,
                details={"amount": str(amount), "currency": currency},
            )
            uow.commit()
        return
    with source.unit_of_work() as uow:
        payment = lock_payment(uow.session, reference)
        if not payment.psp_reference:
            payment.psp_reference = result["psp_reference"]
            payment.capture_mode = result.get("capture_mode") or "checkout"
            touch(payment)
            audit(
                uow.session,
                reference,
                SYSTEM,
                "psp_payment_opened",
                details={
                    "provider": provider,
                    "psp_reference": result["psp_reference"],
                    "capture_mode": payment.capture_mode,
                },
            )
        uow.commit()
