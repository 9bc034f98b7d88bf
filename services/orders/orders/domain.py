"""The order's rules: statuses, legal transitions, open-order sessions, payment copy.

Plain Python on purpose: no framework, no database. The application layer loads rows,
asks these functions, and stores what they decide. Money is in ``money``, numbering in
``numbering_rules``.
"""
from datetime import timedelta

from oms_contracts.values import ORDER_STATUSES, PSP_OF_METHOD

# Order of payment statuses when staff sort by it: what needs attention first. The rank is
# stored with each order, so statuses added later take the next numbers (no renumbering).
PAYMENT_STATUS_RANK = {status: rank for rank, status in enumerate(
    ("failed", "unpaid", "pending", "announced", "authorized", "paid", "partially_refunded", "refunded", "voided",
     "partially_paid", "disputed"))}

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


class DomainError(Exception):
    """A business rule refused the request."""


class IllegalTransition(DomainError):
    def __init__(self, current, target):
        super().__init__(f"An order in status '{current}' cannot move to '{target}'.")
        self.current = current
        self.target = target


class SessionMismatch(DomainError):
    pass


class NotOpen(IllegalTransition):
    """A session operation on an order that is no longer an open cart."""

    def __init__(self, status, action):  # noqa: D107 - a message of its own, not "cannot move to 'open'"
        if status == "cancelled":
            message = f"The order is cancelled; it cannot be {action}."
        else:
            message = f"The order is already submitted (status '{status}'); it cannot be {action} again." \
                if action == "submitted" else \
                f"The order is already submitted (status '{status}'); only an open order can be {action}."
        DomainError.__init__(self, message)
        self.current, self.target = status, "open"


def status_after_submit(payment_method):
    return "payment_pending" if payment_method in PSP_METHODS else "new"


def initial_payment_status(payment_method):
    return "pending" if payment_method in PSP_METHODS else "unpaid"


def check_transition(current, target, through=None):
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


def is_final(status):
    return not TRANSITIONS.get(status)


# ---------------------------------------------------------------- open orders (S14)

def check_session_may_edit(status, attached_session, paused, session_id, action="changed"):
    """Only the session an open order is attached to may change or submit it."""
    if status != "open":
        raise NotOpen(status, action)
    if paused or attached_session is None:
        raise SessionMismatch("The order is paused; assign it to a session first.")
    if attached_session != session_id:
        raise SessionMismatch("The order is attached to another session.")


# An open order (a cart) lives as long as its session. Once nothing has touched it for the
# configured time its session is gone, and the system cancels it: cancelled, not deleted, so
# the reference numbers issued stay gapless and the audit trail keeps what happened. A paused
# order belongs to no session (support holds it, S14) and is kept however old it is.
OPEN_ORDER_EXPIRY_REASON = "Open order expired: its session ended without checkout."


def open_order_expiry_cutoff(now, ttl_seconds):
    """Open orders last touched at or before this moment have expired; None when cleanup is off (ttl 0)."""
    if not ttl_seconds or ttl_seconds <= 0:
        return None
    return now - timedelta(seconds=ttl_seconds)


def open_order_expired(status, paused, last_touched, now, ttl_seconds):
    """True for an open, not paused order untouched for ``ttl_seconds`` (which cleanup then cancels)."""
    cutoff = open_order_expiry_cutoff(now, ttl_seconds)
    if cutoff is None or status != "open" or paused:
        return False
    return last_touched <= cutoff


# ---------------------------------------------------------------- payment read copy (S13)

def payment_update_applies(current_sequence, incoming_sequence):
    """Payment events may arrive out of order; only a newer one replaces the copy."""
    return current_sequence is None or incoming_sequence > current_sequence


# Payment statuses by which the money is taken already: shipping such an order needs no capture.
CAPTURED_PAYMENT_STATUSES = frozenset({"paid", "partially_refunded", "refunded", "partially_paid", "disputed"})


def ship_needs_payment_check(payment_method, payment_status):
    """A PSP order whose copy of the payment status shows no captured money asks payments to
    capture before it ships (capture on shipment). The copy may lag but never runs ahead: a
    captured status is never followed by an uncaptured one, so trusting it skips no capture."""
    return payment_method in PSP_METHODS and payment_status not in CAPTURED_PAYMENT_STATUSES


def status_after_payment(order_status, payment_status):
    """A PSP order waiting for its money moves on once the PSP confirms it."""
    if order_status == "payment_pending" and payment_status in ("authorized", "paid"):
        return "new"
    return None
