"""What an invoice or credit note says, built from the order (as its event carries it) and the
shop profile. Plain Python: the figures come from the order's own tax breakdown, so a document
never computes a different tax than the order detail shows."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import domain
from .labels import format_date, labels, language_of


def shop_day(moment, timezone_name):
    try:
        return moment.astimezone(ZoneInfo(timezone_name)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return moment.date()


def seller_lines(profile):
    address = profile["address"]
    street = " ".join(part for part in (address["street"], address.get("house_number")) if part)
    lines = [profile["legal_name"], street, f"{address['country']}-{address['postal_code']} {address['city']}"]
    contact = profile.get("contact") or {}
    lines += [value for value in (contact.get("email"), contact.get("phone"), contact.get("website")) if value]
    return lines


def buyer_lines(address):
    name = " ".join(part for part in (address.get("first_name"), address.get("last_name")) if part)
    lines = [address.get("company")] if address.get("company") else []
    return lines + [
        name,
        address.get("street", ""),
        f"{address.get('country', '')}-{address.get('postal_code', '')} {address.get('city', '')}",
    ]


def content(order, profile, kind, number, issued_at, timezone_name, corrects=None, reason=None):
    """The template's variables for one document of ``order``."""
    language = language_of(order)
    words = labels(language)
    issued_on = shop_day(issued_at, timezone_name)
    submitted = order.get("submitted_at") or order.get("created_at")
    supplied_on = shop_day(datetime.fromisoformat(submitted), timezone_name) if submitted else issued_on
    method = order.get("payment_method") or ""
    due_on = None
    if kind == "invoice" and method == "invoice":
        due_on = format_date(domain.due_date(issued_on, int(profile.get("payment_term_days") or 0)), language)
    tax_rows = order.get("tax_breakdown") or []
    shipping_cost = order.get("shipping_cost")
    return {
        "labels": words,
        "kind": kind,
        "number": number,
        "language": language,
        "seller": {"vat_number": profile.get("vat_number")},
        "seller_lines": seller_lines(profile),
        "buyer_lines": buyer_lines(order.get("billing_address") or {}),
        "issued_on": format_date(issued_on, language),
        "supplied_on": format_date(supplied_on, language),
        "due_on": due_on,
        "order_reference": order["reference"],
        "payment_method": words["methods"].get(method, method),
        "corrects": corrects,
        "reason": reason,
        "lines": order.get("lines") or [],
        "shipping_cost": shipping_cost if shipping_cost and domain.money(shipping_cost) else None,
        "shipping_rate": order.get("shipping_tax_rate") or "",
        "tax_rows": tax_rows,
        "currency": order.get("currency") or "CHF",
        "total": order.get("total"),
        "prices_include_tax": order.get("prices_include_tax") is not False,
        "footer": (profile.get("footer") or {}).get(language, ""),
    }
