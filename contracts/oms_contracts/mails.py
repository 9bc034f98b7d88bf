"""The mail log on the wire: one line per mail of an order, as notifications answers it and the
gateway documents it (an order's e-mails, the failed ones, a retried one)."""

from marshmallow import Schema, fields

from .parts import alike


class MailLogSchema(Schema):
    event_id, event_type, order_reference, kind, language, recipient, subject, status = alike(8, fields.String)
    attempts = fields.Integer()
    error = fields.String(allow_none=True)
    message_id = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "when a queued mail is tried again"})
    attachment = fields.String(allow_none=True, metadata={"description": "'invoice': the mail carries the invoice"})
    attachment_name = fields.String(allow_none=True, metadata={"description": "the file it went out with"})
