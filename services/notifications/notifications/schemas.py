"""Wire schemas: the mail log this service answers with (the events it reads are ``oms_contracts.events``)."""

from marshmallow import Schema, fields

from oms_contracts import mails as wire
from oms_contracts.parts import order_reference_field


class MailLogSchema(wire.MailLogSchema):
    """One line of an order's mail log (RPC ``mails_for_order`` / ``failed_mails``), dumped from
    a stored mail."""

    error = fields.String(attribute="last_error", allow_none=True)
    next_attempt_at = fields.Method("_next_attempt")

    def _next_attempt(self, mail):
        if mail.status != "queued" or mail.next_attempt_at is None:
            return None
        return mail.next_attempt_at.isoformat()


class ReferenceSchema(Schema):
    reference = order_reference_field(required=True)
