"""Applying what a PSP reports to a locked payment: ids adopted, forward moves only, captures of
approved PayPal orders (refunds and disputes: ``psp_reversals``). Shared by the inbox, the reconciler
and the capture at shipment; each returns ``(changed, note)``, a note ``flag:…`` when the
report does not fit the payment (the caller flags it) and ``wait`` when it came too early."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms_common.db import UnitOfWork, utcnow

from . import domain
from .amounts import money
from .changes import audit, set_status, touch
from .models import Payment, PaymentAudit, Refund
from .provider_settings import AUTHORIZATION_VALID_DAYS
from .psp import Adapter, PspError
from .psp_reports import PspUpdate, decide, misfit

Actor = dict[str, Any]
Outcome = tuple[bool, str]


def record_capture_state(
    session: Session,
    payment: Payment,
    actor: Actor,
    action: str,
    capture_status: str,
    reason: str | None,
    details: dict[str, Any],
) -> None:
    """What the PSP says of a capture (held, refused) kept on the payment and audited as ``action``;
    the payment's status stays where it is."""
    payment.psp_capture_status = capture_status
    payment.failure_reason = reason
    touch(payment)
    audit(
        session, payment.order_reference, actor, action, payment.status, payment.status, reason=reason, details=details
    )


def ignored(
    session: Session, payment: Payment, actor: Actor, label: str, reported: str | None, reason: str, note: str
) -> Outcome:
    """A report that changes nothing: the audit says why (``reported``: the status the PSP gave), the
    caller gets ``(False, note)``."""
    audit(
        session,
        payment.order_reference,
        actor,
        "psp_event_ignored",
        payment.status,
        reported,
        reason=reason,
        details={"event": label},
    )
    return False, note


def book_reported_refund(payment: Payment, grown: Decimal, actor: Actor) -> None:
    """Money the PSP reports refunded beyond what OMS asked for (a refund made in its dashboard)."""
    if grown > 0:
        payment.refunds.append(
            Refund(
                kind="refund",
                amount=grown,
                status="succeeded",
                reason="Reported by the PSP.",
                actor=actor["name"],
                created_at=utcnow(),
            )
        )


def adopt_ids(payment: Payment, update: PspUpdate) -> None:
    if not payment.psp_reference:
        payment.psp_reference = update.ids.get("intent") or update.ids.get("order") or update.ids.get("psp")
    payment.psp_charge_id = payment.psp_charge_id or update.ids.get("charge")
    payment.psp_capture_id = payment.psp_capture_id or update.ids.get("capture")
    payment.psp_authorization_id = payment.psp_authorization_id or update.ids.get("authorization")
    if isinstance(update.detail, dict):
        payment.psp_capture_id = payment.psp_capture_id or update.detail.get("capture_id")
        payment.psp_authorization_id = payment.psp_authorization_id or update.detail.get("authorization_id")


def apply_psp_update(uow: UnitOfWork, payment: Payment, update: PspUpdate, actor: Actor, label: str) -> Outcome:
    """(changed, note). Forward moves only; anything else is recorded in the audit and ignored."""
    session = uow.session
    if update.currency and update.currency.upper() != payment.currency:
        return ignored(
            session,
            payment,
            actor,
            label,
            update.status,
            f"Currency {update.currency} does not match {payment.currency}.",
            "currency mismatch",
        )
    adopt_ids(payment, update)
    if update.capture_state and update.status is None:
        # the PSP holds the capture: shown as such, the payment stays where it is
        if payment.psp_capture_status == update.capture_state:
            return False, f"nothing new (capture {update.capture_state})"
        reason = update.detail if isinstance(update.detail, str) else None
        record_capture_state(
            session, payment, actor, "psp_capture_pending", update.capture_state, reason, {"event": label}
        )
        return True, f"capture {update.capture_state}"
    refunded_total = update.refunded_total
    effective = PspUpdate(
        order_reference=payment.order_reference,
        status=update.status,
        captured=update.captured,
        refunded_total=refunded_total,
    )
    effective.amount_due = payment.amount
    decision = decide(payment.status, payment.captured_amount, payment.refunded_amount, effective)
    if decision.ignored:
        return ignored(session, payment, actor, label, update.status, decision.ignored, decision.ignored)
    book_reported_refund(payment, decision.refunded - money(payment.refunded_amount), actor)
    payment.captured_amount = decision.captured
    payment.refunded_amount = decision.refunded
    if decision.status == "authorized":
        _note_authorization(payment, update)
    if decision.status == "failed":
        payment.failure_reason = update.detail if isinstance(update.detail, str) else "The PSP reported a failure."
        payment.psp_capture_status = "DECLINED" if update.ids.get("capture") else payment.psp_capture_status
    elif decision.status in domain.CAPTURED_STATUSES:
        payment.psp_capture_status = None
    set_status(
        uow,
        payment,
        decision.status,
        actor,
        reason=f"PSP: {label}",
        action="psp_update",
        details={"event": label, "captured": str(decision.captured), "refunded": str(decision.refunded)},
    )
    return True, f"{decision.status}"


