"""The payment's rules: statuses, forward-only moves, provider capabilities, refund limits.

Plain Python on purpose: no framework, no database, no PSP SDK. The application layer loads
rows, asks these functions and stores what they decide; every business refusal is raised here.
Money arithmetic is in ``amounts``, what a PSP reports in ``psp_reports``, dunning in ``dunning_rules``.
"""

from decimal import Decimal

from oms_common import payment_references as references
from oms_contracts.payments import MANUAL_STATUSES
from oms_contracts.values import PSP_OF_METHOD

from .amounts import ZERO, Amount, money, refundable

PSP_METHODS = PSP_OF_METHOD
PROVIDERS = ("manual", "stripe", "paypal")

# Forward moves only. Anything else (a late ``failed`` after ``paid``, an old ``pending``
# after ``authorized``) is recorded and ignored. ``failed`` may still be followed by success:
# the customer can retry with another card on the same PaymentIntent; a declined capture of an
# authorisation is a failure too. ``partially_paid``: the PSP captured less than the order's
# amount. ``disputed`` is entered and left by dispute events only (``after_dispute``).
TRANSITIONS = {
    "unpaid": {"announced", "paid", "voided"},
    "announced": {"paid", "voided"},
    "pending": {"authorized", "partially_paid", "paid", "failed", "voided"},
    "failed": {"authorized", "partially_paid", "paid", "voided"},
    "authorized": {"partially_paid", "paid", "failed", "voided"},
    "partially_paid": {"paid", "partially_refunded", "refunded"},
    "paid": {"partially_refunded", "refunded"},
    "partially_refunded": {"partially_refunded", "refunded"},
    "refunded": set(),
    "voided": set(),
    "disputed": set(),
}
STUCK_STATUSES = ("pending",)
CAPTURED_STATUSES = ("paid", "partially_refunded", "partially_paid")
DISPUTABLE_STATUSES = ("paid", "partially_refunded", "partially_paid", "refunded")
DISPUTE_OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
DISPUTE_WON = ("won", "warning_closed", "prevented")
DISPUTE_LOST = ("lost",)

# What each provider can do at all; ``allowed_operations`` narrows it to what the current
# state permits (this is what the detail view offers).
CAPABILITIES = {
    # money paid by hand goes back by hand: staff record the refund they made (a bank transfer),
    # which counts at once and makes documents issue the credit note
    "manual": frozenset({"manual_status", "dunning", "refund", "partial_refund", "recorded_refund"}),
    "stripe": frozenset({"refund", "partial_refund", "void", "complete"}),
    "paypal": frozenset({"refund", "partial_refund", "void", "complete"}),
}
# Operations that call the provider: without its settings (provider_settings) they cannot run.
PSP_OPERATIONS = frozenset({"refund", "partial_refund", "void"})
NO_CAPTURE_NEEDED = ("paid", "partially_refunded", "refunded", "partially_paid", "disputed")
DUNNING_LEVELS = (1, 2)
# a payment with money still owed on it: nothing came in yet, or less than the invoice
DUNNING_STATUSES = ("unpaid", "announced", "partially_paid")
REPLAYABLE_WEBHOOKS = ("failed", "ignored", "waiting", "flagged", "unmatched")


class DomainError(Exception):
    """A business rule refused the request (a conflict with the current state). ``field``
    names what callers are told it is about, ``detail`` what they are told there."""

    def __init__(self, message: str, field: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.detail = detail or message


class InvalidAmount(DomainError):
    """Well-formed but impossible amount (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class OperationNotAllowed(DomainError):
    pass


class ShipRefused(OperationNotAllowed):
    """The order cannot ship against its payment; ``reason`` is what the payment records."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"The order cannot ship: {reason}", "payment", reason)
        self.reason = reason


def payment_references(order_reference: str) -> dict[str, str | None]:
    """The QR and creditor references a bank transfer names the order by (None where the
    order reference gives none, e.g. more than 26 digits)."""
    found: dict[str, str | None] = {}
    for column, derive in (
        ("qr_reference", references.qr_reference),
        ("creditor_reference", references.creditor_reference),
    ):
        try:
            found[column] = derive(order_reference)
        except ValueError:
            found[column] = None
    return found


def provider_for(method: str) -> str:
    return PSP_METHODS.get(method, "manual")


def initial_status(method: str) -> str:
    return "pending" if method in PSP_METHODS else "unpaid"


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, set())


