"""Value-added tax: date-effective rate tables and the breakdown per rate. Plain Python.

A line's rate follows the date of supply (for an order: the day it was placed, in the shop's
time zone). Rounding: the tax of each rate is computed once, on the sum of that rate's
amounts, and rounded half up to the currency's minor unit (never per line), so the breakdown's
net + tax = gross holds per rate and the invoice shows the figures the law asks for. Prices
are gross (tax included: tax = gross × r / (100 + r)) or net (tax = net × r / 100, added to
the total) by the orders service's setting, kept on each order. Shipping is taxed at the
standard rate of that date.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

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


@dataclass(frozen=True)
class TaxSettings:
    country: str = "CH"
    prices: str = "gross"  # what unit prices and shipping costs are: "gross" (tax included) or "net"
    timezone: str = "Europe/Zurich"

    @property
    def prices_include_tax(self):
        return self.prices == "gross"


def tax_settings(config):
    """The orders service's TAX settings; a wrong value is named in the error every order creation gets."""
    section = (config or {}).get("TAX") or {}
    country = str(section.get("COUNTRY") or "CH").strip().upper()
    prices = str(section.get("PRICES") or "gross").strip().lower()
    if country not in TABLES:
        raise ValueError(f"OMS_TAX_COUNTRY must be one of {', '.join(COUNTRIES)}, not {country!r}.")
    if prices not in PRICE_BASES:
        raise ValueError(f"OMS_TAX_PRICES must be gross or net, not {prices!r}.")
    return TaxSettings(country, prices, str(section.get("TIMEZONE") or "Europe/Zurich"))


def rates_on(country, on_date):
    """{kind: rate} in force in ``country`` on ``on_date``."""
    table = TABLES[country]
    chosen = table[0][1]
    for valid_from, rates in table:
        if on_date >= valid_from:
            chosen = rates
    return chosen


def default_rate(country, on_date):
    return rates_on(country, on_date)["standard"]


def rate_errors(lines, country, on_date, prefix="lines"):
    """{field path: [message]} for each given rate that is not 0 or a rate in force that day."""
    allowed = set(rates_on(country, on_date).values()) | {Decimal(0)}
    errors = {}
    for index, line in enumerate(lines):
        rate = line.get("tax_rate")
        if rate is not None and Decimal(rate) not in allowed:
            shown = ", ".join(str(r) for r in sorted(allowed))
            errors[f"{prefix}.{index}.tax_rate"] = [
                f"Not a {country} VAT rate on {on_date.isoformat()}; use one of {shown}."
            ]
    return errors


def _round(amount, currency):
    step = Decimal(1).scaleb(-min(exponent(currency), STORED_PLACES))
    return amount.quantize(step, rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def tax_amount(base, rate, prices_include_tax, currency):
    """The tax in ``base`` (a gross amount) or on it (a net amount), rounded once."""
    rate = Decimal(rate)
    if prices_include_tax:
        return _round(base * rate / (HUNDRED + rate), currency)
    return _round(base * rate / HUNDRED, currency)


def breakdown(amounts, prices_include_tax, currency):
    """[{rate, net, tax, gross}] per rate, highest rate first, from (amount, rate) pairs."""
    groups = {}
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


def order_breakdown(lines, shipping_cost, shipping_rate, prices_include_tax, currency):
    """The breakdown of an order: its lines (line_total, tax_rate) and its shipping cost.
    Empty when a line carries no rate (orders placed before rates were kept)."""
    amounts = [(line_total, rate) for line_total, rate in lines]
    if any(rate is None for _, rate in amounts):
        return []
    if shipping_cost and Decimal(shipping_cost) and shipping_rate is not None:
        amounts.append((shipping_cost, shipping_rate))
    return breakdown(amounts, prices_include_tax, currency)


def added_tax(rows, prices_include_tax):
    """What the tax adds to the total: nothing for gross prices, the tax for net prices."""
    if prices_include_tax:
        return Decimal("0.00")
    return sum((row["tax"] for row in rows), Decimal("0.00"))


def order_tax_breakdown(order):
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


def supply_date(moment, timezone_name):
    """The calendar day of ``moment`` in the shop's time zone (a rate change at midnight counts there)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return moment.astimezone(ZoneInfo(timezone_name)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return moment.date()


def apply_to_order(order, given_rates, settings, on_date):
    """Puts each line's rate (given, or the day's standard rate), the order's VAT facts and, for
    net prices, the tax into the total. ``given_rates`` are in line order (None: default)."""
    standard = default_rate(settings.country, on_date)
    for line, given in zip(order.lines, given_rates, strict=True):
        line.tax_rate = standard if given is None else Decimal(given)
    order.tax_country = settings.country
    order.prices_include_tax = settings.prices_include_tax
    order.shipping_tax_rate = standard
    order.total = order.total + added_tax(order_tax_breakdown(order), settings.prices_include_tax)
