"""VAT in the export copy and in version 2 of the export format. Plain Python: no nameko, no SQLAlchemy.

The copy keeps the VAT facts as the order events carry them (read with the contract's
``OrderTaxEventSchema``): whether prices include the tax, the country, each line's rate and the
breakdown per rate, as text in columns of their own (``copy_values``). ``None`` in a column
means the copy has no word of it: the order was placed before the orders service kept rates, or
its row was copied before these columns existed and its document had none. Version 2 reads the
order document with those columns laid over it (``with_copy``).

Amounts in version 2 have as many decimals as their currency (ISO 4217: CHF 2, JPY 0, KWD 3);
an amount is never rounded to get there (one with more places than its currency keeps them).
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from oms_common.currencies import exponent

CENT = Decimal("0.01")
COLUMNS = ("prices_include_tax", "tax_country", "line_tax_rates", "tax_breakdown")


def rate_text(rate: Decimal | str) -> str:
    """A rate in % with two decimals, as the orders service writes it ("8.10")."""
    return str(Decimal(rate).quantize(CENT))


def copy_values(facts: Mapping[str, Any]) -> dict[str, Any]:
    """The copy's VAT columns from the facts an order event carries (loaded by ``OrderTaxEventSchema``)."""
    rates = [line.get("tax_rate") for line in facts.get("lines") or ()]
    breakdown = facts.get("tax_breakdown")
    return {
        "prices_include_tax": facts.get("prices_include_tax"),
        "tax_country": facts.get("tax_country"),
        "line_tax_rates": [None if rate is None else rate_text(rate) for rate in rates]
        if any(rate is not None for rate in rates)
        else None,
        "tax_breakdown": None
        if breakdown is None
        else [
            {"rate": rate_text(row["rate"]), "net": str(row["net"]), "tax": str(row["tax"]), "gross": str(row["gross"])}
            for row in breakdown
        ],
    }


def with_copy(document: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The order document with the copy's VAT columns laid over it (what version 2 writes): a column
    without a value leaves no rate, basis, country or breakdown, whatever the document says."""
    rates: Sequence[str | None] = values.get("line_tax_rates") or ()
    lines = [
        {**line, "tax_rate": rates[index] if index < len(rates) else None}
        for index, line in enumerate(document.get("lines") or ())
    ]
    return {
        **document,
        "lines": lines,
        "prices_include_tax": values.get("prices_include_tax"),
        "tax_country": values.get("tax_country"),
        "tax_breakdown": values.get("tax_breakdown"),
    }


def has_tax_data(order: Mapping[str, Any]) -> bool:
    return (
        order.get("prices_include_tax") is not None
        or order.get("tax_country") is not None
        or order.get("tax_breakdown") is not None
    )


def amount_text(value: object, currency: object) -> str:
    """``value`` with the decimals of ``currency`` ("8.00" JPY → "8", "1.23" KWD → "1.230"); text that
    is not an amount is returned as it is (the schema then refuses it)."""
    if value is None:
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    places = exponent(str(currency or ""))
    used = amount.normalize().as_tuple().exponent
    if isinstance(used, int) and -used > places:
        places = -used  # never rounded
    return f"{amount:.{places}f}"


def breakdown_cell(rows: Sequence[Mapping[str, Any]] | None, currency: object) -> str:
    """The breakdown in one CSV cell: ``rate:net:tax:gross`` per rate, ``|`` between rates, highest rate first."""
    return "|".join(
        ":".join(
            (
                str(row.get("rate", "")),
                amount_text(row.get("net"), currency),
                amount_text(row.get("tax"), currency),
                amount_text(row.get("gross"), currency),
            )
        )
        for row in rows or ()
    )
