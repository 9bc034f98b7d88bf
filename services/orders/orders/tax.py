"""Value-added tax: date-effective rate tables and the breakdown per rate. Plain Python.

A line's rate follows the date of supply (for an order: the day it was placed, in the shop's
time zone). Rounding: the tax of each rate is computed once, on the sum of that rate's
amounts, and rounded half up to the currency's minor unit (never per line), so the breakdown's
net + tax = gross holds per rate and the invoice shows the figures the law asks for. Prices
are gross (tax included: tax = gross × r / (100 + r)) or net (tax = net × r / 100, added to
the total) by the orders service's setting, kept on each order. Shipping is taxed at the
standard rate of that date.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from oms_common.currencies import exponent

STORED_PLACES = 2
HUNDRED = Decimal(100)

# country → [(valid from, {kind: rate in %})], oldest first; a table holds until the next one
TABLES = {
    "CH": [
        (date(2011, 1, 1), {"standard": Decimal("8.0"), "reduced": Decimal("2.5"), "accommodation": Decimal("3.8")}),
        (date(2018, 1, 1), {"standard": Decimal("7.7"), "reduced": Decimal("2.5"), "accommodation": Decimal("3.7")}),
        (date(2024, 1, 1), {"standard": Decimal("8.1"), "reduced": Decimal("2.6"), "accommodation": Decimal("3.8")}),
    ],
    "DE": [
        (date(2007, 1, 1), {"standard": Decimal("19"), "reduced": Decimal("7")}),
        (date(2020, 7, 1), {"standard": Decimal("16"), "reduced": Decimal("5")}),
        (date(2021, 1, 1), {"standard": Decimal("19"), "reduced": Decimal("7")}),
    ],
}
COUNTRIES = tuple(TABLES)
PRICE_BASES = ("gross", "net")

# an amount or a rate as callers give it: Decimal(value) takes each exactly
Number = Decimal | int | str
# {rate, net, tax, gross} of one rate
TaxRow = dict[str, Decimal]


class TaxedLine(Protocol):
    line_total: Decimal
    tax_rate: Decimal | None


class TaxedOrder(Protocol):
    """What the breakdown reads, and ``apply_to_order`` sets, of an order row."""

    @property
    def lines(self) -> Sequence[TaxedLine]: ...

    shipping_cost: Decimal
    shipping_tax_rate: Decimal | None
    prices_include_tax: bool | None
    tax_country: str | None
    currency: str
    total: Decimal


@dataclass(frozen=True)
class TaxSettings:
    country: str = "CH"
    prices: str = "gross"  # what unit prices and shipping costs are: "gross" (tax included) or "net"
    timezone: str = "Europe/Zurich"

    @property
    def prices_include_tax(self) -> bool:
        return self.prices == "gross"


def tax_settings(settings: Callable[[str], Any]) -> TaxSettings:
    """The orders service's TAX settings, from its settings reader (checked when the service starts)."""
    return TaxSettings(settings("TAX.COUNTRY"), settings("TAX.PRICES"), settings("TAX.TIMEZONE"))


def rates_on(country: str, on_date: date) -> dict[str, Decimal]:
    """{kind: rate} in force in ``country`` on ``on_date``."""
    table = TABLES[country]
    chosen = table[0][1]
    for valid_from, rates in table:
        if on_date >= valid_from:
            chosen = rates
    return chosen


def default_rate(country: str, on_date: date) -> Decimal:
    return rates_on(country, on_date)["standard"]


def rate_errors(
    lines: Iterable[Mapping[str, Any]], country: str, on_date: date, prefix: str = "lines"
) -> dict[str, list[str]]:
    """{field path: [message]} for each given rate that is not 0 or a rate in force that day."""
    allowed = set(rates_on(country, on_date).values()) | {Decimal(0)}
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        rate = line.get("tax_rate")
        if rate is not None and Decimal(rate) not in allowed:
            shown = ", ".join(str(r) for r in sorted(allowed))
            errors[f"{prefix}.{index}.tax_rate"] = [
                f"Not a {country} VAT rate on {on_date.isoformat()}; use one of {shown}."
            ]
    return errors


