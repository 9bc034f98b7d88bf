"""What a PSP reports of money going back, applied to a locked payment: refunds as money moves
(counted once succeeded, given back when one fails after all) and disputes. Each returns
``(changed, note)`` like ``psp_effects``."""

from typing import Any

from oms_common.db import UnitOfWork, utcnow

from . import domain
from .amounts import ZERO, counted_refunds, money
from .changes import audit, set_status, touch
from .models import Payment, Refund
from .psp_effects import adopt_ids, book_reported_refund, ignored
from .psp_reports import PspUpdate, captured_with_refunds, dispute_misfit, refunds_misfit, status_after_refund_report

Actor = dict[str, Any]
Outcome = tuple[bool, str]


def apply_refunds(uow: UnitOfWork, payment: Payment, update: PspUpdate, actor: Actor, label: str) -> Outcome:
    """Refunds as money moves: counted once succeeded, shown while pending, given back when a
    refund fails or is canceled after it had succeeded."""
    session = uow.session
    captured, unfit = captured_with_refunds(payment.captured_amount, update.captured, payment.amount)
    if unfit:
        return False, "flag:" + unfit
    if captured <= ZERO:
        return False, "wait"
    # plan first (nothing changes if the result cannot be ours), then apply
    known = {r.psp_refund_id: r for r in payment.refunds if r.psp_refund_id}
    anonymous = [r for r in payment.refunds if r.psp_refund_id is None and r.kind == "refund"]
    status_of = {id(r): r.status for r in payment.refunds}
    new_rows, named, changes = [], [], []
    for item in update.refunds:
        refund = known.get(item["id"]) if item["id"] else None
        if refund is None and item["id"]:
            # a refund that the charge's total already brought in without an id: give it its id
            refund = next(
                (r for r in anonymous if money(r.amount) == money(item["amount"]) and r not in [n[0] for n in named]),
                None,
            )
            if refund is not None:
                named.append((refund, item["id"]))
        if refund is None:
            new_rows.append(item)
            changes.append(("added", item["id"], item["status"]))
        elif status_of[id(refund)] != item["status"] and status_of[id(refund)] not in ("failed", "canceled"):
            changes.append((status_of[id(refund)], item["id"], item["status"]))
            status_of[id(refund)] = item["status"]
    grown = ZERO
    if update.refunded_total is not None:
        # only the charge's total: its growth is a refund the PSP reports without an id
        seen = sum(
            (
                money(r.amount)
                for r in payment.refunds
                if r.kind == "refund" and status_of[id(r)] in ("succeeded", "pending")
            ),
            ZERO,
        )
        grown = money(update.refunded_total) - seen
        if grown > ZERO:
            changes.append(("added", None, str(grown)))
    if not changes and not named:
        return ignored(
            session,
            payment,
            actor,
            label,
            payment.status,
            "nothing new about the refunds",
            "nothing new (refunds known)",
        )
    counted = sum(
        (
            money(r.amount)
            for r in payment.refunds
            if r.kind in ("refund", "dispute") and status_of[id(r)] == "succeeded"
        ),
        ZERO,
    )
    counted += sum((money(i["amount"]) for i in new_rows if i["status"] == "succeeded"), ZERO)
    counted += max(grown, ZERO)
    unfit = refunds_misfit(counted, captured)
    if unfit:
        return False, "flag:" + unfit
    # apply
    adopt_ids(payment, update)
    payment.captured_amount = captured
    for refund, psp_id in named:
        refund.psp_refund_id = psp_id
    for refund in payment.refunds:
        if refund.status != status_of[id(refund)]:
            refund.status = status_of[id(refund)]
            match = next((i for i in update.refunds if i["id"] == refund.psp_refund_id), None)
            refund.failure_reason = (match or {}).get("failure_reason") or refund.failure_reason
    for item in new_rows:
        payment.refunds.append(
            Refund(
                kind="refund",
                psp_refund_id=item["id"],
                amount=money(item["amount"]),
                status=item["status"],
                failure_reason=item.get("failure_reason"),
                reason="Reported by the PSP.",
                actor=actor["name"],
                created_at=utcnow(),
            )
        )
    book_reported_refund(payment, grown, actor)
    previous_refunded = money(payment.refunded_amount)
    payment.refunded_amount = counted
    details = {
        "event": label,
        "refunded": str(counted),
        "changes": [[str(c) if c is not None else None for c in change] for change in changes],
    }
    if previous_refunded > counted:
        audit(
            session,
            payment.order_reference,
            actor,
            "refund_reversed",
            payment.status,
            payment.status,
            reason=f"A refund of {previous_refunded - counted} {payment.currency} failed at the PSP; "
            "the amount is back.",
            details=details,
        )
    target = status_after_refund_report(payment.status, captured, counted, payment.amount, update.captured is not None)
    if target != payment.status:
        set_status(uow, payment, target, actor, reason=f"PSP: {label}", action="psp_update", details=details)
    else:
        touch(payment)
        audit(
            session,
            payment.order_reference,
            actor,
            "psp_refund_recorded",
            payment.status,
            payment.status,
            reason=f"PSP: {label}",
            details=details,
        )
    return True, target


def apply_dispute(uow: UnitOfWork, payment: Payment, update: PspUpdate, actor: Actor, label: str) -> Outcome:
    """A chargeback: disputed amount, reason and evidence due date on the payment; lost books the
    amount like a refund, won clears it."""
    dispute = update.dispute
    unfit = dispute_misfit(payment.status, payment.captured_amount, dispute["amount"])
    if unfit:
        return False, "flag:" + unfit
    if payment.dispute_status in (domain.DISPUTE_WON + domain.DISPUTE_LOST) and payment.dispute_id == dispute["id"]:
        return ignored(
            uow.session,
            payment,
            actor,
            label,
            payment.status,
            f"The dispute is closed already ({payment.dispute_status}).",
            "dispute closed already",
        )
    adopt_ids(payment, update)
    payment.dispute_id = dispute["id"]
    payment.dispute_amount = money(dispute["amount"])
    payment.dispute_reason = dispute.get("reason")
    payment.dispute_evidence_due_by = dispute.get("due_by") or payment.dispute_evidence_due_by
    payment.dispute_status = dispute["status"]
    if payment.status != "disputed":
        payment.status_before_dispute = payment.status
    refunded = money(payment.refunded_amount)
    lost = dispute["status"] in domain.DISPUTE_LOST
    if lost:
        payment.refunds.append(
            Refund(
                kind="dispute",
                psp_refund_id=dispute["id"],
                amount=payment.dispute_amount,
                status="succeeded",
                reason=f"Dispute lost ({dispute.get('reason')}).",
                actor=actor["name"],
                created_at=utcnow(),
            )
        )
        refunded = counted_refunds(payment.refunds)
        payment.refunded_amount = refunded
    target, _ = domain.after_dispute(
        dispute["status"], payment.status_before_dispute, payment.captured_amount, refunded, payment.amount
    )
    details = {
        "event": label,
        "dispute": dispute["id"],
        "dispute_status": dispute["status"],
        "amount": str(payment.dispute_amount),
        "reason": dispute.get("reason"),
        "evidence_due_by": dispute["due_by"].isoformat() if dispute.get("due_by") else None,
    }
    if target != payment.status:
        set_status(uow, payment, target, actor, reason=f"PSP: {label}", action="psp_update", details=details)
    else:
        touch(payment)
        audit(
            uow.session,
            payment.order_reference,
            actor,
            "psp_dispute_updated",
            payment.status,
            payment.status,
            reason=f"PSP: {label}",
            details=details,
        )
    return True, f"dispute {dispute['status']}"
