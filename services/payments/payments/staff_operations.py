"""What staff (and the ship) do to a payment (S9, S11, S13): manual status, completion by hand,
refund or void, dunning, and the capture when the order ships. Each locks the payment, asks
the domain, which raises every refusal (``payment_change`` answers it as a problem), and stores
what it decided."""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from marshmallow import Schema

from oms_common.db import SessionSource
from oms_common.problems import ServiceUnavailable, load
from oms_contracts.actors import load_actor
from oms_contracts.payments import CompleteSchema, DunningSchema, ManualStatusSchema, RefundSchema

from . import amounts, domain, dunning, dunning_rules
from .changes import PaymentUnit, PaymentUnits, audit, audit_flagged, payment_change, payment_view, set_status
from .models import Payment
from .psp import Adapter, PspError, PspNotConfigured
from .psp_effects import apply_psp_update, record_capture_state, refusals
from .psp_reports import misfit
from .refunds import record_refund, refund_at_psp, void_at_psp

Actor = dict[str, Any] | None


@contextmanager
def staff_change(
    source: SessionSource | PaymentUnits, reference: str, schema: Schema, data: dict[str, Any], actor: Actor
) -> Iterator[tuple[PaymentUnit, Payment, dict[str, Any], dict[str, Any]]]:
    """The request checked against ``schema`` and the actor loaded before anything is locked (a 422
    holds no row), then the locked payment of ``payment_change``: (unit, payment, payload, actor)."""
    payload, actor = load(schema, data), load_actor(actor)
    with payment_change(source, reference) as (uow, payment):
        yield uow, payment, payload, actor


def set_payment_status(
    source: SessionSource | PaymentUnits, reference: str, data: dict[str, Any], actor: Actor = None
) -> dict[str, Any]:
    """Manual bookkeeping: unpaid → announced → paid (S13)."""
    with staff_change(source, reference, ManualStatusSchema(), data, actor) as (uow, payment, payload, actor):
        domain.check_manual_status(payment.provider, payment.status, payload["status"])
        if payload["status"] == "paid":  # the dunning fees are paid with the amount
            payment.captured_amount = amounts.owed(payment.amount, payment.dunning_fees or 0)
        set_status(uow, payment, payload["status"], actor, payload.get("note"), action="manual_status")
        result = payment_view(payment)
        uow.commit()
        return result


def complete_payment(
    source: SessionSource | PaymentUnits, reference: str, data: dict[str, Any], actor: Actor = None
) -> dict[str, Any]:
    """Completes by hand a PSP payment whose success callback never came (S9)."""
    with staff_change(source, reference, CompleteSchema(), data, actor) as (uow, payment, payload, actor):
        domain.check_completion(payment.provider, payment.status)
        payment.completed_by_hand_reference = payload["psp_reference"]
        payment.psp_reference = payment.psp_reference or payload["psp_reference"]
        payment.captured_amount = payment.amount
        set_status(
            uow,
            payment,
            "paid",
            actor,
            payload["reason"],
            action="completed_by_hand",
            details={"psp_reference": payload["psp_reference"]},
        )
        result = payment_view(payment)
        uow.commit()
        return result


def refund_payment(
    source: SessionSource | PaymentUnits,
    adapters: Mapping[str, Adapter],
    reference: str,
    data: dict[str, Any],
    actor: Actor = None,
) -> dict[str, Any]:
    """Void before capture, refund (full or partial) after, through the PSP (S11); for a payment
    made by hand, the refund staff paid back themselves, recorded."""
    with staff_change(source, reference, RefundSchema(), data, actor) as (uow, payment, payload, actor):
        action, amount = domain.plan_refund(
            payment.provider,
            payment.status,
            payment.captured_amount,
            amounts.money(payment.refunded_amount) + amounts.pending_refunds(payment.refunds),
            payload.get("amount"),
        )
        if action == "void":
            void_at_psp(uow, adapters, payment, actor, payload.get("reason"), key=f"oms-void-{reference}")
        elif action == "record":
            record_refund(uow, payment, amount, actor, payload.get("reason"))
        else:
            count = sum(1 for refund in payment.refunds if refund.kind == "refund")
            key = f"oms-refund-{reference}-{count + 1}-{int(amounts.money(amount) * 1000)}"
            refund_at_psp(uow, adapters, payment, amount, actor, payload.get("reason"), key)
        result = payment_view(payment)
        uow.commit()
        return result


