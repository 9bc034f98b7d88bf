"""Money of an order: cents rounded half up, line and order totals (the places a currency allows
are a rule of the wire: ``oms_contracts.amounts``).

Plain Python on purpose: no framework, no database.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

MONEY_STEP = Decimal("0.01")
# an amount as given: a float too, read through its shortest repr
Amount = Decimal | int | float | str


def _decimal(value: Amount) -> Decimal:
    # via str: Decimal(2.675) is 2.67499999…, which would round the wrong way
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money(value: Amount) -> Decimal:
    return _decimal(value).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)


def line_total(quantity: int, unit_price: Amount) -> Decimal:
    return money(Decimal(quantity) * _decimal(unit_price))


def order_totals(lines: Iterable[tuple[int, Amount]], shipping_cost: Amount) -> tuple[Decimal, Decimal]:
    """(subtotal, total) for lines of (quantity, unit_price)."""
    subtotal = sum((line_total(q, p) for q, p in lines), Decimal("0.00"))
    return money(subtotal), money(subtotal + money(shipping_cost))
