"""The payments service's RPC language: what staff and the gateway send, what they get back."""

from typing import Final

from marshmallow import Schema, fields, validate

from oms_common.fields import StrictSchema, text
from oms_contracts.audit import AuditEntrySchema
from oms_contracts.parts import alike, identifier

MAX_AMOUNT: Final = 10**9
# the statuses staff set by hand on an invoice or prepayment order (S13)
MANUAL_STATUSES: Final = ("unpaid", "announced", "paid")


class ManualStatusSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(MANUAL_STATUSES))
    note = text(1000, required=False, multiline=True, load_default=None, allow_none=True)


class RefundSchema(StrictSchema):
    amount = fields.Decimal(
        places=2,
        allow_nan=False,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, min_inclusive=False, max=MAX_AMOUNT, error="Must be more than 0."),
    )
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)


class DunningSchema(StrictSchema):
    level = fields.Integer(required=True, strict=True, validate=validate.OneOf((1, 2), error="Level is 1 or 2."))
    notify = fields.Boolean(load_default=True)
    reason = text(1000, required=False, multiline=True, load_default=None, allow_none=True)


class CompleteSchema(StrictSchema):
    psp_reference = identifier(120, punctuation="_.:/-")
    reason = text(1000, multiline=True)


class StuckQuerySchema(StrictSchema):
    older_than_seconds = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class InboxQuerySchema(StrictSchema):
    status = fields.List(
        fields.String(
            validate=validate.OneOf(("received", "applied", "ignored", "waiting", "failed", "flagged", "unmatched"))
        ),
        load_default=list,
    )
    provider = fields.String(load_default=None, validate=validate.OneOf(("stripe", "paypal")))
    order_reference = fields.String(load_default=None, validate=validate.Length(max=40))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


# ---------------------------------------------------------------- output


class RefundOutSchema(Schema):
    kind = fields.String()
    amount = fields.Decimal(as_string=True)  # two decimals, three for three-decimal currencies
    status = fields.String()
    failure_reason, psp_refund_id, reason = alike(3, fields.String, allow_none=True)
    actor = fields.String()
    created_at = fields.DateTime()


class PaymentSchema(Schema):
    order_reference, method, provider, status, currency = alike(5, fields.String)
    # amounts: two decimals, three for three-decimal currencies (KWD, BHD, JOD, OMR, TND)
    amount, captured_amount, refunded_amount, refundable_amount, pending_refund_amount = alike(
        5, fields.Decimal, as_string=True
    )
    psp_reference, psp_capture_id, psp_charge_id, psp_capture_status = alike(4, fields.String, allow_none=True)
    disputed = fields.Boolean()
    dispute_id, dispute_status = alike(2, fields.String, allow_none=True)
    dispute_amount = fields.Decimal(as_string=True, allow_none=True)
    dispute_reason = fields.String(allow_none=True)
    dispute_evidence_due_by = fields.DateTime(allow_none=True)
    flagged_events = fields.List(fields.Dict())
    capture_mode = fields.String(allow_none=True)
    authorized_at, authorization_expires_at = alike(2, fields.DateTime, allow_none=True)
    authorization_expired = fields.Boolean()
    authorization_expired_at = fields.DateTime(allow_none=True)
    completed_by_hand_reference, order_status = alike(2, fields.String, allow_none=True)
    dunning_level = fields.Integer()
    # what the reminders added to the amount owed, and what is still to pay (amount − paid + fees)
    dunning_fees, open_amount = alike(2, fields.Decimal, as_string=True)
    due_date = fields.Date(allow_none=True)  # the invoice's, as documents issued it (automatic dunning)
    failure_reason = fields.String(allow_none=True)
    # what a bank transfer names the order by, and what bank credits left open or paid too much
    qr_reference, creditor_reference = alike(2, fields.String, allow_none=True)
    overpaid_amount = fields.Decimal(as_string=True, allow_none=True)
    refunds = fields.List(fields.Nested(RefundOutSchema))
    capabilities = fields.List(fields.String())
    allowed_operations = fields.List(fields.String())
    # operations the state would allow but the provider's configuration does not, with why
    operations_unavailable = fields.Dict(keys=fields.String(), values=fields.String())
    sequence, version = alike(2, fields.Integer)
    created_at, updated_at, status_changed_at = alike(3, fields.DateTime)


class AuditSchema(AuditEntrySchema):
    details = fields.Raw(allow_none=True)


class InboxSchema(Schema):
    id = fields.Integer()
    provider, provider_event_id, event_type = alike(3, fields.String)
    order_reference, psp_reference = alike(2, fields.String, allow_none=True)
    status = fields.String()
    note = fields.String(allow_none=True)
    amount = fields.Decimal(as_string=True, allow_none=True)
    currency = fields.String(allow_none=True)
    attempts = fields.Integer()
    received_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)
