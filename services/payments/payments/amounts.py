"""Money arithmetic of a payment: stored amounts, PSP minor units, what answers show, what is left.

Plain Python on purpose, like ``domain``: no framework, no database, no PSP SDK.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from . import currencies

# Amounts are kept with three decimals (KWD, BHD, …); see currencies.py for the PSPs' units.
MONEY_STEP = Decimal("0.001")
ZERO = Decimal("0.000")

# an amount as stored, reported or typed in: Decimal(value) takes each exactly
Amount = Decimal | int | str


class RefundRow(Protocol):
    kind: str  # refund | void | dispute
    status: str
    amount: Decimal


def money(value: Amount) -> Decimal:
    return Decimal(value).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal amount → integer minor units as Stripe counts them (CurrencyError if it cannot)."""
    return currencies.to_stripe_minor(amount, currency)


def from_minor(minor: int, currency: str) -> Decimal:
    return currencies.from_stripe_minor(minor, currency)


def shown(amount: Amount | None, currency: str) -> Decimal | None:
    """The amount as answers show it: two decimals, three for three-decimal currencies."""
    if amount is None:
        return None
    return Decimal(amount).quantize(Decimal(1).scaleb(-currencies.display_places(currency)), rounding=ROUND_HALF_UP)


def refundable(captured: Amount, refunded: Amount) -> Decimal:
    return money(captured) - money(refunded)


def owed(amount: Amount, fees: Amount = 0) -> Decimal:
    """What the customer owes in all: the order's amount and the dunning fees added to it."""
    return money(amount) + money(fees)


def open_amount(amount: Amount, received: Amount, fees: Amount = 0) -> Decimal:
    """What is still to pay: the amount, less what came in, plus the dunning fees (never below 0)."""
    return max(owed(amount, fees) - money(received), ZERO)


def pending_refunds(refunds: Iterable[RefundRow]) -> Decimal:
    """What refunds still pending at the PSP hold back from what can be refunded."""
    return sum((money(r.amount) for r in refunds if r.kind == "refund" and r.status == "pending"), ZERO)


def counted_refunds(refunds: Iterable[RefundRow]) -> Decimal:
    """What has gone back for good: succeeded refunds and lost disputes."""
    return sum((money(r.amount) for r in refunds if r.kind in ("refund", "dispute") and r.status == "succeeded"), ZERO)
