"""What the exports service reads beyond the contracts: the part of an order event it indexes, and jobs
with the rules its own code checks (the RPC language is ``oms_contracts.exports``, the events
``oms_contracts.events``)."""

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

    cron = fields.String(
        required=True, validate=[validate.Length(min=9, max=120), _rule(domain.check_cron, domain.ScheduleError)]
    )
    timezone = fields.String(
        load_default="UTC", validate=[validate.Length(min=1, max=64), _rule(domain.zone, domain.ScheduleError)]
    )
    target = fields.String(
        required=True, validate=[validate.Length(min=1, max=200), _rule(domain.check_target, ValueError)]
    )
