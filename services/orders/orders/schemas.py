"""Wire schemas of the orders service: what RPC callers send and what they get back.

Loaded at the service edge (every RPC validates its input here) and dumped to plain
JSON (money as decimal strings, times as ISO 8601) for RPC results and events.
"""
import re
from decimal import Decimal

from marshmallow import (
    EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema,
)

from oms_common.fields import StrictSchema, UtcDateTime, no_control, text

from oms_contracts.customers import parse_customer_ref
from oms_contracts.values import LANGUAGES, ORDER_STATUSES, PAYMENT_METHODS, PAYMENT_STATUSES

from .domain import amount_place_errors, line_amounts, status_change_targets
from .tax import order_tax_breakdown

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code such as CHF.")
MAX_PRICE = 10**9
# money columns are NUMERIC(14, 2) (below 10**12): every line total and order total stays well inside
MAX_TOTAL = 10**10


def money_input(**kwargs):
    # kept exact on load: the currency decides how many places are allowed (checked by the
    # schema that knows it), so that "5.001" is refused instead of rounded
    return fields.Decimal(as_string=True, allow_nan=False, validate=validate.Range(min=0, max=MAX_PRICE), **kwargs)


class CustomerRef(fields.Field):
    """A customer given by id (9) or by the number the UI shows (C000009)."""

    def _deserialize(self, value, attr, data, **kwargs):
        customer_id = parse_customer_ref(value)
        if customer_id is None:
            raise ValidationError("Give a customer id (such as 9) or customer number (such as C000009).")
        return customer_id


class AddressSchema(StrictSchema):
    first_name = text(100)
    last_name = text(100)
    company = text(150, required=False, load_default="")
    street = text(200)
    postal_code = text(20)
    city = text(100)
    country = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166 alpha-2 code."))
    phone = text(40, required=False, load_default="")


class NewCustomerSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    first_name = text(100)
    last_name = text(100)
    language = fields.String(load_default="de", validate=validate.OneOf(LANGUAGES))


class LineInputSchema(StrictSchema):
    article_number = text(64)
    name = text(255)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100000))
    unit_price = money_input(required=True)
    # optional: the shop table's standard rate of the day when left out (see tax.py)
    tax_rate = fields.Decimal(load_default=None, allow_none=True, allow_nan=False,
                              validate=validate.Range(min=0, max=99.99), places=None)


def check_totals(data, shipping_cost=0):
    """Quantity × unit price and the order's total within MAX_TOTAL, named like any other field."""
    lines = data.get("lines") or []
    total = Decimal(str(shipping_cost))  # a defaulted shipping cost arrives as its string
    for index, line in enumerate(lines):
        line_total = line["quantity"] * line["unit_price"]
        if line_total > MAX_TOTAL:
            raise ValidationError({"lines": {index: {"unit_price": [
                f"Quantity × unit price may not exceed {MAX_TOTAL}."]}}})
        total += line_total
    if total > MAX_TOTAL:
        raise ValidationError({"lines": [f"The order's total may not exceed {MAX_TOTAL}."]})


class CreateOrderSchema(StrictSchema):
    customer = fields.Nested(NewCustomerSchema)
    customer_id = fields.Integer(strict=True, validate=validate.Range(min=1))
    billing_address = fields.Nested(AddressSchema, required=True)
    shipping_address = fields.Nested(AddressSchema, load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(LineInputSchema), required=True, validate=validate.Length(min=1, max=500))
    shipping_cost = money_input(load_default="0.00")
    currency = fields.String(load_default="CHF", validate=CURRENCY)
    payment_method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    # ``submit: false`` makes an open order (a cart) bound to ``session_id``. When nothing
    # touches it for OPEN_ORDER_TTL_SECONDS (its session expired) the system cancels it:
    # cancelled, never deleted, so reference numbers stay gapless and the history stays.
    # A paused order (S14) belongs to no session and is kept.
    session_id = text(128, required=False, load_default=None, allow_none=True)
    submit = fields.Boolean(load_default=True)

    @validates_schema
    def _customer_given_once(self, data, **kwargs):
        if ("customer" in data) == ("customer_id" in data):
            raise ValidationError("Give either customer or customer_id.", "customer")
        if not data.get("submit", True) and not data.get("session_id"):
            raise ValidationError("An open order (submit: false) needs the session it belongs to.", "session_id")

    @validates_schema
    def _totals_fit(self, data, **kwargs):
        check_totals(data, data.get("shipping_cost") or 0)

    @validates_schema
    def _amounts_fit_the_currency(self, data, **kwargs):
        errors = amount_place_errors(
            line_amounts(data.get("lines") or []) + [("shipping_cost", data.get("shipping_cost"))],
            data.get("currency") or "CHF")
        if errors:
            raise ValidationError(errors)

    @post_load
    def _default_shipping(self, data, **kwargs):
        if not data.get("shipping_address"):
            data["shipping_address"] = dict(data["billing_address"])
        return data


