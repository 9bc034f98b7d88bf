"""The payment's rules: statuses, forward-only moves, provider capabilities, refund limits, dunning.

Plain Python on purpose: no framework, no database, no PSP SDK. The application layer loads
rows, asks these functions and stores what they decide.
"""
from decimal import ROUND_HALF_UP, Decimal

from oms_common import payment_references as references
from oms_contracts.values import PSP_OF_METHOD

from . import currencies

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
MANUAL_STATUSES = ("unpaid", "announced", "paid")
STUCK_STATUSES = ("pending",)
CAPTURED_STATUSES = ("paid", "partially_refunded", "partially_paid")
DISPUTABLE_STATUSES = ("paid", "partially_refunded", "partially_paid", "refunded")
DISPUTE_OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
DISPUTE_WON = ("won", "warning_closed", "prevented")
DISPUTE_LOST = ("lost",)

# What each provider can do at all; ``allowed_operations`` narrows it to what the current
# state permits (this is what the detail view offers).
CAPABILITIES = {
    "manual": frozenset({"manual_status", "dunning"}),
    "stripe": frozenset({"refund", "partial_refund", "void", "complete"}),
    "paypal": frozenset({"refund", "partial_refund", "void", "complete"}),
}
# Operations that call the provider: without its settings they cannot run. The settings a
# provider needs, by their environment names (what an operator sets).
PSP_OPERATIONS = frozenset({"refund", "partial_refund", "void"})
PROVIDER_SETTINGS = {
    "manual": (),
    "stripe": ("OMS_STRIPE_API_KEY",),
    "paypal": ("OMS_PAYPAL_API_BASE", "OMS_PAYPAL_CLIENT_ID", "OMS_PAYPAL_CLIENT_SECRET"),
}
PROVIDER_NAMES = {"manual": "manual bookkeeping", "stripe": "Stripe", "paypal": "PayPal"}
# When a PSP payment's money is taken: at checkout (the PSP captures as the buyer pays) or
# when the order ships (authorised at checkout, captured by the ship). An authorisation
# lapses at the PSP: Stripe's after 7 days, PayPal's after 29 (unless the PSP names the time).
CAPTURE_MODES = ("checkout", "on_ship")
AUTHORIZATION_VALID_DAYS = {"stripe": 7, "paypal": 29}
NO_CAPTURE_NEEDED = ("paid", "partially_refunded", "refunded", "partially_paid", "disputed")
DUNNING_LEVELS = (1, 2)
DUNNING_ORDER_STATUS = {1: "dunning_1", 2: "dunning_2"}

# Amounts are kept with three decimals (KWD, BHD, …); see currencies.py for the PSPs' units.
MONEY_STEP = Decimal("0.001")
ZERO = Decimal("0.000")


class DomainError(Exception):
    """A business rule refused the request (a conflict with the current state)."""


