"""What the exports service reads: the events it indexes, and jobs with the rules its own code checks
(the RPC language itself is ``oms_contracts.exports``)."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from oms_contracts.exports import JobSchema
from oms_contracts.values import ORDER_STATUSES, PAYMENT_STATUSES

from . import domain


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class CustomerRefSchema(_Lenient):
    id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    email = fields.String(required=True)
    name = fields.String(required=True)


class OrderCopySchema(_Lenient):
    """The fields of an orders event this service indexes; the whole order is kept as sent."""
    reference = fields.String(required=True, validate=validate.Length(min=1, max=40))
    version = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    invoice_number = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=60))
    status = fields.String(required=True, validate=validate.OneOf(ORDER_STATUSES))
    payment_status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    customer = fields.Nested(CustomerRefSchema, required=True)
    language = fields.String(load_default=None, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class _SourceTime(fields.DateTime):
    """A time as the orders service writes it; without an offset (its SQLite mode) it is UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        from datetime import timezone

        parsed = super()._deserialize(value, attr, data, **kwargs)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class CustomerRecordSchema(_Lenient):
    """The customer as the orders service keeps it (its events carry it next to the order)."""
    id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    email = fields.String(required=True)
    name = fields.String(required=True)
    language = fields.String(load_default=None, allow_none=True)
    merged_into = fields.Integer(load_default=None, allow_none=True, strict=False, validate=validate.Range(min=1))
    updated_at = _SourceTime(required=True)


class OrderEventSchema(_Lenient):
    event_id = fields.String(required=True)
    event_type = fields.String(load_default=None)
    order = fields.Dict(required=True)
    customer = fields.Nested(CustomerRecordSchema, load_default=None, allow_none=True)


class CustomersMergedEventSchema(_Lenient):
    event_id = fields.String(required=True)
    customer_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    into = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    customer = fields.Nested(CustomerRecordSchema, load_default=None, allow_none=True)


class PaymentStatusEventSchema(_Lenient):
    event_id = fields.String(required=True)
    order_reference = fields.String(required=True, validate=validate.Length(min=1, max=40))
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    sequence = fields.Integer(required=True, strict=False)


# ---------------------------------------------------------------- jobs: the rules behind the contract's shape

def _rule(check, exception):
    def validator(value):
        try:
            check(value)
        except exception as error:
            raise ValidationError(str(error)) from None
    return validator


class JobInputSchema(JobSchema):
    """A job as this service accepts it: the contract's shape, and a cron, time zone and target that work."""
    cron = fields.String(required=True, validate=[validate.Length(min=9, max=120),
                                                  _rule(domain.check_cron, domain.ScheduleError)])
    timezone = fields.String(load_default="UTC", validate=[validate.Length(min=1, max=64),
                                                           _rule(domain.zone, domain.ScheduleError)])
    target = fields.String(required=True, validate=[validate.Length(min=1, max=200),
                                                    _rule(domain.check_target, ValueError)])
