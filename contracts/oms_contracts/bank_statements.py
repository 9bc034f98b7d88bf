"""Wire shapes of the bank-statement RPCs (the gateway declares its routes with them)."""

from marshmallow import Schema, fields, validate

from .parts import alike, order_reference_field

OUTCOMES = ("matched", "partial", "overpaid", "unmatched", "reversed", "reversal")
LISTED_OUTCOMES = ("unmatched", "overpaid", "partial")


class AssignSchema(Schema):
    order_reference = order_reference_field(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class UnmatchedQuerySchema(Schema):
    outcome = fields.String(load_default="unmatched", validate=validate.OneOf(LISTED_OUTCOMES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    before_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


class ReferenceQuerySchema(Schema):
    reference = fields.String(required=True, validate=validate.Length(min=1, max=60))


class EntrySchema(Schema):
    id, import_id = alike(2, fields.Integer)
    entry_reference = fields.String()
    booking_date = fields.Date(allow_none=True)
    reversal = fields.Boolean()
    amount, currency = alike(2, fields.String)
    payment_reference, remittance_text, debtor_name = alike(3, fields.String, allow_none=True)
    outcome = fields.String()
    order_reference, reason, assigned_by = alike(3, fields.String, allow_none=True)
    assigned_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class ReportEntrySchema(Schema):
    # outcome: matched | partial | overpaid | unmatched | reversal | duplicate | ignored
    entry_reference, outcome, amount, currency = alike(4, fields.String)
    order_reference, reason = alike(2, fields.String, allow_none=True)


class CountsSchema(Schema):
    matched = fields.Integer()
    # named apart from Schema.partial; on the wire and in the answer it is "partial"
    partial_count = fields.Integer(data_key="partial", attribute="partial")
    overpaid, unmatched, reversals, duplicates, ignored = alike(5, fields.Integer)


class ReportSchema(Schema):
    id = fields.Integer()
    document = fields.String()
    message_id = fields.String(allow_none=True)
    sha256 = fields.String()
    received_at = fields.DateTime()
    actor = fields.String()
    changed = fields.Boolean()  # false: the whole file had been imported already
    counts = fields.Nested(CountsSchema)
    entries = fields.List(fields.Nested(ReportEntrySchema))


class PaymentReferencesSchema(Schema):
    order_reference = fields.String()
    qr_reference, creditor_reference = alike(2, fields.String, allow_none=True)
