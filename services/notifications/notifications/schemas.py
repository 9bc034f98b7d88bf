"""Wire schemas: the mail log this service answers with (the events it reads are ``oms_contracts.events``)."""

from marshmallow import Schema, fields

from oms_contracts.parts import order_reference_field


class MailLogSchema(Schema):
    """One line of an order's mail log (RPC ``mails_for_order`` / ``failed_mails``)."""

    event_id = fields.String()
    event_type = fields.String()
    order_reference = fields.String()
    kind = fields.String()
    language = fields.String()
    recipient = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    error = fields.String(attribute="last_error", allow_none=True)
    message_id = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.Method("_next_attempt")
    # "invoice" when the mail is to carry the order's invoice; the file it carried once sent
    attachment = fields.String(allow_none=True)
    attachment_name = fields.String(allow_none=True)

    def _next_attempt(self, mail):
        if mail.status != "queued" or mail.next_attempt_at is None:
            return None
        return mail.next_attempt_at.isoformat()


class ReferenceSchema(Schema):
    reference = order_reference_field(required=True)
