"""The payments service's tables (its own schema; no other service reads them)."""

import sqlalchemy as sa
from sqlalchemy.orm import relationship

from oms_common.audit_entries import audit_entry_columns
from oms_common.declarative import Id, Reference, schema_base

Money = sa.Numeric(15, 3)  # three decimals: KWD, BHD, … are kept exactly (see currencies.py)
Base, infrastructure = schema_base()


class Payment(Base):
    """One per order: what is owed, how it is paid, where the PSP stands."""

    __tablename__ = "payments"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    order_reference = sa.Column(Reference, nullable=False, unique=True)
    method = sa.Column(sa.String(30), nullable=False)
    provider = sa.Column(sa.String(20), nullable=False)
    status = sa.Column(sa.String(20), nullable=False)
    currency = sa.Column(sa.String(3), nullable=False)
    amount = sa.Column(Money, nullable=False)
    captured_amount = sa.Column(Money, nullable=False, default=0)
    refunded_amount = sa.Column(Money, nullable=False, default=0)
    psp_reference = sa.Column(sa.String(120))  # Stripe PaymentIntent id / PayPal order id
    psp_capture_id = sa.Column(sa.String(120))  # PayPal capture id (what refunds address)
    psp_authorization_id = sa.Column(sa.String(120))  # PayPal authorization id (what a void addresses)
    psp_charge_id = sa.Column(sa.String(120))  # Stripe charge id (legacy charges and refunds name only it)
    psp_capture_status = sa.Column(sa.String(40))  # a capture the PSP holds or refused (PENDING, DECLINED, refused)
    dispute_id = sa.Column(sa.String(120))
    dispute_status = sa.Column(sa.String(40))  # Stripe's dispute status (needs_response, …, won, lost)
    dispute_amount = sa.Column(Money)
    dispute_reason = sa.Column(sa.String(120))
    dispute_evidence_due_by = sa.Column(sa.DateTime(timezone=True))
    status_before_dispute = sa.Column(sa.String(20))
    capture_mode = sa.Column(sa.String(10))  # checkout | on_ship, as the PSP payment was opened
    authorized_at = sa.Column(sa.DateTime(timezone=True))
    authorization_expires_at = sa.Column(sa.DateTime(timezone=True))
    authorization_expired_at = sa.Column(sa.DateTime(timezone=True))  # flagged for staff by reconciliation
    completed_by_hand_reference = sa.Column(sa.String(120))
    order_status = sa.Column(sa.String(20))
    dunning_level = sa.Column(sa.SmallInteger, nullable=False, default=0)
    dunning_fees = sa.Column(Money, nullable=False, default=0)  # what the reminders added to the amount owed
    dunning_level_at = sa.Column(sa.DateTime(timezone=True))  # when the current dunning level was reached
    due_date = sa.Column(sa.Date)  # the invoice's due date (its document_issued tells it)
    sequence = sa.Column(sa.BigInteger, nullable=False, default=0)  # last payment_status_changed sent
    failure_reason = sa.Column(sa.Text)
    reconcile_after = sa.Column(sa.DateTime(timezone=True))  # lease / next check of a stuck payment
    reconcile_checks = sa.Column(sa.Integer, nullable=False, default=0)
    last_psp_status = sa.Column(sa.String(40))
    # what a bank transfer names the order by (see oms_common.payment_references)
    qr_reference = sa.Column(sa.String(27))
    creditor_reference = sa.Column(sa.String(25))
    overpaid_amount = sa.Column(Money)  # received by bank transfer beyond the amount: flagged for staff
    version = sa.Column(sa.Integer, nullable=False, default=1)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    status_changed_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    refunds = relationship("Refund", order_by="Refund.id", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (
        sa.Index("ix_payments_status_created", "status", "created_at"),
        sa.Index("ix_payments_psp_reference", "psp_reference"),
        sa.Index("ix_payments_psp_capture", "psp_capture_id"),
        sa.Index("ix_payments_psp_charge", "psp_charge_id"),
        sa.Index("ix_payments_qr_reference", "qr_reference"),
        sa.Index("ix_payments_creditor_reference", "creditor_reference"),
        sa.Index(
            "ix_payments_dunning_due",
            "due_date",
            postgresql_where=sa.text("provider = 'manual' AND status IN ('unpaid', 'announced') AND dunning_level < 2"),
        ),
    )


class Refund(Base):
    __tablename__ = "payment_refunds"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    payment_id = sa.Column(Id, sa.ForeignKey("payments.id", ondelete="CASCADE"), nullable=False)
    psp_refund_id = sa.Column(sa.String(120))
    kind = sa.Column(sa.String(10), nullable=False)  # refund | void | dispute (a dispute lost)
    amount = sa.Column(Money, nullable=False)
    status = sa.Column(
        sa.String(20), nullable=False
    )  # succeeded counts; pending is shown; failed/canceled gave it back
    failure_reason = sa.Column(sa.Text)
    reason = sa.Column(sa.Text)
    actor = sa.Column(sa.String(120), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (sa.UniqueConstraint("payment_id", "psp_refund_id", name="uq_payment_refunds_psp"),)


class PaymentAudit(Base):
    """Every change and every ignored PSP event, with who, from where and why."""

    __table__ = sa.Table(
        "payment_audit",
        Base.metadata,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("order_reference", Reference, nullable=False),
        *audit_entry_columns(),
        sa.Column("details", sa.JSON),
        sa.Index("ix_payment_audit_order", "order_reference", "id"),
    )


class WebhookInbox(Base):
    """PSP events as received (after the signature check), one row per provider event."""

    __tablename__ = "webhook_inbox"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    provider = sa.Column(sa.String(20), nullable=False)
    provider_event_id = sa.Column(sa.String(120), nullable=False)
    event_type = sa.Column(sa.String(120), nullable=False)
    order_reference = sa.Column(Reference)
    psp_reference = sa.Column(sa.String(120))
    body = sa.Column(sa.Text, nullable=False)  # the raw body, exactly as signed
    # received → applied | ignored | waiting (order not known yet) | failed (after retries; replayable)
    #          | flagged (about a payment of ours, but its intent, amount or currency does not fit)
    #          | unmatched (names nothing OMS knows)
    status = sa.Column(sa.String(20), nullable=False)
    amount = sa.Column(Money)  # what the event says, for the staff list
    currency = sa.Column(sa.String(3))
    note = sa.Column(sa.Text)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    next_attempt_at = sa.Column(sa.DateTime(timezone=True))
    received_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    processed_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_event_id", name="uq_webhook_inbox_event"),
        sa.Index("ix_webhook_inbox_pending", "id", postgresql_where=sa.text("status = 'received'")),
        sa.Index("ix_webhook_inbox_status", "status", "id"),
        sa.Index("ix_webhook_inbox_order", "order_reference", "status"),
    )


class BankStatementImport(Base):
    """One camt file as imported, with the report answered for it."""

    __tablename__ = "bank_statement_imports"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    received_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    actor = sa.Column(sa.String(120), nullable=False)
    document = sa.Column(sa.String(40), nullable=False)  # e.g. camt.054.001.08
    message_id = sa.Column(sa.String(120))  # GrpHdr/MsgId
    sha256 = sa.Column(sa.String(64), nullable=False)
    report = sa.Column(sa.JSON, nullable=False)


class BankStatementEntry(Base):
    """One credit (or reversal) of a statement, at most once: ``entry_key`` is unique."""

    __tablename__ = "bank_statement_entries"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    import_id = sa.Column(Id, sa.ForeignKey("bank_statement_imports.id", ondelete="CASCADE"), nullable=False)
    entry_key = sa.Column(sa.String(200), nullable=False)  # account servicer reference (+ detail), or a hash
    entry_reference = sa.Column(sa.String(200), nullable=False)  # as shown to staff and written to the audit
    booking_date = sa.Column(sa.Date)
    reversal = sa.Column(sa.Boolean, nullable=False, default=False)
    amount = sa.Column(Money, nullable=False)
    currency = sa.Column(sa.String(3), nullable=False)
    payment_reference = sa.Column(sa.String(40))  # QRR / SCOR as the file gives it
    remittance_text = sa.Column(sa.Text)
    debtor_name = sa.Column(sa.String(140))
    # matched | partial | overpaid | unmatched | reversed (undone by a later reversal) | reversal
    outcome = sa.Column(sa.String(20), nullable=False)
    order_reference = sa.Column(Reference)
    reason = sa.Column(sa.Text)
    reverses_id = sa.Column(Id)  # the credit a reversal undid
    assigned_by = sa.Column(sa.String(120))
    assigned_at = sa.Column(sa.DateTime(timezone=True))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (
        sa.UniqueConstraint("entry_key", name="uq_bank_statement_entries_key"),
        sa.Index("ix_bank_statement_entries_outcome", "outcome", "id"),
        sa.Index("ix_bank_statement_entries_order", "order_reference", "id"),
        sa.Index("ix_bank_statement_entries_import", "import_id", "id"),
    )


metadata = Base.metadata
