"""An audit entry as every service answers it: when, who (name, kind, origin), what, from and to."""

from marshmallow import Schema, fields

from .parts import alike


class AuditEntrySchema(Schema):
    at = fields.DateTime()
    actor, actor_kind, origin, action = alike(4, fields.String)
    from_status = fields.String(data_key="from", allow_none=True)
    to_status = fields.String(data_key="to", allow_none=True)
    reason = fields.String(allow_none=True)
