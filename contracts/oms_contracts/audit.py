"""An audit entry as every service answers it: when, who (name, kind, origin), what, from and to."""

from marshmallow import Schema, fields


class AuditEntrySchema(Schema):
    at = fields.DateTime()
    actor = fields.String()
    actor_kind = fields.String()
    origin = fields.String()
    action = fields.String()
    from_status = fields.String(data_key="from", allow_none=True)
    to_status = fields.String(data_key="to", allow_none=True)
    reason = fields.String(allow_none=True)
