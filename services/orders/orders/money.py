"""Money of an order: cents rounded half up, line and order totals, places a currency allows.

Plain Python on purpose: no framework, no database.
"""
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from oms_common.currencies import decimal_places, exponent

MONEY_STEP = Decimal("0.01")
STORED_PLACES = 2  # the money columns keep cents


def _decimal(value: Any) -> Decimal:
    # via str: Decimal(2.675) is 2.67499999…, which would round the wrong way
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money(value: Any) -> Decimal:
    return _decimal(value).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)


def amount_place_errors(amounts: Iterable[tuple[str, Any]], currency: str) -> dict[str, list[str]]:
    """{field path: [message]} for each amount with more decimal places than ``currency`` has
    (or than OMS stores): "5.001" CHF is refused, never silently rounded to 5.00."""
    allowed = min(exponent(currency), STORED_PLACES)
    errors = {}
    for path, amount in amounts:
        if amount is not None and decimal_places(amount) > allowed:
            errors[path] = [f"{currency} amounts have at most {allowed} decimal place{'' if allowed == 1 else 's'}"
                            f"{'' if allowed == exponent(currency) else ' in OMS'}; {amount} has more."]
    return errors


def line_amounts(lines: list[dict[str, Any]], prefix: str = "lines") -> list[tuple[str, Any]]:
    return [(f"{prefix}.{index}.unit_price", line.get("unit_price")) for index, line in enumerate(lines)]


def line_total(quantity: int, unit_price: Any) -> Decimal:
    return money(Decimal(quantity) * _decimal(unit_price))


def order_totals(lines: Iterable[tuple[int, Any]], shipping_cost: Any) -> tuple[Decimal, Decimal]:
    """(subtotal, total) for lines of (quantity, unit_price)."""
    subtotal = sum((line_total(q, p) for q, p in lines), Decimal("0.00"))
    return money(subtotal), money(subtotal + money(shipping_cost))
