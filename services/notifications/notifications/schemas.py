"""Wire schemas: the events this service consumes and the mail log it answers with."""
from marshmallow import EXCLUDE, Schema, fields, validate


class LenientSchema(Schema):
    """Events are the producer's contract; fields we do not use are ignored, not refused."""
    class Meta:
        unknown = EXCLUDE


class OrderEventSchema(LenientSchema):
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    event_type = fields.String(load_default=None, allow_none=True)
    occurred_at = fields.String(load_default=None, allow_none=True)
    order = fields.Dict(required=True)
    actor = fields.Dict(load_default=None, allow_none=True)
    from_status = fields.String(load_default=None, allow_none=True)
    to_status = fields.String(load_default=None, allow_none=True)
    notify = fields.Boolean(load_default=False, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    tracking_number = fields.String(load_default=None, allow_none=True)


class PaymentEventSchema(LenientSchema):
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    event_type = fields.String(load_default=None, allow_none=True)
    occurred_at = fields.String(load_default=None, allow_none=True)
    order_reference = fields.String(required=True, validate=validate.Length(min=1, max=40))
    status = fields.String(required=True)
    sequence = fields.Integer(load_default=None, allow_none=True)
    payment_method = fields.String(load_default=None, allow_none=True)
    amount = fields.Raw(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True)
    order = fields.Dict(load_default=None, allow_none=True)
    payment = fields.Dict(load_default=None, allow_none=True)


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

    def _next_attempt(self, mail):
        if mail.status != "queued" or mail.next_attempt_at is None:
            return None
        return mail.next_attempt_at.isoformat()


class ReferenceSchema(Schema):
    reference = fields.String(required=True, validate=validate.Length(min=1, max=40))
