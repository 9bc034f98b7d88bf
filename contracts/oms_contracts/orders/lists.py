"""The queries of the order list, the customer list and the article report, as callers give them."""

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from oms_common.fields import StrictSchema, UtcDateTime, no_control, text

from ..parts import CreatedPeriod, page_field, page_size_field
from ..values import ORDER_STATUSES, PAYMENT_METHODS, PAYMENT_STATUSES
from .inputs import CURRENCY

COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166 alpha-2 code such as CH.")
SEARCH_HELP = (
    "One text for everything staff know about an order: the start of its reference or invoice number, "
    "part of the customer's name or e-mail, the customer number (C000009), part of an article or "
    "tracking number, a PSP payment id. Parts shorter than 3 characters match only as a start."
)


def not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Type something to search for.")


# the list's sortable columns; each also sorts descending with a leading "-"
LIST_SORT_FIELDS = (
    "created_at",
    "updated_at",
    "reference",
    "invoice_number",
    "customer",
    "total",
    "status",
    "payment_status",
)


class ListQuerySchema(CreatedPeriod, StrictSchema):
    SORTS = tuple(name for field in LIST_SORT_FIELDS for name in ("-" + field, field))
    page = page_field(
        metadata={
            "description": "Page number: its first row is found by a scan over the sort's index alone, from the "
            "nearer end of the list; the rows are then a keyset seek (no OFFSET over rows)."
        }
    )
    page_size = page_size_field()
    status = fields.List(fields.String(validate=validate.OneOf(ORDER_STATUSES)), load_default=list)
    payment_status = fields.List(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)), load_default=list)
    q = fields.String(load_default=None, validate=[validate.Length(min=1, max=60), no_control])
    customer_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    created_from = UtcDateTime(load_default=None, default_timezone=None)
    created_to = UtcDateTime(load_default=None, default_timezone=None)
    changed_since = UtcDateTime(load_default=None)
    search = fields.String(
        load_default=None,
        validate=[validate.Length(min=1, max=100), no_control, not_blank],
        metadata={"description": SEARCH_HELP},
    )
    payment_method = fields.List(fields.String(validate=validate.OneOf(PAYMENT_METHODS)), load_default=list)
    currency = fields.List(fields.String(validate=CURRENCY), load_default=list)
    country = fields.List(
        fields.String(validate=COUNTRY),
        load_default=list,
        metadata={"description": "Country of the shipping address (ISO 3166 alpha-2, repeatable)."},
    )
    disputed = fields.Boolean(
        load_default=None,
        metadata={
            "description": "true: only orders whose payment is disputed (a chargeback is open); false: none of them."
        },
    )
    overdue = fields.Boolean(
        load_default=None,
        metadata={"description": "true: only orders in dunning (dunning_1, dunning_2); false: none of them."},
    )
    sort = fields.String(
        load_default="-created_at",
        validate=validate.OneOf(SORTS),
        metadata={"description": "A column, descending with a leading '-': " + ", ".join(LIST_SORT_FIELDS) + "."},
    )
    # opaque: the ``next_cursor`` of the page before, with the same filters and sort
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=1000),
        metadata={
            "description": "The `next_cursor` of the page before (same filters and sort; not with `page`): walks a "
            "whole list, every order exactly once. A forged, foreign or expired cursor is a 422."
        },
    )

    @validates_schema
    def _range(self, data: dict[str, Any], **kwargs: Any) -> None:
        super()._range(data)  # a wrong period is the one error named, the cursor is looked at in a valid one
        if data.get("cursor") and data.get("page", 1) != 1:
            raise ValidationError("Give either a page or a cursor, not both.", "cursor")


class CustomerQuerySchema(StrictSchema):
    q = fields.String(load_default=None, validate=[validate.Length(min=1, max=100), no_control])
    page = page_field()
    page_size = page_size_field()


class ArticleReportSchema(StrictSchema):
    article = text(64)
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)
    limit = fields.Integer(load_default=10000, validate=validate.Range(min=1, max=100000))

    @validates_schema
    def _range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("from is after to.", "from")
