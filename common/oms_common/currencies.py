"""Currencies: how many decimal places (ISO 4217 minor-unit exponent) each one has.

One table for every service: order input is checked against it, and PSP adapters that speak
integer minor units convert with it. Plain Python, no framework.
"""

from decimal import Decimal, InvalidOperation
from typing import cast

# what callers hand in as an amount: stored Decimals, JSON numbers or their text
Amount = Decimal | int | float | str

DEFAULT_EXPONENT = 2
# ISO 4217 currencies whose minor unit is not 1/100 (all others have 2 decimals).
EXPONENTS = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # thousandths
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # ten-thousandths (units of account)
    "CLF": 4,
    "UYW": 4,
}


def exponent(currency: str) -> int:
    """Decimal places of ``currency`` (2 for any code not listed as different)."""
    return EXPONENTS.get(str(currency).upper(), DEFAULT_EXPONENT)


def decimal_places(amount: Amount) -> int:
    """Places an amount really uses: "5.10" uses 1, "5.00" and "500" use 0."""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        if not value.is_finite():
            return 0
        # a finite value's exponent is an int (only NaN and infinity have letters)
        return max(0, -cast(int, value.normalize().as_tuple().exponent))
    except (InvalidOperation, ValueError):
        return 0


def to_minor_units(amount: Amount, currency: str) -> int:
    """An amount as an integer count of the currency's minor unit (exact: refuses extra places)."""
    places = exponent(currency)
    if decimal_places(amount) > places:
        raise ValueError(f"{amount} has more decimal places than {currency} ({places}).")
    return int(Decimal(str(amount)).scaleb(places))


def from_minor_units(minor: int | str, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-exponent(currency))
