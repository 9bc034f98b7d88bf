"""What a PSP reports about a payment, independent of its wire format, and what it may change.

Plain Python on purpose, like ``domain``: an event that does not fit the payment is named
(``misfit``), one that would move it back is ignored (``decide``); nothing is stored here.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from .amounts import ZERO, Amount, money
from .domain import DISPUTABLE_STATUSES, can_move, capture_status, status_after_refunds


class PaymentRow(Protocol):
    """What ``misfit`` reads of a payment."""

    provider: str
    currency: str
    amount: Decimal
    psp_reference: str | None
    psp_charge_id: str | None
    psp_capture_id: str | None


class PspUpdate:
    """What a provider's event says about a payment, independent of the wire format."""

    def __init__(
        self,
        order_reference: str | None,
        psp_reference: str | None = None,
        status: str | None = None,
        captured: Decimal | None = None,
        refunded_total: Decimal | None = None,
        refund_id: str | None = None,
        refund_amount: Decimal | None = None,
        currency: str | None = None,
        detail: str | dict[str, Any] | None = None,
        kind: str = "payment",
        ids: dict[str, Any] | None = None,
        requested: Decimal | None = None,
        refunds: list[dict[str, Any]] | None = None,
        dispute: dict[str, Any] | None = None,
        invalid: str | None = None,
        capture_state: str | None = None,
        order_status: str | None = None,
        authorization_expires_at: datetime | None = None,
    ) -> None:
        self.kind = kind  # payment | refund | dispute | approved
        self.ids = {k: v for k, v in (ids or {}).items() if isinstance(v, str) and 0 < len(v) <= 120}
        if psp_reference and "intent" not in self.ids and "order" not in self.ids:
            self.ids.setdefault("psp", psp_reference)
        self.requested = requested  # the amount the PSP object asks for (intent / order), when known
        self.refunds = refunds or []  # [{"id", "amount", "status", "failure_reason"}]
        self.dispute = dispute  # {"id", "amount", "status", "reason", "due_by"}
        self.invalid = invalid  # why an amount or currency cannot be represented
        self.capture_state = capture_state  # PSP's capture state when it is neither paid nor failed
        self.order_status = order_status  # PayPal order status (APPROVED, COMPLETED, …)
        self.authorization_expires_at = authorization_expires_at  # when an authorisation lapses, if known
        self.order_intent: str | None = None  # PayPal order intent (CAPTURE / AUTHORIZE)
        self.order_reference = order_reference
        self.psp_reference = psp_reference
        self.status = status  # target status, or None when only refunds change
        self.captured = captured  # Decimal captured so far, when known
        self.refunded_total = refunded_total  # cumulative refunded amount, when the PSP gives it
        self.refund_id = refund_id  # a single refund, when the PSP gives it one by one
        self.refund_amount = refund_amount
        self.currency = currency
        self.detail = detail
        self.amount_due: Decimal | None = None  # set by the caller: the payment's amount

    @property
    def amount(self) -> Decimal | None:
        """The amount the event is about, for the staff list."""
        if self.captured is not None:
            return self.captured
        if self.refunds:
            return sum((money(r["amount"]) for r in self.refunds), ZERO)
        if self.dispute:
            return self.dispute.get("amount")
        return self.requested

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"PspUpdate({self.__dict__})"


class Decision:
    def __init__(self, status: str, captured: Decimal, refunded: Decimal, ignored: str | None = None) -> None:
        self.status = status
        self.captured = captured
        self.refunded = refunded
        self.ignored = ignored


