"""Amounts as each PSP writes them, per currency (plain Python, no framework).

This table is about PSP *minor units*, not about which amounts an order may have: Stripe's
rules differ from ISO 4217 on purpose (for backwards compatibility), so the payments service
keeps its own table and never guesses from the ISO exponent.

Stripe (https://docs.stripe.com/currencies, "Zero-decimal", "Three-decimal", "Special cases"):
* zero-decimal: the API amount is the amount (¥500 → 500). UGX is among them.
* three-decimal (BHD, JOD, KWD, OMR, TND): amount × 1000, and what OMS sends must end in 0
  (Stripe's partners only settle whole hundredths).
* ISK stays two-decimal in the API although ISO says 0: an amount of 100 is 1 króna, and
  charges and refunds must be whole krónur (divisible by 100).
* HUF (and TWD) stay two-decimal for charges (Stripe treats them as zero-decimal for
  payouts only), so 100 is 1 forint.
* every other currency is two-decimal.

PayPal writes amounts as decimal strings; HUF, JPY and TWD take no decimals there, every other
currency PayPal supports takes two.

OMS stores amounts with three decimals; an amount with more, or beyond the column, is
refused (``CurrencyError``), never rounded into something else.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import cast

STRIPE_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
STRIPE_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
STRIPE_WHOLE_UNITS_ONLY = frozenset({"ISK"})  # two-decimal in the API, multiples of 100
PAYPAL_NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})

STORED_PLACES = 3  # payments' amount columns: Numeric(15, 3)
MAX_AMOUNT = Decimal("999999999999.999")
_CODE = re.compile(r"^[A-Z]{3}$")


class CurrencyError(ValueError):
    """An amount or currency OMS cannot represent exactly."""


def code(currency: str | None) -> str:
    value = str(currency or "").upper()
    if not _CODE.match(value):
        raise CurrencyError(f"'{currency}' is not a currency code.")
    return value


def stripe_exponent(currency: str) -> int:
    currency = code(currency)
    if currency in STRIPE_ZERO_DECIMAL:
        return 0
    if currency in STRIPE_THREE_DECIMAL:
        return 3
    return 2


def display_places(currency: str) -> int:
    """Decimals shown for an amount: two as everywhere in OMS, three where the currency has them."""
    try:
        return 3 if code(currency) in STRIPE_THREE_DECIMAL else 2
    except CurrencyError:
        return 2


def exact(amount: object) -> Decimal:
    """``amount`` as a Decimal OMS can store without change, or CurrencyError."""
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except (InvalidOperation, ValueError):
        raise CurrencyError(f"'{amount}' is not an amount.") from None
    if not value.is_finite():
        raise CurrencyError(f"'{amount}' is not an amount.")
    if _exponent(value) < -STORED_PLACES and value != value.quantize(Decimal(1).scaleb(-STORED_PLACES)):
        raise CurrencyError(f"{amount} has more than {STORED_PLACES} decimals.")
    if abs(value) > MAX_AMOUNT:
        raise CurrencyError(f"{amount} is larger than OMS can store.")
    return value.quantize(Decimal(1).scaleb(-STORED_PLACES))


def _exponent(value: Decimal) -> int:
    # of a finite value only: NaN's and Infinity's exponent is a letter
    return cast(int, value.as_tuple().exponent)


def from_stripe_minor(minor: object, currency: str) -> Decimal:
    """Stripe's integer amount → Decimal. A non-integer is a malformed event (ValueError)."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise ValueError(f"Stripe amount {minor!r} is not an integer.")
    if minor < 0:
        raise CurrencyError(f"Stripe amount {minor} is negative.")
    return exact(Decimal(minor).scaleb(-stripe_exponent(currency)))


def to_stripe_minor(amount: object, currency: str) -> int:
    """Decimal → the integer Stripe expects, or CurrencyError when Stripe cannot take it."""
    currency = code(currency)
    exponent = stripe_exponent(currency)
    value = exact(amount)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise CurrencyError(f"{value.normalize()} {currency} has more decimals than Stripe takes ({exponent}).")
    minor = int(scaled)
    if currency in STRIPE_WHOLE_UNITS_ONLY and minor % 100:
        raise CurrencyError(f"Stripe takes {currency} in whole units only.")
    if currency in STRIPE_THREE_DECIMAL and minor % 10:
        raise CurrencyError(f"Stripe takes {currency} amounts whose last (third) decimal is 0.")
    return minor


def from_paypal_value(value: object, currency: str) -> Decimal:
    """PayPal's decimal string → Decimal, or CurrencyError when it has more decimals than allowed."""
    currency = code(currency)
    if not isinstance(value, str) or not re.fullmatch(r"-?\d{1,15}(\.\d{1,3})?", value):
        raise CurrencyError(f"PayPal amount {value!r} is not a decimal amount OMS can store.")
    amount = Decimal(value)
    places = -_exponent(amount) if "." in value else 0
    allowed = 0 if currency in PAYPAL_NO_DECIMALS else 2
    if places > allowed and amount != amount.quantize(Decimal(1).scaleb(-allowed)):
        raise CurrencyError(f"PayPal amount {value} {currency} has more decimals than the currency takes.")
    if amount < 0:
        raise CurrencyError(f"PayPal amount {value} is negative.")
    return exact(amount)


def to_paypal_value(amount: object, currency: str) -> str:
    currency = code(currency)
    allowed = 0 if currency in PAYPAL_NO_DECIMALS else 2
    value = exact(amount)
    quantized = value.quantize(Decimal(1).scaleb(-allowed))
    if quantized != value:
        raise CurrencyError(f"PayPal takes {currency} with {allowed} decimals.")
    return str(quantized)