class ReplaceLinesSchema(StrictSchema):
    session_id = text(128)
    lines = fields.List(fields.Nested(LineInputSchema), required=True, validate=validate.Length(min=1, max=500))
    version = fields.Integer(strict=True)

    @validates_schema
    def _totals_fit(self, data, **kwargs):
        # the order's shipping cost is added by the use case; MAX_TOTAL leaves it room below the column
        check_totals(data)


class SessionSchema(StrictSchema):
    session_id = text(128)
    version = fields.Integer(strict=True)


class ShipSchema(StrictSchema):
    notify = fields.Boolean(load_default=True)
    tracking_number = text(100, required=False, load_default=None, allow_none=True)
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)
    version = fields.Integer(strict=True)


class CancelSchema(StrictSchema):
    notify = fields.Boolean(load_default=False)
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)
    version = fields.Integer(strict=True)


class StatusChangeSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    notify = fields.Boolean(load_default=False)
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)
    tracking_number = text(100, required=False, load_default=None, allow_none=True)
    version = fields.Integer(strict=True)


class BulkStatusSchema(StrictSchema):
    references = fields.List(text(40), required=True, validate=validate.Length(min=1, max=500))
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    notify = fields.Boolean(load_default=False)
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)


class ReassignCustomerSchema(StrictSchema):
    customer_id = CustomerRef(required=True)
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)
    version = fields.Integer(strict=True)


class MergeCustomersSchema(StrictSchema):
    into = CustomerRef(required=True)
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)


class ArticleReportSchema(StrictSchema):
    article = text(64)
    date_from = fields.Date(data_key="from", load_default=None)
    date_to = fields.Date(data_key="to", load_default=None)
    limit = fields.Integer(load_default=10000, validate=validate.Range(min=1, max=100000))

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("from is after to.", "from")


class InvoiceNumberSchema(StrictSchema):
    invoice_number = fields.String(required=True, validate=[
        validate.Length(min=1, max=60),
        validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", error="Letters, digits and . _ / - only.")])
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)


class NumberingSchema(StrictSchema):
    order_reference_start = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**15))
    invoice_number_start = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**15))
    invoice_prefix = fields.String(validate=[validate.Length(max=20), validate.Regexp(
        r"^[A-Za-z0-9._/-]*$", error="Letters, digits and . _ / - only.")])
    invoice_numbers_enabled = fields.Boolean()


COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166 alpha-2 code such as CH.")
SEARCH_HELP = ("One text for everything staff know about an order: the start of its reference or invoice number, "
               "part of the customer's name or e-mail, the customer number (C000009), part of an article or "
               "tracking number, a PSP payment id. Parts shorter than 3 characters match only as a start.")


def not_blank(value):
    if not value.strip():
        raise ValidationError("Type something to search for.")


# the list's sortable columns; each also sorts descending with a leading "-"
LIST_SORT_FIELDS = ("created_at", "updated_at", "reference", "invoice_number", "customer", "total", "status",
                    "payment_status")