def _round(amount: Decimal, currency: str) -> Decimal:
    step = Decimal(1).scaleb(-min(exponent(currency), STORED_PLACES))
    return amount.quantize(step, rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def tax_amount(base: Decimal, rate: Number, prices_include_tax: bool, currency: str) -> Decimal:
    """The tax in ``base`` (a gross amount) or on it (a net amount), rounded once."""
    rate = Decimal(rate)
    if prices_include_tax:
        return _round(base * rate / (HUNDRED + rate), currency)
    return _round(base * rate / HUNDRED, currency)


def breakdown(amounts: Iterable[tuple[Number, Number]], prices_include_tax: bool, currency: str) -> list[TaxRow]:
    """[{rate, net, tax, gross}] per rate, highest rate first, from (amount, rate) pairs."""
    groups: dict[Decimal, Decimal] = {}
    for amount, rate in amounts:
        key = Decimal(rate).quantize(Decimal("0.01"))
        groups[key] = groups.get(key, Decimal("0.00")) + Decimal(amount)
    result = []
    for rate in sorted(groups, reverse=True):
        base = groups[rate]
        tax = tax_amount(base, rate, prices_include_tax, currency)
        net, gross = (base - tax, base) if prices_include_tax else (base, base + tax)
        result.append({"rate": rate, "net": net, "tax": tax, "gross": gross})
    return result


def order_breakdown(
    lines: Iterable[tuple[Number, Number | None]],
    shipping_cost: Number | None,
    shipping_rate: Number | None,
    prices_include_tax: bool,
    currency: str,
) -> list[TaxRow]:
    """The breakdown of an order: its lines (line_total, tax_rate) and its shipping cost.
    Empty when a line carries no rate (orders placed before rates were kept)."""
    amounts: list[tuple[Number, Number]] = []
    for line_total, rate in lines:
        if rate is None:
            return []
        amounts.append((line_total, rate))
    if shipping_cost and Decimal(shipping_cost) and shipping_rate is not None:
        amounts.append((shipping_cost, shipping_rate))
    return breakdown(amounts, prices_include_tax, currency)


def added_tax(rows: Iterable[Mapping[str, Decimal]], prices_include_tax: bool) -> Decimal:
    """What the tax adds to the total: nothing for gross prices, the tax for net prices."""
    if prices_include_tax:
        return Decimal("0.00")
    return sum((row["tax"] for row in rows), Decimal("0.00"))


def order_tax_breakdown(order: TaxedOrder) -> list[TaxRow]:
    """The breakdown of an order row (anything with lines, shipping and the VAT columns)."""
    if order.prices_include_tax is None:
        return []
    return order_breakdown(
        [(line.line_total, line.tax_rate) for line in order.lines],
        order.shipping_cost,
        order.shipping_tax_rate,
        order.prices_include_tax,
        order.currency,
    )


def supply_date(moment: datetime, timezone_name: str) -> date:
    """The calendar day of ``moment`` in the shop's time zone (a rate change at midnight counts there)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return moment.astimezone(ZoneInfo(timezone_name)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return moment.date()


def apply_to_order(
    order: TaxedOrder, given_rates: Iterable[Number | None], settings: TaxSettings, on_date: date
) -> None:
    """Puts each line's rate (given, or the day's standard rate), the order's VAT facts and, for
    net prices, the tax into the total. ``given_rates`` are in line order (None: default)."""
    standard = default_rate(settings.country, on_date)
    for line, given in zip(order.lines, given_rates, strict=True):
        line.tax_rate = standard if given is None else Decimal(given)
    order.tax_country = settings.country
    order.prices_include_tax = settings.prices_include_tax
    order.shipping_tax_rate = standard
    order.total = order.total + added_tax(order_tax_breakdown(order), settings.prices_include_tax)
