"""The order's rules: statuses, legal transitions, open-order sessions, customers, payment copy.

Plain Python on purpose: no framework, no database. The application layer loads rows, asks
these functions (which raise a ``DomainError`` for every refusal and make the changes they
allow), and stores the result. Money is in ``money``, numbering in ``numbering_rules``.
"""

from datetime import datetime, timedelta
from typing import Protocol

from oms_contracts.values import ORDER_STATUSES, PSP_OF_METHOD

# Order of payment statuses when staff sort by it: what needs attention first. The rank is
# stored with each order, so statuses added later take the next numbers (no renumbering).
PAYMENT_STATUS_RANK = {
    status: rank
    for rank, status in enumerate(
        (
            "failed",
            "unpaid",
            "pending",
            "announced",
            "authorized",
            "paid",
            "partially_refunded",
            "refunded",
            "voided",
            "partially_paid",
            "disputed",
        )
    )
}

PSP_METHODS = frozenset(PSP_OF_METHOD)
SUBMITTED_STATUSES = frozenset(ORDER_STATUSES) - {"open"}

# Legal moves. ``open`` is left through submit only; ``payment_pending`` through the PSP
# (or manual completion, S9) or cancellation. Dunning applies to delivered or invoiced
# orders that are not yet paid; completed and cancelled are final.
TRANSITIONS = {
    "open": {"new", "payment_pending", "cancelled"},
    "payment_pending": {"new", "cancelled"},
    "new": {"in_progress", "shipped", "completed", "cancelled", "dunning_1"},
    "in_progress": {"new", "shipped", "completed", "cancelled", "dunning_1"},
    "shipped": {"completed", "dunning_1"},
    "dunning_1": {"dunning_2", "in_progress", "shipped", "completed", "cancelled"},
    "dunning_2": {"in_progress", "shipped", "completed", "cancelled"},
    "completed": set(),
    "cancelled": set(),
}
# Targets reached only through their own operation, never through a plain status change.
RESERVED_TARGETS = {"open": "create", "payment_pending": "submit"}
# Moves out of open/payment_pending that only these operations may make: a plain status
# change must not check out a cart or mark a PSP order as paid.
RESERVED_MOVES = {
    ("open", "new"): {"submit"},
    ("open", "payment_pending"): {"submit"},
    ("payment_pending", "new"): {"payment", "complete"},
}


class Stated(Protocol):
    status: str


class Cart(Protocol):
    """What the session rules read and change of an order."""

    status: str
    paused: bool
    session_id: str | None


class PaymentCopy(Protocol):
    payment_status: str
    payment_status_rank: int
    payment_status_sequence: int | None