class InvalidAmount(DomainError):
    """Well-formed but impossible amount (422)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


class OperationNotAllowed(DomainError):
    pass


def money(value):
    return Decimal(value).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)


def to_minor(amount, currency):
    """Decimal amount → integer minor units as Stripe counts them (CurrencyError if it cannot)."""
    return currencies.to_stripe_minor(amount, currency)


def from_minor(minor, currency):
    return currencies.from_stripe_minor(minor, currency)


def shown(amount, currency):
    """The amount as answers show it: two decimals, three for three-decimal currencies."""
    if amount is None:
        return None
    return Decimal(amount).quantize(Decimal(1).scaleb(-currencies.display_places(currency)),
                                    rounding=ROUND_HALF_UP)


def payment_references(order_reference):
    """The QR and creditor references a bank transfer names the order by (None where the
    order reference gives none, e.g. more than 26 digits)."""
    found = {}
    for column, derive in (("qr_reference", references.qr_reference),
                           ("creditor_reference", references.creditor_reference)):
        try:
            found[column] = derive(order_reference)
        except ValueError:
            found[column] = None
    return found


def provider_for(method):
    return PSP_METHODS.get(method, "manual")


def initial_status(method):
    return "pending" if method in PSP_METHODS else "unpaid"


def can_move(current, target):
    return target in TRANSITIONS.get(current, set())


def is_final(status):
    return not TRANSITIONS.get(status)


def check_manual_status(provider, current, target):
    """Staff bookkeeping (S13): unpaid → announced → paid, for payments not run by a PSP."""
    if provider != "manual":
        raise OperationNotAllowed(
            f"The payment runs through {provider}; its status follows the PSP. "
            "Use complete for a lost callback.")
    if target not in MANUAL_STATUSES:
        raise OperationNotAllowed(f"'{target}' cannot be set by hand.")
    if current == target:
        raise OperationNotAllowed(f"The payment is already '{current}'.")
    if not can_move(current, target):
        raise OperationNotAllowed(f"A payment in status '{current}' cannot move back or on to '{target}'.")


def check_completion(provider, current):
    """A PSP payment whose success callback never came may be completed by hand (S9)."""
    if provider == "manual":
        raise OperationNotAllowed("Only PSP payments are completed by hand; use the payment status instead.")
    if current not in ("pending", "failed", "authorized"):
        raise OperationNotAllowed(f"A payment in status '{current}' cannot be completed.")


def capture_mode(value, field="OMS_PSP_CAPTURE"):
    """A configured capture mode (``checkout`` when empty); anything else is refused at start."""
    mode = str(value or "").strip().lower() or "checkout"
    if mode not in CAPTURE_MODES:
        raise ValueError(f"{field} must be one of {', '.join(CAPTURE_MODES)}, not {value!r}.")
    return mode


def capture_modes(default, overrides):
    """{provider: mode}: ``overrides`` (provider → value or empty) win over ``default``."""
    base = capture_mode(default)
    return {provider: capture_mode(overrides.get(provider), f"OMS_PSP_CAPTURE_{provider.upper()}")
            if overrides.get(provider) else base for provider in ("stripe", "paypal")}


def ship_capture_plan(provider, status):
    """What shipping asks of the payment: 'capture' (an authorisation to collect now) or None
    (nothing to collect: manual payment or money already captured). A PSP payment with
    nothing authorised (pending, failed, voided) cannot be shipped against."""
    if provider == "manual" or status in NO_CAPTURE_NEEDED:
        return None
    if status == "authorized":
        return "capture"
    raise OperationNotAllowed(f"The payment is '{status}': there is no authorisation to capture, "
                              "so the order cannot be shipped.")


def refundable(captured, refunded):
    return money(captured) - money(refunded)


def plan_refund(provider, status, captured, refunded, requested=None):
    """What a refund request does now: ('void', None) before capture, ('refund', amount) after.

    Raises OperationNotAllowed when the state forbids it and InvalidAmount when the amount
    is more than was captured and not yet refunded.
    """
    capabilities = CAPABILITIES[provider]
    if "refund" not in capabilities:
        raise OperationNotAllowed("This payment does not run through a PSP; refund it outside OMS.")
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
        raise InvalidAmount("amount", f"At most {left} can still be refunded (captured {money(captured)}, "
                                      f"refunded {money(refunded)}).")
    if amount != left and "partial_refund" not in capabilities:
        raise InvalidAmount("amount", "This provider only refunds the whole amount.")
    return "refund", amount


def status_after_refunds(captured, refunded, amount=None):
    """The status a captured payment has for what is refunded (or lost in a dispute) now."""
    captured, refunded = money(captured), money(refunded)
    if refunded > ZERO:
        return "refunded" if refunded >= captured else "partially_refunded"
    if amount is not None and captured < money(amount):
        return "partially_paid"
    return "paid"


def capture_status(captured, amount):
    """A PSP capture of less than the order's amount is partial, never paid."""
    return "paid" if money(captured) >= money(amount) else "partially_paid"


def after_dispute(dispute_status, before, captured, refunded, amount):
    """(status, lost): what a dispute in ``dispute_status`` makes of the payment.

    Open → ``disputed``; lost → the amount is booked like a refund (the caller adds it to
    ``refunded`` first); won → back to what the refunds say.
    """
    if dispute_status in DISPUTE_LOST:
        return status_after_refunds(captured, refunded, amount), True
    if dispute_status in DISPUTE_WON:
        return status_after_refunds(captured, refunded, amount), False
    return "disputed", False


