"""The dunning rules: which level an open invoice or prepayment payment reaches, when, and at
what fee.

Plain Python like ``domain`` (whose statuses, capabilities and refusals they use): the
dunning use cases load rows, ask these functions and store what they decide.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .amounts import ZERO, Amount, money
from .domain import CAPABILITIES, DUNNING_LEVELS, DUNNING_STATUSES, InvalidAmount, OperationNotAllowed

DUNNING_ORDER_STATUS = {1: "dunning_1", 2: "dunning_2"}
# what reaching a level adds to the amount owed (OMS_DUNNING_FEE_1, OMS_DUNNING_FEE_2), in the
# payment's currency: the first reminder is a friendly one, the second costs the customer
DEFAULT_DUNNING_FEES = {1: Decimal("0.00"), 2: Decimal("5.00")}
MAX_DUNNING_FEE = Decimal(10**6)


def dunning_fee_setting(name: str, value: object, default: Decimal) -> Decimal:
    """A configured dunning fee: a decimal from 0 up, at most three places ("5.00"); empty is the
    default. Anything else stops the service at start with the setting named."""
    if value is None or str(value).strip() == "":
        return money(default)
    try:
        fee = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{name} must be an amount such as 5.00, not {value!r}.") from None
    exponent = fee.as_tuple().exponent
    if not fee.is_finite() or fee < 0 or fee > MAX_DUNNING_FEE or (isinstance(exponent, int) and exponent < -3):
        raise ValueError(f"{name} must be an amount from 0 with at most three decimals, not {value!r}.")
    return money(fee)


def dunning_fee(provider: str, status: str, level: int, fees: Mapping[int, Amount]) -> Decimal:
    """What reaching ``level`` adds to what the customer owes: the level's fee for an invoice or
    prepayment payment still open, nothing for a PSP payment (its money is not dunned)."""
    if "dunning" not in CAPABILITIES[provider] or status not in DUNNING_STATUSES:
        return ZERO
    return money(fees.get(level, 0))


def dunning_due(
    level: int,
    due_date: date | None,
    level_reached_at: datetime | None,
    today: date,
    after_due_days: int,
    after_level_1_days: int,
) -> int | None:
    """The level an unpaid invoice is dunned to automatically today, or None: level 1 when the
    invoice is ``after_due_days`` past its due date, level 2 ``after_level_1_days`` after level 1."""
    if level <= 0:
        if due_date is not None and today >= due_date + timedelta(days=after_due_days):
            return 1
        return None
    if level == 1 and level_reached_at is not None:
        if today >= level_reached_at.date() + timedelta(days=after_level_1_days):
            return 2
    return None


def check_dunning(provider: str, status: str, order_dunning_level: int | None, level: int) -> None:
    if "dunning" not in CAPABILITIES[provider]:
        raise OperationNotAllowed("Dunning applies to invoice and prepayment orders, not to PSP payments.", "level")
    if level not in DUNNING_LEVELS:
        raise InvalidAmount("level", "Dunning level is 1 or 2.")
    if status not in DUNNING_STATUSES:
        raise OperationNotAllowed(f"A payment in status '{status}' needs no dunning.", "level")
    current = order_dunning_level or 0
    if level <= current:
        raise OperationNotAllowed(f"The order is already at dunning level {current}.", "level")
    if level != current + 1:
        raise OperationNotAllowed(f"Dunning level {level} follows level {level - 1}.", "level")


def dunning_level_reached(order_status: str | None, current: int | None) -> int | None:
    """The dunning level an order status set in orders brings the payment to; None unless higher."""
    level = {status: level for level, status in DUNNING_ORDER_STATUS.items()}.get(order_status or "")
    return level if level and level > (current or 0) else None
