"""Lost callbacks (S9): payments stuck at the PSP listed for staff, the reconciler that asks the
PSP about them, and authorisations that lapsed before the order shipped."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select

from oms_common.db import SessionSource, claim_rows, utcnow
from oms_common.problems import load
from oms_contracts.payments import StuckQuerySchema

from . import domain
from .changes import audit, audit_flagged, lock_payment, payment_view, touch
from .models import Payment
from .psp import Adapter, PspError
from .psp_effects import apply_psp_update, capture_approved
from .psp_reports import misfit

RECONCILER = {"name": "reconciliation", "kind": "system", "role": None, "origin": "payments:reconcile"}


def _stuck_since(cutoff: datetime) -> Select[tuple[Payment]]:
    """Payments still waiting for their PSP since ``cutoff`` or longer (S9): the stuck list staff
    see, and what the reconciler takes its batches from."""
    return select(Payment).where(
        Payment.status.in_(domain.STUCK_STATUSES), Payment.provider != "manual", Payment.created_at <= cutoff
    )


def list_stuck_payments(
    source: SessionSource, query: dict[str, Any] | None, default_age_seconds: int
) -> dict[str, Any]:
    """PSP payments still pending after the configured age (S9): what staff should look at."""
    params = load(StuckQuerySchema(), query or {})
    age = params["older_than_seconds"] if params["older_than_seconds"] is not None else default_age_seconds
    oldest_first = _stuck_since(utcnow() - timedelta(seconds=age)).order_by(Payment.created_at)
    with source.read_session() as session:
        rows = session.execute(oldest_first.limit(params["limit"])).scalars().all()
        now = utcnow()
        items = []
        for payment in rows:
            item = payment_view(payment)
            item["pending_seconds"] = int((now - payment.created_at).total_seconds())
            item["reconcile_checks"] = payment.reconcile_checks
            item["last_psp_status"] = payment.last_psp_status
            items.append(item)
        return {"older_than_seconds": age, "items": items, "count": len(items)}


def flag_expired_authorizations(source: SessionSource, now: datetime | None = None, batch: int = 200) -> list[str]:
    """Authorisations that lapsed before the order shipped: flagged for staff (audit entry,
    ``authorization_expired`` in the payment answer). The money is no longer held."""
    now = now or utcnow()
    lapsed = (
        select(Payment)
        .where(
            Payment.status == "authorized",
            Payment.authorization_expired_at.is_(None),
            Payment.authorization_expires_at <= now,
        )
        .order_by(Payment.authorization_expires_at)
    )
    flagged = []
    with source.unit_of_work() as uow:
        for payment in claim_rows(uow.session, lapsed, batch):
            payment.authorization_expired_at = now
            payment.failure_reason = (
                f"The {payment.provider} authorisation expired at "
                f"{payment.authorization_expires_at.isoformat()} before the order shipped; "
                "the money is no longer held."
            )
            touch(payment)
            audit(
                uow.session,
                payment.order_reference,
                RECONCILER,
                "authorization_expired",
                payment.status,
                payment.status,
                reason=payment.failure_reason,
                details={"expires_at": payment.authorization_expires_at.isoformat()},
            )
            flagged.append(payment.order_reference)
        uow.commit()
    return flagged


def reconcile(
    source: SessionSource,
    adapters: Mapping[str, Adapter],
    older_than_seconds: int,
    batch: int = 50,
    recheck_seconds: int = 60,
) -> dict[str, Any]:
    """Asks the PSP about payments pending longer than the age; completes those it reports paid.

    Several replicas may run it: a batch is leased with ``FOR UPDATE SKIP LOCKED`` and a
    ``reconcile_after`` timestamp, so each payment is asked about by one replica at a time.
    """
    now = utcnow()
    due = (
        _stuck_since(now - timedelta(seconds=older_than_seconds))
        .where(
            Payment.psp_reference.is_not(None), or_(Payment.reconcile_after.is_(None), Payment.reconcile_after <= now)
        )
        .order_by(Payment.id)
    )
    with source.unit_of_work() as uow:
        leased = []
        for payment in claim_rows(uow.session, due, batch):
            payment.reconcile_after = now + timedelta(seconds=recheck_seconds)
            payment.reconcile_checks = (payment.reconcile_checks or 0) + 1
            leased.append((payment.order_reference, payment.provider, payment.psp_reference))
        uow.commit()
    summary = {
        "checked": 0,
        "completed": [],
        "still_pending": [],
        "errors": [],
        "authorizations_expired": flag_expired_authorizations(source),
    }
    for reference, provider, psp_reference in leased:
        summary["checked"] += 1
        try:
            update, psp_status = adapters[provider].retrieve(psp_reference)
        except PspError as error:
            summary["errors"].append({"order_reference": reference, "error": str(error)})
            continue
        with source.unit_of_work() as uow:
            payment = lock_payment(uow.session, reference)
            payment.last_psp_status = str(psp_status)[:40] if psp_status else None
            changed = False
            label = f"{provider} reconciliation {psp_reference} ({psp_status})"
            unfit = update is not None and (update.invalid or misfit(payment, provider, update))
            if unfit:
                audit_flagged(uow.session, payment, RECONCILER, unfit, event=label)
            elif (
                update is not None
                and update.kind == "approved"
                and psp_status == "APPROVED"
                and not update.status
                and payment.status in ("pending", "failed", "authorized")
            ):
                # the buyer approved but the webhook was lost: capture now (the key captures once)
                try:
                    changed, _ = capture_approved(
                        uow, adapters[provider], payment, psp_reference, RECONCILER, label, intent=update.order_intent
                    )
                except PspError as error:
                    summary["errors"].append({"order_reference": reference, "error": str(error)})
            elif update is not None and update.status:
                changed, _ = apply_psp_update(uow, payment, update, RECONCILER, label)
            uow.commit()
            done = changed and payment.status in domain.CAPTURED_STATUSES + ("refunded", "voided", "authorized")
        (summary["completed"] if done else summary["still_pending"]).append(reference)
    return summary
