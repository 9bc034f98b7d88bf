"""Pieces several contract schemas are made of, written once: the period a list or an export is
filtered by (``created_from``/``created_to``), the page of a paged list, the identifiers staff
type in (an order reference, an invoice number, a PSP reference), and several like fields declared at once."""

import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

# a bare date stands for the whole day, in UTC: its first instant as a start, its last as an end
_WHOLE_DAY: Final = (("created_from", "T00:00:00+00:00"), ("created_to", "T23:59:59.999999+00:00"))
_BARE_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
# the length of the orders' reference column, and of every service's copy of it
MAX_ORDER_REFERENCE: Final = 40

F = TypeVar("F", bound=fields.Field)


class CreatedPeriod:
    """For a schema filtered by ``created_from``/``created_to`` (each declares its own fields): a bare
    date is widened to the whole day, and a period that ends before it starts is refused."""

    @pre_load
    def _whole_days(self, data: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        data = dict(data)
        for key, suffix in _WHOLE_DAY:
            value = data.get(key)
            if isinstance(value, str) and _BARE_DATE.fullmatch(value):
                data[key] = value + suffix
        return data

    @validates_schema
    def _range(self, data: Mapping[str, Any], **kwargs: Any) -> None:
        if data.get("created_from") and data.get("created_to") and data["created_from"] > data["created_to"]:
            raise ValidationError("created_from is after created_to.", "created_from")


def page_field(**kwargs: Any) -> fields.Integer:
    """``page``: from 1, the first by default."""
    return fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**7), **kwargs)


def page_size_field() -> fields.Integer:
    """``page_size``: 1 to 200 rows, 25 by default."""
    return fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))


def order_reference_field(**kwargs: Any) -> fields.String:
    """An order named by its reference: 1 to ``MAX_ORDER_REFERENCE`` characters."""
    return fields.String(validate=validate.Length(min=1, max=MAX_ORDER_REFERENCE), **kwargs)


def identifier(max_length: int, punctuation: str) -> fields.String:
    """A required identifier staff type in: a letter or digit, then letters, digits and ``punctuation``
    (its characters as they stand in a regular expression's character class)."""
    return fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=max_length),
            validate.Regexp(
                rf"^[A-Za-z0-9][A-Za-z0-9{punctuation}]*$", error=f"Letters, digits and {' '.join(punctuation)} only."
            ),
        ],
    )


def alike(count: int, kind: Callable[..., F], **options: Any) -> tuple[F, ...]:
    """``count`` fields of one kind with the same options, each a field of its own, for the like fields
    that follow each other in a schema: ``first_name, last_name = alike(2, fields.String)`` declares
    both, in that order (the order they are dumped in)."""
    return tuple(kind(**options) for _ in range(count))