def is_final(status: str) -> bool:
    return not TRANSITIONS.get(status)


def check_manual_status(provider: str, current: str, target: str) -> None:
    """Staff bookkeeping (S13): unpaid → announced → paid, for payments not run by a PSP."""
    if provider != "manual":
        raise OperationNotAllowed(
            f"The payment runs through {provider}; its status follows the PSP. Use complete for a lost callback.",
            "status",
        )
    if target not in MANUAL_STATUSES:
        raise OperationNotAllowed(f"'{target}' cannot be set by hand.", "status")
    if current == target:
        raise OperationNotAllowed(f"The payment is already '{current}'.", "status")
    if not can_move(current, target):
        raise OperationNotAllowed(f"A payment in status '{current}' cannot move back or on to '{target}'.", "status")


def check_completion(provider: str, current: str) -> None:
    """A PSP payment whose success callback never came may be completed by hand (S9)."""
    if provider == "manual":
        raise OperationNotAllowed("Only PSP payments are completed by hand; use the payment status instead.")
    if current not in ("pending", "failed", "authorized"):
        raise OperationNotAllowed(f"A payment in status '{current}' cannot be completed.")


def ship_capture_plan(provider: str, status: str, failure_reason: str | None = None) -> str | None:
    """What shipping asks of the payment: 'capture' (an authorisation to collect now) or None
    (nothing to collect: manual payment or money already captured). A PSP payment with
    nothing authorised (pending, failed, voided) cannot be shipped against."""
    if provider == "manual" or status in NO_CAPTURE_NEEDED:
        return None
    if status == "authorized":
        return "capture"
    raise OperationNotAllowed(
        f"The payment is '{status}': there is no authorisation to capture, so the order cannot be shipped.",
        "payment",
        failure_reason,
    )


def refused_capture(provider: str, psp_message: str) -> ShipRefused:
    """The PSP refused the capture at shipment: the ship is refused for the PSP's reason."""
    return ShipRefused(f"{provider} refused the capture: {psp_message}"[:1000])


def unfit_capture(misfit: str) -> ShipRefused:
    return ShipRefused(misfit, f"The order cannot ship: the PSP's capture does not fit the payment: {misfit}")


def check_captured_for_ship(provider: str, status: str, failure_reason: str | None) -> None:
    """A capture the PSP declined (the payment moved to failed) refuses the ship."""
    if status == "failed":
        raise ShipRefused(failure_reason or f"{provider} declined the capture.")


def plan_refund(
    provider: str, status: str, captured: Amount, refunded: Amount, requested: Amount | None = None
) -> tuple[str, Decimal | None]:
    """What a refund request does now: ('void', None) before capture, ('refund', amount) after
    through the PSP, ('record', amount) for money paid by hand and paid back by hand.

    Raises OperationNotAllowed when the state forbids it and InvalidAmount when the amount
    is more than was captured and not yet refunded.
    """
    capabilities = CAPABILITIES[provider]
    if "refund" not in capabilities:
        raise OperationNotAllowed("This payment cannot be refunded.")
    if status in ("pending", "authorized", "failed"):
        if requested is not None:
            raise InvalidAmount("amount", "Nothing was captured yet: the payment can only be voided as a whole.")
        return "void", None
    if status not in CAPTURED_STATUSES:
        raise OperationNotAllowed(f"A payment in status '{status}' cannot be refunded.")
    left = refundable(captured, refunded)
    amount = left if requested is None else money(requested)
    if amount <= ZERO:
        raise InvalidAmount("amount", "The amount must be more than 0.")
    if amount > left:
        raise InvalidAmount(
            "amount", f"At most {left} can still be refunded (captured {money(captured)}, refunded {money(refunded)})."
        )
    if amount != left and "partial_refund" not in capabilities:
        raise InvalidAmount("amount", "This provider only refunds the whole amount.")
    return ("record" if "recorded_refund" in capabilities else "refund"), amount


