"""What payments reads of an order event (``oms_contracts.events``): the order's method, currency and
exact total, which its payment is opened with."""

from decimal import Decimal

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from oms_contracts.payments import MAX_AMOUNT
from oms_contracts.values import PAYMENT_METHODS


def _at_most_three_decimals(value):
    if value != value.quantize(Decimal("0.001")):
        raise ValidationError("At most three decimals.")


class OrderInEventSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reference = fields.String(required=True, validate=validate.Length(min=1, max=40))
    status = fields.String(required=True)
    payment_method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    currency = fields.String(load_default="CHF", validate=validate.Regexp(r"^[A-Z]{3}$"))
    # exact, never rounded: three-decimal currencies (KWD, …) keep their third decimal
    total = fields.Decimal(
        required=True, allow_nan=False, validate=[validate.Range(min=0, max=MAX_AMOUNT), _at_most_three_decimals]
    )
    # what a dunning reminder names the order by and speaks
    invoice_number = fields.String(load_default=None, allow_none=True)
    language = fields.String(load_default=None, allow_none=True)
