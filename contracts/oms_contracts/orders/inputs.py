"""What RPC callers and events send the orders service: every use case loads its input here.

Money is kept exact on load (the currency decides how many places are allowed), unknown fields
are refused (``StrictSchema``); a bad field is a 422 naming it.
"""

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from oms_common.fields import StrictSchema, text

from ..amounts import amount_place_errors, line_amounts
from ..customers import parse_customer_ref
from ..parts import identifier
from ..values import LANGUAGES, ORDER_STATUSES, PAYMENT_METHODS

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code such as CHF.")
MAX_PRICE = 10**9
# money columns are NUMERIC(14, 2) (below 10**12): every line total and order total stays well inside
MAX_TOTAL = 10**10


def money_input(**kwargs: Any) -> fields.Decimal:
    # kept exact on load: the currency decides how many places are allowed (checked by the
    # schema that knows it), so that "5.001" is refused instead of rounded
    return fields.Decimal(as_string=True, allow_nan=False, validate=validate.Range(min=0, max=MAX_PRICE), **kwargs)


class CustomerRef(fields.Field):
    """A customer given by id (9) or by the number the UI shows (C000009)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
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
    country = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166 alpha-2 code.")
    )
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
    tax_rate = fields.Decimal(
        load_default=None, allow_none=True, allow_nan=False, validate=validate.Range(min=0, max=99.99), places=None
    )


def check_totals(data: dict[str, Any], shipping_cost: Any = 0) -> None:
    """Quantity × unit price and the order's total within MAX_TOTAL, named like any other field."""
    lines = data.get("lines") or []
    total = Decimal(str(shipping_cost))  # a defaulted shipping cost arrives as its string
    for index, line in enumerate(lines):
        line_total = line["quantity"] * line["unit_price"]
        if line_total > MAX_TOTAL:
            raise ValidationError(
                {"lines": {index: {"unit_price": [f"Quantity × unit price may not exceed {MAX_TOTAL}."]}}}
            )
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
    def _customer_given_once(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("customer" in data) == ("customer_id" in data):
            raise ValidationError("Give either customer or customer_id.", "customer")
        if not data.get("submit", True) and not data.get("session_id"):
            raise ValidationError("An open order (submit: false) needs the session it belongs to.", "session_id")

    @validates_schema
    def _totals_fit(self, data: dict[str, Any], **kwargs: Any) -> None:
        check_totals(data, data.get("shipping_cost") or 0)

    @validates_schema
    def _amounts_fit_the_currency(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = amount_place_errors(
            line_amounts(data.get("lines") or []) + [("shipping_cost", data.get("shipping_cost"))],
            data.get("currency") or "CHF",
        )
        if errors:
            raise ValidationError(errors)

    @post_load
    def _default_shipping(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not data.get("shipping_address"):
            data["shipping_address"] = dict(data["billing_address"])
        return data


class ReplaceLinesSchema(StrictSchema):
    session_id = text(128)
    lines = fields.List(fields.Nested(LineInputSchema), required=True, validate=validate.Length(min=1, max=500))
    version = fields.Integer(strict=True)

    @validates_schema
    def _totals_fit(self, data: dict[str, Any], **kwargs: Any) -> None:
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


class InvoiceNumberSchema(StrictSchema):
    invoice_number = identifier(60, punctuation="._/-")
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)


class NumberingSchema(StrictSchema):
    order_reference_start = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**15))
    invoice_number_start = fields.Integer(strict=True, validate=validate.Range(min=1, max=10**15))
    invoice_prefix = fields.String(
        validate=[
            validate.Length(max=20),
            validate.Regexp(r"^[A-Za-z0-9._/-]*$", error="Letters, digits and . _ / - only."),
        ]
    )
    invoice_numbers_enabled = fields.Boolean()