def status_after_refunds(captured: Amount, refunded: Amount, amount: Amount | None = None) -> str:
    """The status a captured payment has for what is refunded (or lost in a dispute) now."""
    captured, refunded = money(captured), money(refunded)
    if refunded > ZERO:
        return "refunded" if refunded >= captured else "partially_refunded"
    if amount is not None and captured < money(amount):
        return "partially_paid"
    return "paid"


def capture_status(captured: Amount, amount: Amount) -> str:
    """A PSP capture of less than the order's amount is partial, never paid."""
    return "paid" if money(captured) >= money(amount) else "partially_paid"


def after_dispute(
    dispute_status: str, before: str | None, captured: Amount, refunded: Amount, amount: Amount
) -> tuple[str, bool]:
    """(status, lost): what a dispute in ``dispute_status`` makes of the payment.

    Open → ``disputed``; lost → the amount is booked like a refund (the caller adds it to
    ``refunded`` first); won → back to what the refunds say.
    """
    if dispute_status in DISPUTE_LOST:
        return status_after_refunds(captured, refunded, amount), True
    if dispute_status in DISPUTE_WON:
        return status_after_refunds(captured, refunded, amount), False
    return "disputed", False


def allowed_operations(
    provider: str,
    status: str,
    captured: Amount,
    refunded: Amount,
    dunning_level: int | None,
    provider_configured: bool = True,
) -> list[str]:
    """The operations the detail view may offer now (S11); without its provider's settings,
    none that would call the provider."""
    capabilities = CAPABILITIES[provider]
    if not provider_configured:
        capabilities = capabilities - PSP_OPERATIONS
    allowed = []
    if "manual_status" in capabilities:
        allowed += [f"status:{s}" for s in MANUAL_STATUSES if can_move(status, s)]
    if "complete" in capabilities and status in ("pending", "failed", "authorized"):
        allowed.append("complete")
    if "void" in capabilities and status in ("pending", "authorized", "failed"):
        allowed.append("void")
    if status in CAPTURED_STATUSES and refundable(captured, refunded) > ZERO:
        if "refund" in capabilities:
            allowed.append("refund")
        if "partial_refund" in capabilities:
            allowed.append("partial_refund")
    if "dunning" in capabilities and status in DUNNING_STATUSES and (dunning_level or 0) < 2:
        allowed.append(f"dunning:{(dunning_level or 0) + 1}")
    return allowed


def cancellation_plan(provider: str, status: str) -> str | None:
    """What cancelling the order does to its payment: 'void', 'refund', 'close' or None."""
    if provider == "manual":
        if status in ("unpaid", "announced"):
            return "close"
        return None  # money taken by hand goes back by hand; an audit entry says so
    if status in ("pending", "authorized", "failed"):
        return "void"
    if status in CAPTURED_STATUSES:
        return "refund"
    return None


def cancel_without_action(status: str) -> tuple[str, str]:
    """(audit action, reason) of a cancellation that leaves the payment as it is."""
    if status in ("paid", "partially_refunded"):
        return "cancel_needs_manual_refund", "Money taken outside a PSP is returned by hand."
    return "cancel_no_payment_action", "Nothing to void or refund."


def check_replay(status: str) -> None:
    """Which stored webhooks an operator may put back in the queue."""
    if status not in REPLAYABLE_WEBHOOKS:
        raise OperationNotAllowed(
            f"The webhook is '{status}'; only failed, ignored, waiting, flagged or unmatched ones are replayed."
        )