def check_dunning(provider, status, order_dunning_level, level):
    if "dunning" not in CAPABILITIES[provider]:
        raise OperationNotAllowed("Dunning applies to invoice and prepayment orders, not to PSP payments.")
    if level not in DUNNING_LEVELS:
        raise InvalidAmount("level", "Dunning level is 1 or 2.")
    if status not in ("unpaid", "announced"):
        raise OperationNotAllowed(f"A payment in status '{status}' needs no dunning.")
    current = order_dunning_level or 0
    if level <= current:
        raise OperationNotAllowed(f"The order is already at dunning level {current}.")
    if level != current + 1:
        raise OperationNotAllowed(f"Dunning level {level} follows level {level - 1}.")


def not_configured_reason(provider, missing):
    """Why a provider's operations cannot run: it lacks these settings."""
    return f"{PROVIDER_NAMES[provider]} is not configured (set {', '.join(missing) or 'its settings'})."


def allowed_operations(provider, status, captured, refunded, dunning_level, provider_configured=True):
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
    if "dunning" in capabilities and status in ("unpaid", "announced") and (dunning_level or 0) < 2:
        allowed.append(f"dunning:{(dunning_level or 0) + 1}")
    return allowed


def cancellation_plan(provider, status):
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


# ---------------------------------------------------------------- PSP events → intents

class PspUpdate:
    """What a provider's event says about a payment, independent of the wire format."""

    def __init__(self, order_reference, psp_reference=None, status=None, captured=None,
                 refunded_total=None, refund_id=None, refund_amount=None, currency=None, detail=None,
                 kind="payment", ids=None, requested=None, refunds=None, dispute=None, invalid=None,
                 capture_state=None, order_status=None, authorization_expires_at=None):
        self.kind = kind                # payment | refund | dispute | approved
        self.ids = {k: v for k, v in (ids or {}).items() if isinstance(v, str) and 0 < len(v) <= 120}
        if psp_reference and "intent" not in self.ids and "order" not in self.ids:
            self.ids.setdefault("psp", psp_reference)
        self.requested = requested      # the amount the PSP object asks for (intent / order), when known
        self.refunds = refunds or []    # [{"id", "amount", "status", "failure_reason"}]
        self.dispute = dispute          # {"id", "amount", "status", "reason", "due_by"}
        self.invalid = invalid          # why an amount or currency cannot be represented
        self.capture_state = capture_state  # PSP's capture state when it is neither paid nor failed
        self.order_status = order_status    # PayPal order status (APPROVED, COMPLETED, …)
        self.authorization_expires_at = authorization_expires_at  # when an authorisation lapses, if known
        self.order_intent = None            # PayPal order intent (CAPTURE / AUTHORIZE)
        self.order_reference = order_reference
        self.psp_reference = psp_reference
        self.status = status            # target status, or None when only refunds change
        self.captured = captured        # Decimal captured so far, when known
        self.refunded_total = refunded_total  # cumulative refunded amount, when the PSP gives it
        self.refund_id = refund_id      # a single refund, when the PSP gives it one by one
        self.refund_amount = refund_amount
        self.currency = currency
        self.detail = detail
        self.amount_due = None          # set by the caller: the payment's amount

    @property
    def amount(self):
        """The amount the event is about, for the staff list."""
        if self.captured is not None:
            return self.captured
        if self.refunds:
            return sum((money(r["amount"]) for r in self.refunds), ZERO)
        if self.dispute:
            return self.dispute.get("amount")
        return self.requested

    def __repr__(self):  # pragma: no cover - debugging aid
        return f"PspUpdate({self.__dict__})"


class Decision:
    def __init__(self, status, captured, refunded, ignored=None):
        self.status = status
        self.captured = captured
        self.refunded = refunded
        self.ignored = ignored


def decide(current_status, captured, refunded, update):
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
        return Decision(current_status, old_captured, old_refunded,
                        ignored=f"nothing new (already {current_status})")
    if target == current_status or can_move(current_status, target) or _implied_path(current_status, target):
        return Decision(target, new_captured, new_refunded)
    return Decision(current_status, old_captured, old_refunded,
                    ignored=f"'{target}' after '{current_status}' would move the payment back")


def _implied_path(current, target):
    """A refund seen before its capture event implies the capture: pending → refunded is a
    forward move through paid."""
    return target in ("partially_refunded", "refunded") and can_move(current, "paid")
