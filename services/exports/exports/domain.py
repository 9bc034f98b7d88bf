"""The exports' rules: schedules, file naming, text that XML and spreadsheets can carry,
which copy of an order wins, and the checks an imported order must pass.

Plain Python on purpose: no nameko, no SQLAlchemy.
"""

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

# the values every service accepts, from the shared contracts
from oms_contracts.exports import EXPORT_FORMATS, EXPORT_KINDS
from oms_contracts.values import LANGUAGES, PAYMENT_METHODS

KINDS = EXPORT_KINDS
FORMATS = EXPORT_FORMATS

NAMESPACE = "https://oms.example/ns/export/1"
SCHEMA_VERSION = "1"


class ScheduleError(ValueError):
    pass


# ---------------------------------------------------------------- schedules


def check_cron(expression: object, tz_name: str = "UTC") -> None:
    """Raises ScheduleError unless ``expression`` is a 5-field cron expression croniter can run."""
    if not isinstance(expression, str) or len(expression.split()) != 5:
        raise ScheduleError("Use a cron expression with five fields: minute hour day month weekday.")
    if not croniter.is_valid(expression):
        raise ScheduleError(f"'{expression}' is not a valid cron expression.")
    zone(tz_name)


def zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"Unknown time zone '{tz_name}'.") from None


def next_due(expression: str, after: datetime, tz_name: str = "UTC") -> datetime:
    """The first time strictly after ``after`` at which the schedule fires, in UTC.

    The expression is read in the job's time zone (so "0 2 * * *" stays at 02:00 local
    time across daylight-saving changes).
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    local = after.astimezone(zone(tz_name))
    nxt = croniter(expression, local).get_next(datetime)
    return nxt.astimezone(timezone.utc)


# ---------------------------------------------------------------- which copy wins


def order_update_applies(stored_version: int | None, incoming_version: int) -> bool:
    """The newest version of an order wins; equal versions carry the same state."""
    return stored_version is None or incoming_version > stored_version


def payment_update_applies(stored_sequence: int | None, incoming_sequence: int) -> bool:
    return stored_sequence is None or incoming_sequence > stored_sequence


# ---------------------------------------------------------------- text

# XML 1.0 cannot carry these at all (not even as character references).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def xml_text(value: object) -> str:
    """Text as XML 1.0 can carry it: characters XML forbids become U+FFFD.

    Everything else (markup characters, ``]]>``, any script, emoji, tabs, newlines and
    carriage returns) is kept and escaped by the serializer.
    """
    if value is None:
        return ""
    value = str(value)
    return _XML_ILLEGAL.sub(REPLACEMENT, value)


def column_text(value: object) -> str | None:
    """Text for an indexed column: PostgreSQL text cannot hold NUL (the JSON document keeps it)."""
    return None if value is None else str(value).replace("\x00", REPLACEMENT)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> str:
    """A text cell a spreadsheet opens as text: cells that would start a formula
    (``=``, ``+``, ``-``, ``@``, tab, CR) get a leading apostrophe (OWASP CSV injection);
    control characters are replaced as in XML, so both formats carry the same text."""
    if value is None:
        return ""
    value = xml_text(value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


# ---------------------------------------------------------------- files

_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def check_target(target: object) -> str:
    """A job's target: a relative directory below the export directory, nothing else."""
    if not isinstance(target, str) or not target.strip():
        raise ValueError("Give a directory below the export directory.")
    path = PurePosixPath(target.strip().strip("/") or ".")
    if target.startswith("/") or "\\" in target:
        raise ValueError("The target must be relative to the export directory.")
    for part in path.parts:
        if part == ".":
            continue
        if not _SAFE_PART.match(part):
            raise ValueError("Use letters, digits, '.', '_' and '-' in directory names; no '..'.")
        if part.startswith(".."):
            raise ValueError("'..' is not allowed.")
    return str(path)


def slug(name: str) -> str:
    value = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()
    return value[:60] or "job"


def run_file_name(job_name: str, kind: str, due_at: datetime, run_id: int, fmt: str) -> str:
    stamp = due_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{slug(job_name)}-{kind}-{stamp}-{run_id}.{fmt}"


def temp_name(final_name: str) -> str:
    """Where a file is written until it is complete: hidden and with a .part suffix,
    so pickers that look for ``*.xml`` / ``*.csv`` never see it."""
    return f".{final_name}.part"


# ---------------------------------------------------------------- import checks

CENT = Decimal("0.01")
MAX_PRICE = Decimal(10**9)
# what the orders service accepts in names, addresses and lines: one line, no control characters
_NOT_SINGLE_LINE = re.compile("[\x00-\x1f\x7f\u2028\u2029]")


def money(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"'{value}' is not an amount.") from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValueError(f"'{value}' is not an amount with two decimals.")
    return amount


def split_name(name: str | None, fallback_last_name: str) -> tuple[str, str]:
    """The customer's first and last name from the export's single ``name``.

    The orders service forms ``name`` as "first last"; the last word is taken as the last
    name. A one-word name keeps the billing address's last name.
    """
    name = " ".join((name or "").split())
    if " " in name:
        first, last = name.rsplit(" ", 1)
        return first, last
    return name, fallback_last_name


def check_order(order: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Business checks the XSD cannot express; returns a list of (field, message)."""
    problems = []
    for field, text in _texts(order):
        if text is not None and _NOT_SINGLE_LINE.search(text):
            problems.append((field, "Line breaks and control characters are not allowed."))
    try:
        subtotal = Decimal(0)
        for index, line in enumerate(order["lines"], start=1):
            expected = (money(line["unit_price"]) * line["quantity"]).quantize(CENT)
            if money(line["line_total"]) != expected:
                problems.append(
                    (f"lines.{index}.line_total", f"{line['line_total']} is not quantity × unit price ({expected}).")
                )
            if money(line["unit_price"]) > MAX_PRICE:
                problems.append((f"lines.{index}.unit_price", "Too large."))
            subtotal += expected
        if money(order["subtotal"]) != subtotal:
            problems.append(("totals.subtotal", f"{order['subtotal']} is not the sum of the lines ({subtotal})."))
        total = subtotal + money(order["shipping_cost"])
        if money(order["total"]) != total:
            problems.append(("totals.total", f"{order['total']} is not subtotal + shipping cost ({total})."))
    except (KeyError, ValueError) as error:
        problems.append(("totals", str(error)))
    if order.get("payment_method") not in PAYMENT_METHODS:
        problems.append(("payment_method", f"Unknown payment method '{order.get('payment_method')}'."))
    if order.get("language") not in LANGUAGES:
        problems.append(("language", f"Unsupported language '{order.get('language')}'."))
    return problems


def _texts(order: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    yield "customer.email", order["customer"]["email"]
    yield "customer.name", order["customer"]["name"]
    for key in ("billing_address", "shipping_address"):
        for field, value in order[key].items():
            yield f"{key}.{field}", value
    for index, line in enumerate(order["lines"], start=1):
        yield f"lines.{index}.article_number", line["article_number"]
        yield f"lines.{index}.name", line["name"]


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