class DomainError(Exception):
    """A business rule refused the request; ``field`` names the input it is about, if one is."""

    def __init__(self, message: str, field: str | None = None, field_message: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.field_message = field_message or message

    @property
    def errors(self) -> dict[str, list[str]]:
        return {self.field: [self.field_message]} if self.field else {}


class IllegalTransition(DomainError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"An order in status '{current}' cannot move to '{target}'.")
        self.current = current
        self.target = target


class SessionMismatch(DomainError):
    pass


class NotOpen(IllegalTransition):
    """A session operation on an order that is no longer an open cart."""

    def __init__(self, status: str, action: str) -> None:  # noqa: D107 - not "cannot move to 'open'"
        if status == "cancelled":
            message = f"The order is cancelled; it cannot be {action}."
        else:
            message = (
                f"The order is already submitted (status '{status}'); it cannot be {action} again."
                if action == "submitted"
                else f"The order is already submitted (status '{status}'); only an open order can be {action}."
            )
        DomainError.__init__(self, message)
        self.current, self.target = status, "open"


class HoldRefused(DomainError):
    """Pausing or assigning an open order that is not in the state for it."""


class CustomerRefused(DomainError):
    """Giving an order to a customer, or merging customers, against the rules."""


def status_after_submit(payment_method: str) -> str:
    return "payment_pending" if payment_method in PSP_METHODS else "new"


def initial_payment_status(payment_method: str) -> str:
    return "pending" if payment_method in PSP_METHODS else "unpaid"


def check_transition(current: str, target: str, through: str | None = None) -> None:
    """Raises IllegalTransition unless ``current`` → ``target`` is allowed.

    ``through`` names the operation asking; reserved targets need their own operation.
    """
    if target not in ORDER_STATUSES or target not in TRANSITIONS.get(current, set()):
        raise IllegalTransition(current, target)
    required = RESERVED_TARGETS.get(target)
    if required and through != required:
        raise IllegalTransition(current, target)
    allowed_through = RESERVED_MOVES.get((current, target))
    if allowed_through and through not in allowed_through:
        raise IllegalTransition(current, target)


def move(order: Stated, target: str, through: str = "status") -> str:
    """Moves ``order`` to ``target`` if the operation ``through`` may; returns the status it left."""
    check_transition(order.status, target, through=through)
    previous, order.status = order.status, target
    return previous


def status_change_targets(current: str) -> list[str]:
    """The statuses a plain status change may move an order in ``current`` to, in a stable order."""
    targets = []
    for target in sorted(TRANSITIONS.get(current, ())):
        try:
            check_transition(current, target, through="status")
        except IllegalTransition:
            continue
        targets.append(target)
    return targets


def is_final(status: str) -> bool:
    return not TRANSITIONS.get(status)


# ---------------------------------------------------------------- open orders (S14)


def check_session_may_edit(
    status: str, attached_session: str | None, paused: bool, session_id: str, action: str = "changed"
) -> None:
    """Only the session an open order is attached to may change or submit it."""
    if status != "open":
        raise NotOpen(status, action)
    if paused or attached_session is None:
        raise SessionMismatch("The order is paused; assign it to a session first.")
    if attached_session != session_id:
        raise SessionMismatch("The order is attached to another session.")


def pause(order: Cart) -> str | None:
    """Support takes an open order off its session and holds it; returns the session it had."""
    if order.status != "open":
        raise HoldRefused(f"Only open orders can be paused; this one is '{order.status}'.")
    if order.paused:
        raise HoldRefused("The order is already paused.")
    previous, order.session_id, order.paused = order.session_id, None, True
    return previous


def assign(order: Cart, session_id: str) -> None:
    """A paused open order goes to the session that carries on with it."""
    if order.status != "open":
        raise HoldRefused(f"Only open orders can be assigned; this one is '{order.status}'.")
    if not order.paused:
        raise HoldRefused("Pause the order before assigning it to another session.")
    order.paused, order.session_id = False, session_id


# An open order (a cart) lives as long as its session. Once nothing has touched it for the
# configured time its session is gone, and the system cancels it: cancelled, not deleted, so
# the reference numbers issued stay gapless and the audit trail keeps what happened. A paused
# order belongs to no session (support holds it, S14) and is kept however old it is.
OPEN_ORDER_EXPIRY_REASON = "Open order expired: its session ended without checkout."


def open_order_expiry_cutoff(now: datetime, ttl_seconds: float | None) -> datetime | None:
    """Open orders last touched at or before this moment have expired; None when cleanup is off (ttl 0)."""
    if not ttl_seconds or ttl_seconds <= 0:
        return None
    return now - timedelta(seconds=ttl_seconds)


def open_order_expired(
    status: str, paused: bool, last_touched: datetime, now: datetime, ttl_seconds: float | None
) -> bool:
    """True for an open, not paused order untouched for ``ttl_seconds`` (which cleanup then cancels)."""
    cutoff = open_order_expiry_cutoff(now, ttl_seconds)
    if cutoff is None or status != "open" or paused:
        return False
    return last_touched <= cutoff


# ---------------------------------------------------------------- customers (S15)


def check_reassign(current_customer_id: int, new_customer_id: int) -> None:
    if new_customer_id == current_customer_id:
        raise CustomerRefused(
            "The order already belongs to this customer.", "customer_id", "Already the order's customer."
        )


def check_merge(duplicate_id: int, into_id: int) -> None:
    if duplicate_id == into_id:
        raise CustomerRefused("A customer cannot be merged into itself.", "into", "Same as the customer merged.")


def check_mergeable(duplicate_id: int, merged_into_id: int | None) -> None:
    """A customer is merged away once: after that it is retired."""
    if merged_into_id is not None:
        raise CustomerRefused(f"Customer {duplicate_id} was already merged into {merged_into_id}.")


def check_takes_orders(customer_id: int, merged_into_id: int | None) -> None:
    """A retired (merged) customer takes no orders: they go to the one it was merged into."""
    if merged_into_id is not None:
        raise CustomerRefused(
            f"Customer {customer_id} is retired (merged into {merged_into_id}); merge into that one.",
            "into",
            "A retired customer takes no orders.",
        )


# ---------------------------------------------------------------- payment read copy (S13)


def payment_update_applies(current_sequence: int | None, incoming_sequence: int) -> bool:
    """Payment events may arrive out of order; only a newer one replaces the copy."""
    return current_sequence is None or incoming_sequence > current_sequence


def take_payment_status(order: PaymentCopy, status: str, sequence: int) -> str:
    """The order's copy of its payment status becomes ``status``; returns the one before."""
    previous = order.payment_status
    order.payment_status, order.payment_status_rank = status, PAYMENT_STATUS_RANK[status]
    order.payment_status_sequence = sequence
    return previous


# Payment statuses by which the money is taken already: shipping such an order needs no capture.
CAPTURED_PAYMENT_STATUSES = frozenset({"paid", "partially_refunded", "refunded", "partially_paid", "disputed"})


def ship_needs_payment_check(payment_method: str, payment_status: str) -> bool:
    """A PSP order whose copy of the payment status shows no captured money asks payments to
    capture before it ships (capture on shipment). The copy may lag but never runs ahead: a
    captured status is never followed by an uncaptured one, so trusting it skips no capture."""
    return payment_method in PSP_METHODS and payment_status not in CAPTURED_PAYMENT_STATUSES


def status_after_payment(order_status: str, payment_status: str) -> str | None:
    """A PSP order waiting for its money moves on once the PSP confirms it."""
    if order_status == "payment_pending" and payment_status in ("authorized", "paid"):
        return "new"
    return None
