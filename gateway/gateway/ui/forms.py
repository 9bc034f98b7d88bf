"""What staff typed into a form or a filter, read the way the services take it."""

from collections.abc import Iterable

from oms_common.problems import ValidationFailed

from .i18n import date_pattern, parse_date_input
from .page import Page


def optional(value: str | None) -> str | None:
    """The trimmed text, or None for an empty field."""
    value = (value or "").strip()
    return value or None


def number(value: str | None) -> int | str:
    """A whole number as a number; anything else as typed, for the service to refuse by name."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else value


def typed_dates(page: Page, query: dict, keys: Iterable[str]) -> dict:
    """``query`` with its dates (typed in the staff language's order) as ISO dates; ValidationFailed
    names every date that is not one."""
    asked, errors = dict(query), {}
    for key in keys:
        if key in asked:
            day = parse_date_input(asked[key], page.language)
            if day is None:
                errors[key] = [page.t("Enter the date as {pattern}.", pattern=date_pattern(page.language))]
            else:
                asked[key] = day
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    return asked