def _note_authorization(payment, update):
    """When the authorisation was made and when the PSP lets it lapse (its own time if it names
    one, else the provider's usual validity)."""
    payment.authorized_at = payment.authorized_at or utcnow()
    days = AUTHORIZATION_VALID_DAYS.get(payment.provider, 7)
    payment.authorization_expires_at = (
        update.authorization_expires_at
        or payment.authorization_expires_at
        or payment.authorized_at + timedelta(days=days)
    )


def apply_approved(
    uow: UnitOfWork, adapter: Adapter, payment: Payment, update: PspUpdate, actor: Actor, label: str
) -> Outcome:
    """CHECKOUT.ORDER.APPROVED: capture the order (once), or take it as paid when it came captured."""
    if update.status in ("paid", "failed", "voided", "authorized") or update.capture_state:
        return apply_psp_update(uow, payment, update, actor, label)
    if payment.status in domain.CAPTURED_STATUSES or payment.status in ("refunded", "disputed", "voided"):
        return ignored(
            uow.session, payment, actor, label, payment.status, "The order is captured already.", "captured already"
        )
    if payment.status == "authorized" and (update.order_intent or "").upper() == "AUTHORIZE":
        return ignored(
            uow.session, payment, actor, label, payment.status, "The order is authorised already.", "authorized already"
        )
    return capture_approved(
        uow,
        adapter,
        payment,
        update.ids.get("order") or payment.psp_reference,
        actor,
        label,
        intent=update.order_intent,
    )


def refusals(session: Session, reference: str, action: str) -> int:
    """How often the payment's audit already records ``action`` (a refusal): the next key's suffix."""
    return session.execute(
        select(func.count())
        .select_from(PaymentAudit)
        .where(PaymentAudit.order_reference == reference, PaymentAudit.action == action)
    ).scalar_one()


def capture_approved(
    uow: UnitOfWork,
    adapter: Adapter,
    payment: Payment,
    order_id: str,
    actor: Actor,
    label: str,
    intent: str | None = None,
) -> Outcome:
    """Captures an approved PayPal order — or, for an order of intent AUTHORIZE (capture on
    shipment), authorises it; a refusal leaves it waiting for the buyer, visibly."""
    adopt_ids(payment, PspUpdate(order_reference=None, ids={"order": order_id}))
    authorize = (intent or "").upper() == "AUTHORIZE" or (intent is None and payment.capture_mode == "on_ship")
    verb, refused = ("authorize", "psp_authorize_refused") if authorize else ("capture", "psp_capture_refused")
    # one key per attempt after a refusal: PayPal answers a reused key with the stored refusal
    earlier = refusals(uow.session, payment.order_reference, refused)
    key = f"oms-{verb}-{order_id}" + (f"-{earlier}" if earlier else "")
    try:
        order = (adapter.authorize_order if authorize else adapter.capture_order)(order_id, key=key)
    except PspError as error:
        if error.retryable:
            raise  # retried by the inbox (or the next reconciliation); the key makes it capture once
        payment.psp_capture_status = "refused"
        payment.failure_reason = f"PayPal refused to {verb} the order: {error}"[:1000]
        touch(payment)
        audit(
            uow.session,
            payment.order_reference,
            actor,
            refused,
            payment.status,
            payment.status,
            reason=payment.failure_reason,
            details={"event": label, "order": order_id},
        )
        return True, f"{verb} refused"
    captured = adapter.update_from_order(order)
    unfit = captured.invalid or misfit(payment, adapter.name, captured)
    if unfit:
        return False, "flag:" + unfit
    audit(
        uow.session,
        payment.order_reference,
        actor,
        "psp_authorized" if authorize else "psp_captured",
        payment.status,
        payment.status,
        details={
            "event": label,
            "order": order_id,
            "capture": captured.ids.get("capture"),
            "authorization": captured.ids.get("authorization"),
            "captured": str(captured.captured) if captured.captured is not None else None,
        },
    )
    if captured.status is None and not captured.capture_state:
        return True, f"captured, order {order.get('status')}"
    return apply_psp_update(uow, payment, captured, actor, label)
