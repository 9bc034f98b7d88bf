"""The events the services announce, written once and versioned.

Every event carries ``schema_version``; an event without it is version 1 (everything written
before the field existed). A consumer loads an event through these schemas: fields it does not
know are ignored (a producer may add fields within a version), but a version newer than the one
written here is refused, so that the reliable handler parks it until the consumer is upgraded
instead of misreading it. A producer that changes the meaning or removes a field raises
``VERSIONS`` for that event and keeps answering the old version until every consumer reads both.
"""

from datetime import timezone
from decimal import Decimal
from typing import Any, Final

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates, validates_schema

from .parts import alike, order_reference_field
from .values import PAYMENT_STATUSES

ORDER_EVENTS: Final = (
    "order_created",
    "order_updated",
    "order_submitted",
    "order_shipped",
    "order_cancelled",
    "order_status_changed",
)
VERSIONS: Final = {
    **{name: 1 for name in ORDER_EVENTS},
    "customers_merged": 1,
    "numbering_changed": 1,
    "payment_status_changed": 1,
    "payment_dunning_changed": 1,
    "document_issued": 1,
    "shop_profile_changed": 1,
}
VERSION_KEY: Final = "schema_version"


def stamp(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as a producer sends it: with the version of the event it is written in."""
    return {**payload, VERSION_KEY: VERSIONS[event_type]}


class _Event(Schema):
    class Meta:
        unknown = EXCLUDE  # a consumer reads what it needs; fields added within a version are ignored

    version = 1
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    event_type = fields.String(load_default=None, allow_none=True)
    occurred_at = fields.String(load_default=None, allow_none=True)
    schema_version = fields.Integer(load_default=1, strict=False)

    @validates("schema_version")
    def _readable(self, value: int, **kwargs: Any) -> None:
        if value < 1 or value > self.version:
            raise ValidationError(
                f"Version {value} of this event is not one this consumer reads (up to "
                f"{self.version}); upgrade it, then replay the parked event."
            )


class _OrderReferenceEvent(_Event):
    """An event about one order, named by its reference (the orders service's events carry the whole order)."""

    order_reference = order_reference_field(required=True)


class _SourceTime(fields.DateTime):
    """A time as the orders service writes it; one without an offset is UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class CustomerRecordSchema(Schema):
    """The customer as the orders service keeps it (its events carry it next to the order)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    email = fields.String(required=True)
    name = fields.String(required=True)
    language = fields.String(load_default=None, allow_none=True)
    merged_into = fields.Integer(load_default=None, allow_none=True, strict=False, validate=validate.Range(min=1))
    updated_at = _SourceTime(required=True)


class OrderEventSchema(_Event):
    """``order_created`` … ``order_status_changed``: the whole order as the orders service answers it
    (its VAT facts are read with ``OrderTaxEventSchema``)."""

    version = VERSIONS["order_created"]
    order = fields.Dict(required=True)
    customer = fields.Nested(CustomerRecordSchema, load_default=None, allow_none=True)
    actor = fields.Dict(load_default=None, allow_none=True)
    from_status, to_status = alike(2, fields.String, load_default=None, allow_none=True)
    notify = fields.Boolean(load_default=False, allow_none=True)
    reason, tracking_number = alike(2, fields.String, load_default=None, allow_none=True)


def _at_most_places(places: int) -> Any:
    def check(value: Decimal) -> None:
        exponent = value.normalize().as_tuple().exponent  # "8.100" uses 1 place
        if isinstance(exponent, int) and -exponent > places:
            raise ValidationError(f"At most {places} decimal places.")

    return check


def _rate(**kwargs: Any) -> fields.Decimal:
    """A VAT rate in % as the orders service writes it ("8.10"): 0 up to below 100, cents of a percent."""
    return fields.Decimal(validate=[validate.Range(min=0, max=100, max_inclusive=False), _at_most_places(2)], **kwargs)


def _amount() -> fields.Decimal:
    return fields.Decimal(required=True, validate=[validate.Range(min=-(10**12), max=10**12), _at_most_places(4)])


class TaxRowEventSchema(Schema):
    """One rate of an order's ``tax_breakdown``: its net, tax and gross amounts (net + tax = gross)."""

    class Meta:
        unknown = EXCLUDE

    rate = _rate(required=True)
    net = _amount()
    tax = _amount()
    gross = _amount()

    @validates_schema
    def _adds_up(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["net"] + data["tax"] != data["gross"]:
            raise ValidationError(f"net {data['net']} + tax {data['tax']} is not gross {data['gross']}.", "gross")


class LineTaxEventSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    tax_rate = _rate(load_default=None, allow_none=True)


class OrderTaxEventSchema(Schema):
    """The VAT facts in the ``order`` of an order event (the orders service's ``OrderSchema``): each
    line's rate, whether prices include the tax, the country and the breakdown per rate. An order
    of an older shape (dumped before the orders service kept rates) has none of these keys: it loads
    with ``None`` for each, and lines without a rate."""

    class Meta:
        unknown = EXCLUDE

    tax_country = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    prices_include_tax = fields.Boolean(load_default=None, allow_none=True)
    shipping_tax_rate = _rate(load_default=None, allow_none=True)
    tax_breakdown = fields.List(fields.Nested(TaxRowEventSchema), load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(LineTaxEventSchema), load_default=list)


class CustomersMergedEventSchema(_Event):
    version = VERSIONS["customers_merged"]
    customer_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    into = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    customer = fields.Nested(CustomerRecordSchema, load_default=None, allow_none=True)


class PaymentStatusEventSchema(_OrderReferenceEvent):
    """``payment_status_changed``: ``sequence`` grows with every change of one order's payment."""

    version = VERSIONS["payment_status_changed"]
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    previous_status = fields.String(load_default=None, allow_none=True)
    sequence = fields.Integer(required=True, strict=False)
    actor = fields.Dict(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    payment = fields.Dict(load_default=None, allow_none=True)
    # what a payment event may carry about its order (a consumer that has no copy of it yet)
    payment_method = fields.String(load_default=None, allow_none=True)
    amount = fields.Raw(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True)
    order = fields.Dict(load_default=None, allow_none=True)


def _shown_amount(**kwargs: Any) -> fields.Decimal:
    """An amount as payments shows it ("5.00", three decimals for KWD, …), from 0 up."""
    return fields.Decimal(validate=[validate.Range(min=0, max=10**12), _at_most_places(3)], **kwargs)


class PaymentDunningEventSchema(_OrderReferenceEvent):
    """``payment_dunning_changed``: a payment reached dunning ``level``. ``fee`` is what this level
    added, ``dunning_fees`` what all levels added, ``open_amount`` what is still to pay (amount −
    received + dunning fees), all in ``currency``. ``notify``: the customer is to be reminded.
    Events written before the amounts were added carry only the level (the amounts load as None)."""

    version = VERSIONS["payment_dunning_changed"]
    level = fields.Integer(required=True, strict=False, validate=validate.OneOf((1, 2)))
    previous_level = fields.Integer(load_default=None, allow_none=True, strict=False)
    notify = fields.Boolean(load_default=False, allow_none=True)
    actor = fields.Dict(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    fee, dunning_fees, open_amount, amount, received = alike(5, _shown_amount, load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    invoice_number, language, qr_reference, creditor_reference = alike(
        4, fields.String, load_default=None, allow_none=True
    )


class DocumentIssuedEventSchema(_OrderReferenceEvent):
    """``document_issued``: a document was rendered and stored for good; ``sha256`` is of its bytes."""

    version = VERSIONS["document_issued"]
    kind = fields.String(required=True, validate=validate.Length(min=1, max=30))
    document_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    number = fields.String(load_default=None, allow_none=True)
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    # an invoice of an invoice order: the day it is to be paid by (ISO date; payments dunns after it)
    due_date = fields.Date(load_default=None, allow_none=True)
