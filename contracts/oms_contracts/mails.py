"""The mail log on the wire: one line per mail of an order, as notifications answers it and the
gateway documents it (an order's e-mails, the failed ones, a retried one)."""

from marshmallow import Schema, fields


class MailLogSchema(Schema):
    event_id = fields.String()
    event_type = fields.String()
    order_reference = fields.String()
    kind = fields.String()
    language = fields.String()
    recipient = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    error = fields.String(allow_none=True)
    message_id = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True, metadata={"description": "when a queued mail is tried again"})
    attachment = fields.String(allow_none=True, metadata={"description": "'invoice': the mail carries the invoice"})
    attachment_name = fields.String(allow_none=True, metadata={"description": "the file it went out with"})