class ListQuerySchema(StrictSchema):
    SORTS = tuple(name for field in LIST_SORT_FIELDS for name in ("-" + field, field))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**7), metadata={
        "description": "Page number: its first row is found by a scan over the sort's index alone, from the "
                       "nearer end of the list; the rows are then a keyset seek (no OFFSET over rows)."})
    page_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))
    status = fields.List(fields.String(validate=validate.OneOf(ORDER_STATUSES)), load_default=list)
    payment_status = fields.List(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)), load_default=list)
    q = fields.String(load_default=None, validate=[validate.Length(min=1, max=60), no_control])
    customer_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    created_from = UtcDateTime(load_default=None, default_timezone=None)
    created_to = UtcDateTime(load_default=None, default_timezone=None)
    changed_since = UtcDateTime(load_default=None)
    search = fields.String(load_default=None, validate=[validate.Length(min=1, max=100), no_control, not_blank],
                           metadata={"description": SEARCH_HELP})
    payment_method = fields.List(fields.String(validate=validate.OneOf(PAYMENT_METHODS)), load_default=list)
    currency = fields.List(fields.String(validate=CURRENCY), load_default=list)
    country = fields.List(fields.String(validate=COUNTRY), load_default=list, metadata={
        "description": "Country of the shipping address (ISO 3166 alpha-2, repeatable)."})
    disputed = fields.Boolean(load_default=None, metadata={
        "description": "true: only orders whose payment is disputed (a chargeback is open); false: none of them."})
    overdue = fields.Boolean(load_default=None, metadata={
        "description": "true: only orders in dunning (dunning_1, dunning_2); false: none of them."})
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(SORTS), metadata={
        "description": "A column, descending with a leading '-': " + ", ".join(LIST_SORT_FIELDS) + "."})
    # opaque: the ``next_cursor`` of the page before, with the same filters and sort
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=1000), metadata={
        "description": "The `next_cursor` of the page before (same filters and sort; not with `page`): walks a "
                       "whole list, every order exactly once. A forged, foreign or expired cursor is a 422."})

    @pre_load
    def _dates_as_datetimes(self, data, **kwargs):
        # a bare date means the whole day, in UTC
        data = dict(data)
        for key, suffix in (("created_from", "T00:00:00+00:00"), ("created_to", "T23:59:59.999999+00:00")):
            value = data.get(key)
            if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                data[key] = value + suffix
        return data

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("created_from") and data.get("created_to") and data["created_from"] > data["created_to"]:
            raise ValidationError("created_from is after created_to.", "created_from")
        if data.get("cursor") and data.get("page", 1) != 1:
            raise ValidationError("Give either a page or a cursor, not both.", "cursor")


class CustomerQuerySchema(StrictSchema):
    q = fields.String(load_default=None, validate=[validate.Length(min=1, max=100), no_control])
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**7))
    page_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))


class PaymentStatusEventSchema(Schema):
    class Meta:
        unknown = EXCLUDE
    event_id = fields.String(required=True)
    order_reference = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    sequence = fields.Integer(required=True)
    actor = fields.Dict(load_default=None)
    reason = fields.String(load_default=None, allow_none=True)


# ---------------------------------------------------------------- output

class LineSchema(Schema):
    position = fields.Integer()
    article_number = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    unit_price = fields.Decimal(as_string=True, places=2)
    line_total = fields.Decimal(as_string=True, places=2)
    tax_rate = fields.Decimal(as_string=True, places=2, allow_none=True)


class TaxRowSchema(Schema):
    rate = fields.Decimal(as_string=True, places=2)
    net = fields.Decimal(as_string=True, places=2)
    tax = fields.Decimal(as_string=True, places=2)
    gross = fields.Decimal(as_string=True, places=2)


class OrderSummarySchema(Schema):
    reference = fields.String()
    invoice_number = fields.String(allow_none=True)
    status = fields.String()
    payment_status = fields.String()
    payment_method = fields.String()
    currency = fields.String()
    total = fields.Decimal(as_string=True, places=2)
    # built directly: a schema per row cost more than the rest of a list page
    customer = fields.Function(lambda o: {"id": o.customer_id, "email": o.customer_email, "name": o.customer_name})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class OrderSchema(OrderSummarySchema):
    invoice_number_external = fields.Boolean()
    language = fields.String()
    subtotal = fields.Decimal(as_string=True, places=2)
    shipping_cost = fields.Decimal(as_string=True, places=2)
    billing_address = fields.Dict()
    shipping_address = fields.Dict()
    lines = fields.List(fields.Nested(LineSchema))
    session_id = fields.String(allow_none=True)
    paused = fields.Boolean()
    tracking_number = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    # VAT: what the tax figures rest on, and the breakdown per rate (tax.order_breakdown)
    tax_country = fields.String(allow_none=True)
    prices_include_tax = fields.Boolean(allow_none=True)
    shipping_tax_rate = fields.Decimal(as_string=True, places=2, allow_none=True)
    tax_breakdown = fields.Function(lambda order: TaxRowSchema(many=True).dump(order_tax_breakdown(order)))
    # what staff may choose in a plain status change now: the UI offers these, it keeps no copy of the rule
    allowed_transitions = fields.Function(lambda order: status_change_targets(order.status))


class CustomerSchema(Schema):
    id = fields.Integer()
    customer_number = fields.String()
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    language = fields.String()
    merged_into_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class HistorySchema(Schema):
    at = fields.DateTime()
    actor = fields.String()
    actor_kind = fields.String()
    origin = fields.String()
    action = fields.String()
    from_status = fields.String(data_key="from", allow_none=True)
    to_status = fields.String(data_key="to", allow_none=True)
    reason = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
