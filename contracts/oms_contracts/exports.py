"""The exports service's RPC language: export filters and downloads, scheduled jobs and their runs.

The service adds the rules that need its own code (a job's cron, time zone and target are checked there).
"""

from typing import Any, Final

from marshmallow import Schema, fields, validate

from oms_common.fields import StrictSchema, UtcDateTime, no_control

from .parts import CreatedPeriod, alike, page_field, page_size_field
from .values import ORDER_STATUSES, PAYMENT_STATUSES

EXPORT_KINDS: Final = ("orders", "customers")
EXPORT_FORMATS: Final = ("xml", "csv")
# versions of the export format (XSD and CSV columns); 1 stays the default, so no integration changes
# unasked. 2 adds each line's VAT rate and the order's breakdown per rate.
SCHEMA_VERSIONS: Final = (1, 2)
DEFAULT_SCHEMA_VERSION: Final = 1


MAX_REFERENCES: Final = 1000


class OrderFilterSchema(CreatedPeriod, StrictSchema):
    """The order list's filters (api.md), as a job stores them."""

    status = fields.List(fields.String(validate=validate.OneOf(ORDER_STATUSES)), load_default=list)
    payment_status = fields.List(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)), load_default=list)
    q = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=60), no_control])
    customer_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    created_from = UtcDateTime(load_default=None, allow_none=True)
    created_to = UtcDateTime(load_default=None, allow_none=True)
    # the orders picked in a list: at most MAX_REFERENCES, refused above (never cut short)
    reference = fields.List(
        fields.String(validate=[validate.Length(min=1, max=40), no_control]),
        load_default=list,
        validate=validate.Length(
            max=MAX_REFERENCES,
            error=f"At most {MAX_REFERENCES} references; export by filters or through an export job.",
        ),
    )


class CustomerFilterSchema(StrictSchema):
    q = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=100), no_control])


def schema_version_field(strict: bool = False) -> fields.Integer:
    """``schema_version``: 1 (default) or 2; strict in JSON bodies, a query string's text elsewhere."""
    error = "Use 1 or 2 (2 adds the VAT rates and the tax breakdown)."
    return fields.Integer(
        load_default=DEFAULT_SCHEMA_VERSION,
        strict=strict,
        validate=validate.OneOf(SCHEMA_VERSIONS, error=error),
        error_messages={"invalid": error, "null": error},
    )


def _changed_since() -> UtcDateTime:
    return UtcDateTime(load_default=None, allow_none=True)


def _since_seq() -> fields.Integer:
    return fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))


class OrderExportQuerySchema(OrderFilterSchema):
    """A download: the filters plus ``changed_since`` (time) or ``since_seq`` (the
    ``watermark`` of an earlier export: exact, nothing twice, nothing missed)."""

    changed_since = _changed_since()
    since_seq = _since_seq()
    schema_version = schema_version_field()


class CustomerExportQuerySchema(CustomerFilterSchema):
    changed_since = _changed_since()
    since_seq = _since_seq()
    schema_version = schema_version_field()


class SchemaQuerySchema(StrictSchema):
    """``GET …/schema.xsd``: which version's XSD."""

    schema_version = schema_version_field()


FILTER_SCHEMAS = {"orders": OrderFilterSchema, "customers": CustomerFilterSchema}
QUERY_SCHEMAS = {"orders": OrderExportQuerySchema, "customers": CustomerExportQuerySchema}


def dump_filters(kind: str, filters: dict[str, Any]) -> dict[str, Any]:
    """Loaded filters as plain JSON (for the job row and RPC results)."""
    result = {}
    for key, value in filters.items():
        if value in (None, [], ""):
            continue
        result[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return result


# ---------------------------------------------------------------- jobs and runs


class JobSchema(StrictSchema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), no_control])
    cron = fields.String(required=True, validate=validate.Length(min=9, max=120))
    timezone = fields.String(load_default="UTC", validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf(EXPORT_KINDS))
    format = fields.String(required=True, validate=validate.OneOf(EXPORT_FORMATS))
    filters = fields.Dict(load_default=dict)
    target = fields.String(required=True, validate=validate.Length(min=1, max=200))
    incremental = fields.Boolean(load_default=False)
    enabled = fields.Boolean(load_default=True)
    schema_version = schema_version_field(strict=True)
    version = fields.Integer(strict=True)


class RunQuerySchema(StrictSchema):
    job_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    status = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(("running", "succeeded", "failed"))
    )
    page = page_field()
    page_size = page_size_field()


class JobOut(Schema):
    id = fields.Integer()
    name, cron, timezone, kind, format = alike(5, fields.String)
    filters = fields.Dict()
    target = fields.String()
    incremental, enabled = alike(2, fields.Boolean)
    schema_version = fields.Integer()
    next_run_at = fields.DateTime()
    watermark, version = alike(2, fields.Integer)
    created_at, updated_at = alike(2, fields.DateTime)
    created_by = fields.String(allow_none=True)


class RunOut(Schema):
    id = fields.Integer()
    job_id = fields.Integer(allow_none=True)
    job = fields.String(attribute="job_name")
    due_at, started_at = alike(2, fields.DateTime)
    finished_at = fields.DateTime(allow_none=True)
    status = fields.String()
    rows = fields.Integer(allow_none=True)
    file = fields.String(allow_none=True)
    bytes, duration_ms = alike(2, fields.Integer, allow_none=True)
    error = fields.String(allow_none=True)
    watermark_from, watermark_to = alike(2, fields.Integer, allow_none=True)
    replica = fields.String(allow_none=True)