def decide(current_status: str, captured: Amount | None, refunded: Amount | None, update: PspUpdate) -> Decision:
    """What a PSP update does to the payment: a Decision with the new status and amounts, or
    ``ignored`` naming why nothing changes. Refund totals only grow; statuses only move forward.
    """
    old_captured, old_refunded = money(captured or ZERO), money(refunded or ZERO)
    new_captured = old_captured
    if update.captured is not None:
        new_captured = max(old_captured, money(update.captured))
    new_refunded = old_refunded
    if update.refunded_total is not None:
        new_refunded = max(old_refunded, money(update.refunded_total))
    target = update.status
    if target == "paid" and update.amount_due is not None and new_captured < money(update.amount_due):
        target = "partially_paid"
    if new_refunded > old_refunded:
        target = status_after_refunds(new_captured, new_refunded) if new_captured > ZERO else "refunded"
    if target is None or (target == current_status and new_refunded == old_refunded):
        return Decision(current_status, old_captured, old_refunded, ignored=f"nothing new (already {current_status})")
    if target == current_status or can_move(current_status, target) or _implied_path(current_status, target):
        return Decision(target, new_captured, new_refunded)
    return Decision(
        current_status,
        old_captured,
        old_refunded,
        ignored=f"'{target}' after '{current_status}' would move the payment back",
    )


def _implied_path(current: str, target: str) -> bool:
    """A refund seen before its capture event implies the capture: pending → refunded is a
    forward move through paid."""
    return target in ("partially_refunded", "refunded") and can_move(current, "paid")


def misfit(payment: PaymentRow, provider: str, update: PspUpdate) -> str | None:
    """Why an event cannot be about this payment, or None: another PSP, another intent or order,
    another currency, another amount (a first sighting must match the order's amount)."""
    if provider != payment.provider:
        return f"The order is paid through {payment.provider}, not {provider}."
    if update.currency and update.currency.upper() != payment.currency:
        return f"Currency {update.currency.upper()} does not match the payment's {payment.currency}."
    own = update.ids.get("intent") or update.ids.get("order") or update.ids.get("psp")
    if own and payment.psp_reference and own != payment.psp_reference:
        return f"The event is about {own}, not about this payment's {payment.psp_reference}."
    charge = update.ids.get("charge")
    if charge and payment.psp_charge_id and charge != payment.psp_charge_id:
        return f"The event is about charge {charge}, not this payment's {payment.psp_charge_id}."
    capture = update.ids.get("capture")
    if capture and payment.psp_capture_id and capture != payment.psp_capture_id and update.kind != "approved":
        return f"The event is about capture {capture}, not this payment's {payment.psp_capture_id}."
    amount = money(payment.amount)
    if update.requested is not None and money(update.requested) != amount:
        return f"The PSP asks for {money(update.requested)} {payment.currency}; the order is for {amount}."
    if update.kind in ("payment", "approved") and update.captured is not None:
        if money(update.captured) > amount:
            return f"The PSP reports {money(update.captured)} captured; the order is for {amount}."
        if not payment.psp_reference and update.requested is None and money(update.captured) != amount:
            return (
                f"A first sighting must match the order's amount: {money(update.captured)} reported, {amount} expected."
            )
    return None


def captured_with_refunds(captured: Amount, reported: Amount | None, amount: Amount) -> tuple[Decimal, str | None]:
    """(captured, misfit): a refund seen before its capture implies the capture it names, never
    more than the order's amount."""
    captured = money(captured)
    if reported is not None and money(reported) > captured:
        captured = money(reported)
        if captured > money(amount):
            return captured, f"The PSP reports {captured} captured; the order is for {money(amount)}."
    return captured, None


def refunds_misfit(counted: Decimal, captured: Decimal) -> str | None:
    if counted > captured:
        return f"Refunds of {counted} would exceed the {captured} captured."
    return None


def status_after_refund_report(
    status: str, captured: Decimal, counted: Decimal, amount: Amount, capture_reported: bool
) -> str:
    """The status a refund report leaves: a dispute keeps its status, a payment not yet captured
    moves only by the capture the report implies."""
    if status == "disputed":
        return status
    if status in ("pending", "authorized", "failed") and counted <= ZERO:
        return capture_status(captured, amount) if capture_reported else status
    return status_after_refunds(captured, counted, amount)


def dispute_misfit(status: str, captured: Amount, disputed: Amount) -> str | None:
    """Why a dispute cannot be about this payment: nothing was captured, or less than disputed."""
    if status not in DISPUTABLE_STATUSES and status != "disputed":
        return f"A dispute on a payment in status '{status}' (nothing was captured)."
    if money(disputed) > money(captured):
        return f"The dispute is for {money(disputed)}; {money(captured)} was captured."
    return None
