"""Amounts on the wire: no more decimal places than the currency has (or than OMS stores).

A caller's "5.001" CHF is refused with the field named, never silently rounded to 5.00.
"""

from collections.abc import Iterable
from typing import Any, Final

from oms_common.currencies import decimal_places, exponent

STORED_PLACES: Final = 2  # the orders' money columns keep cents


def amount_place_errors(amounts: Iterable[tuple[str, Any]], currency: str) -> dict[str, list[str]]:
    """{field path: [message]} for each amount with more decimal places than ``currency`` has
    (or than OMS stores): "5.001" CHF is refused, never silently rounded to 5.00."""
    allowed = min(exponent(currency), STORED_PLACES)
    errors = {}
    for path, amount in amounts:
        if amount is not None and decimal_places(amount) > allowed:
            errors[path] = [
                f"{currency} amounts have at most {allowed} decimal place{'' if allowed == 1 else 's'}"
                f"{'' if allowed == exponent(currency) else ' in OMS'}; {amount} has more."
            ]
    return errors


def line_amounts(lines: list[dict[str, Any]], prefix: str = "lines") -> list[tuple[str, Any]]:
    return [(f"{prefix}.{index}.unit_price", line.get("unit_price")) for index, line in enumerate(lines)]
