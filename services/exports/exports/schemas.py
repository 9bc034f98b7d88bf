"""Wire schemas of the exports service: incoming events, export filters, jobs, runs."""
import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from oms_common.fields import StrictSchema, UtcDateTime, no_control
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


# ---------------------------------------------------------------- export filters


def _whole_days(data):
    data = dict(data)
    for key, suffix in (("created_from", "T00:00:00+00:00"), ("created_to", "T23:59:59.999999+00:00")):
        value = data.get(key)
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            data[key] = value + suffix
    return data


MAX_REFERENCES = 1000


class OrderFilterSchema(StrictSchema):
    """The order list's filters (api.md), as a job stores them."""
    status = fields.List(fields.String(validate=validate.OneOf(ORDER_STATUSES)), load_default=list)
    payment_status = fields.List(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)), load_default=list)
    q = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=60), no_control])
    customer_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    created_from = UtcDateTime(load_default=None, allow_none=True)
    created_to = UtcDateTime(load_default=None, allow_none=True)
    # the orders picked in a list: at most MAX_REFERENCES, refused above (never cut short)
    reference = fields.List(fields.String(validate=[validate.Length(min=1, max=40), no_control]), load_default=list,
                            validate=validate.Length(max=MAX_REFERENCES,
                                                     error=f"At most {MAX_REFERENCES} references; "
                                                           "export by filters or through an export job."))

    @pre_load
    def _dates(self, data, **kwargs):
        return _whole_days(data)

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("created_from") and data.get("created_to") and data["created_from"] > data["created_to"]:
            raise ValidationError("created_from is after created_to.", "created_from")


class CustomerFilterSchema(StrictSchema):
    q = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=100), no_control])


def _changed_since():
    return UtcDateTime(load_default=None, allow_none=True)


def _since_seq():
    return fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))


class OrderExportQuerySchema(OrderFilterSchema):
    """A download: the filters plus ``changed_since`` (time) or ``since_seq`` (the
    ``watermark`` of an earlier export: exact, nothing twice, nothing missed)."""
    changed_since = _changed_since()
    since_seq = _since_seq()


class CustomerExportQuerySchema(CustomerFilterSchema):
    changed_since = _changed_since()
    since_seq = _since_seq()


FILTER_SCHEMAS = {"orders": OrderFilterSchema, "customers": CustomerFilterSchema}
QUERY_SCHEMAS = {"orders": OrderExportQuerySchema, "customers": CustomerExportQuerySchema}


def dump_filters(kind, filters):
    """Loaded filters as plain JSON (for the job row and RPC results)."""
    result = {}
    for key, value in filters.items():
        if value in (None, [], ""):
            continue
        result[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return result


# ---------------------------------------------------------------- jobs and runs

def _rule(check, exception):
    def validator(value):
        try:
            check(value)
        except exception as error:
            raise ValidationError(str(error)) from None
    return validator


class JobSchema(StrictSchema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), no_control])
    cron = fields.String(required=True, validate=[validate.Length(min=9, max=120),
                                                  _rule(domain.check_cron, domain.ScheduleError)])
    timezone = fields.String(load_default="UTC", validate=[validate.Length(min=1, max=64),
                                                           _rule(domain.zone, domain.ScheduleError)])
    kind = fields.String(required=True, validate=validate.OneOf(domain.KINDS))
    format = fields.String(required=True, validate=validate.OneOf(domain.FORMATS))
    filters = fields.Dict(load_default=dict)
    target = fields.String(required=True, validate=[validate.Length(min=1, max=200),
                                                    _rule(domain.check_target, ValueError)])
    incremental = fields.Boolean(load_default=False)
    enabled = fields.Boolean(load_default=True)
    version = fields.Integer(strict=True)


class RunQuerySchema(StrictSchema):
    job_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(("running", "succeeded", "failed")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**7))
    page_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))


class JobOut(Schema):
    id = fields.Integer()
    name = fields.String()
    cron = fields.String()
    timezone = fields.String()
    kind = fields.String()
    format = fields.String()
    filters = fields.Dict()
    target = fields.String()
    incremental = fields.Boolean()
    enabled = fields.Boolean()
    next_run_at = fields.DateTime()
    watermark = fields.Integer()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    created_by = fields.String(allow_none=True)


class RunOut(Schema):
    id = fields.Integer()
    job_id = fields.Integer(allow_none=True)
    job = fields.String(attribute="job_name")
    due_at = fields.DateTime()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    status = fields.String()
    rows = fields.Integer(allow_none=True)
    file = fields.String(allow_none=True)
    bytes = fields.Integer(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    watermark_from = fields.Integer(allow_none=True)
    watermark_to = fields.Integer(allow_none=True)
    replica = fields.String(allow_none=True)