def request_dunning(
    source: SessionSource | PaymentUnits,
    reference: str,
    data: dict[str, Any],
    actor: Actor,
    change_order_status: Callable[..., Any],
    fees: Mapping[int, Any] | None = None,
) -> dict[str, Any]:
    """Dunning level 1/2 (S3, S11): the order status moves through the orders service, the
    level's fee (``fees``, per level) is added to what is owed, and ``payment_dunning_changed``
    (with ``notify``) makes notifications send the reminder with the open amount."""
    with staff_change(source, reference, DunningSchema(), data, actor) as (uow, payment, payload, actor):
        level = payload["level"]
        dunning_rules.check_dunning(payment.provider, payment.status, payment.dunning_level, level)
        reason = payload.get("reason") or f"Dunning level {level}."
        order = change_order_status(
            reference,
            {"status": dunning_rules.DUNNING_ORDER_STATUS[level], "notify": payload["notify"], "reason": reason},
            actor,
        )
        payment.order_status = (order or {}).get("status", dunning_rules.DUNNING_ORDER_STATUS[level])
        dunning.reach_level(
            uow,
            payment,
            level,
            dunning_rules.DEFAULT_DUNNING_FEES if fees is None else fees,
            actor,
            reason,
            payload["notify"],
            order,
        )
        result = payment_view(payment)
        uow.commit()
        return result


def capture_for_shipment(
    source: SessionSource | PaymentUnits, adapters: Mapping[str, Adapter], reference: str, actor: Actor = None
) -> dict[str, Any]:
    """Collects the authorised money of an order that ships now (capture on shipment).

    The orders service calls this over RPC while it holds the order's row and before the ship
    commits, so an order cannot ship without its capture. It cannot capture twice: the payment
    row is locked, a captured payment answers "nothing to capture", and the PSP call carries an
    idempotency key (a ship retried after a lost answer replays the same capture). A refusal
    is recorded on the payment and answered as a 409 naming the PSP's reason (nothing shipped);
    a PSP that cannot be reached is a 503 and changes nothing.
    """
    actor = load_actor(actor)
    with payment_change(source, reference) as (uow, payment):
        if domain.ship_capture_plan(payment.provider, payment.status, payment.failure_reason) is None:
            return {"captured": False, "payment": payment_view(payment)}
        adapter, provider = adapters[payment.provider], payment.provider
        earlier = refusals(uow.session, reference, "ship_capture_refused")
        key = f"oms-ship-capture-{payment.psp_authorization_id or payment.psp_reference}" + (
            f"-{earlier}" if earlier else ""
        )
        label = f"{provider} capture at shipment"
        try:
            update = adapter.capture(payment, key)
        except PspError as error:
            if isinstance(error, PspNotConfigured) or error.retryable:
                raise ServiceUnavailable(f"The payment could not be captured now: {error}") from None
            refusal = domain.refused_capture(provider, str(error))
            record_capture_state(
                uow.session, payment, actor, "ship_capture_refused", "refused", refusal.reason, {"key": key}
            )
            uow.commit()  # the refusal is kept on the payment; the ship is refused
            raise refusal from None
        unfit = update.invalid or misfit(payment, provider, update)
        if unfit:
            audit_flagged(uow.session, payment, actor, unfit, event=label)
            uow.commit()
            raise domain.unfit_capture(unfit)
        audit(
            uow.session,
            reference,
            actor,
            "psp_captured",
            payment.status,
            payment.status,
            details={
                "event": label,
                "key": key,
                "capture": update.ids.get("capture"),
                "captured": str(update.captured) if update.captured is not None else None,
            },
        )
        apply_psp_update(uow, payment, update, actor, label)
        status, failure_reason = payment.status, payment.failure_reason
        result = {"captured": True, "payment": payment_view(payment)}
        uow.commit()  # a declined capture is kept on the payment too
        domain.check_captured_for_ship(provider, status, failure_reason)
        return result
