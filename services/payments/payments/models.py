"""The payments service's tables (its own schema; no other service reads them)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

from oms_common.audit_entries import audit_entry_columns
from oms_common.declarative import Id, schema_base

Money = Numeric(15, 3)  # three decimals: KWD, BHD, … are kept exactly (see currencies.py)
Base, infrastructure = schema_base()


class Payment(Base):
    """One per order: what is owed, how it is paid, where the PSP stands."""

    __tablename__ = "payments"
    id = Column(Id, primary_key=True, autoincrement=True)
    order_reference = Column(String(40), nullable=False, unique=True)
    method = Column(String(30), nullable=False)
    provider = Column(String(20), nullable=False)
    status = Column(String(20), nullable=False)
    currency = Column(String(3), nullable=False)
    amount = Column(Money, nullable=False)
    captured_amount = Column(Money, nullable=False, default=0)
    refunded_amount = Column(Money, nullable=False, default=0)
    psp_reference = Column(String(120))  # Stripe PaymentIntent id / PayPal order id
    psp_capture_id = Column(String(120))  # PayPal capture id (what refunds address)
    psp_authorization_id = Column(String(120))  # PayPal authorization id (what a void addresses)
    psp_charge_id = Column(String(120))  # Stripe charge id (legacy charges and refunds name only it)
    psp_capture_status = Column(String(40))  # a capture the PSP holds or refused (PENDING, DECLINED, refused)
    dispute_id = Column(String(120))
    dispute_status = Column(String(40))  # Stripe's dispute status (needs_response, …, won, lost)
    dispute_amount = Column(Money)
    dispute_reason = Column(String(120))
    dispute_evidence_due_by = Column(DateTime(timezone=True))
    status_before_dispute = Column(String(20))
    capture_mode = Column(String(10))  # checkout | on_ship, as the PSP payment was opened
    authorized_at = Column(DateTime(timezone=True))
    authorization_expires_at = Column(DateTime(timezone=True))
    authorization_expired_at = Column(DateTime(timezone=True))  # flagged for staff by reconciliation
    completed_by_hand_reference = Column(String(120))
    order_status = Column(String(20))
    dunning_level = Column(SmallInteger, nullable=False, default=0)
    dunning_fees = Column(Money, nullable=False, default=0)  # what the reminders added to the amount owed
    dunning_level_at = Column(DateTime(timezone=True))  # when the current dunning level was reached
    due_date = Column(Date)  # the invoice's due date (its document_issued tells it)
    sequence = Column(BigInteger, nullable=False, default=0)  # last payment_status_changed sent
    failure_reason = Column(Text)
    reconcile_after = Column(DateTime(timezone=True))  # lease / next check of a stuck payment
    reconcile_checks = Column(Integer, nullable=False, default=0)
    last_psp_status = Column(String(40))
    # what a bank transfer names the order by (see oms_common.payment_references)
    qr_reference = Column(String(27))
    creditor_reference = Column(String(25))
    overpaid_amount = Column(Money)  # received by bank transfer beyond the amount: flagged for staff
    version = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    status_changed_at = Column(DateTime(timezone=True), nullable=False)

    refunds = relationship("Refund", order_by="Refund.id", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (
        Index("ix_payments_status_created", "status", "created_at"),
        Index("ix_payments_psp_reference", "psp_reference"),
        Index("ix_payments_psp_capture", "psp_capture_id"),
        Index("ix_payments_psp_charge", "psp_charge_id"),
        Index("ix_payments_qr_reference", "qr_reference"),
        Index("ix_payments_creditor_reference", "creditor_reference"),
        Index(
            "ix_payments_dunning_due",
            "due_date",
            postgresql_where=text("provider = 'manual' AND status IN ('unpaid', 'announced') AND dunning_level < 2"),
        ),
    )


class Refund(Base):
    __tablename__ = "payment_refunds"
    id = Column(Id, primary_key=True, autoincrement=True)
    payment_id = Column(Id, ForeignKey("payments.id", ondelete="CASCADE"), nullable=False)
    psp_refund_id = Column(String(120))
    kind = Column(String(10), nullable=False)  # refund | void | dispute (a dispute lost)
    amount = Column(Money, nullable=False)
    status = Column(String(20), nullable=False)  # succeeded counts; pending is shown; failed/canceled gave it back
    failure_reason = Column(Text)
    reason = Column(Text)
    actor = Column(String(120), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)

    __table_args__ = (UniqueConstraint("payment_id", "psp_refund_id", name="uq_payment_refunds_psp"),)


class PaymentAudit(Base):
    """Every change and every ignored PSP event, with who, from where and why."""

    __table__ = Table(
        "payment_audit",
        Base.metadata,
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("order_reference", String(40), nullable=False),
        *audit_entry_columns(),
        Column("details", JSON),
        Index("ix_payment_audit_order", "order_reference", "id"),
    )


class WebhookInbox(Base):
    """PSP events as received (after the signature check), one row per provider event."""

    __tablename__ = "webhook_inbox"
    id = Column(Id, primary_key=True, autoincrement=True)
    provider = Column(String(20), nullable=False)
    provider_event_id = Column(String(120), nullable=False)
    event_type = Column(String(120), nullable=False)
    order_reference = Column(String(40))
    psp_reference = Column(String(120))
    body = Column(Text, nullable=False)  # the raw body, exactly as signed
    # received → applied | ignored | waiting (order not known yet) | failed (after retries; replayable)
    #          | flagged (about a payment of ours, but its intent, amount or currency does not fit)
    #          | unmatched (names nothing OMS knows)
    status = Column(String(20), nullable=False)
    amount = Column(Money)  # what the event says, for the staff list
    currency = Column(String(3))
    note = Column(Text)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True))
    received_at = Column(DateTime(timezone=True), nullable=False)
    processed_at = Column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("provider", "provider_event_id", name="uq_webhook_inbox_event"),
        Index("ix_webhook_inbox_pending", "id", postgresql_where=text("status = 'received'")),
        Index("ix_webhook_inbox_status", "status", "id"),
        Index("ix_webhook_inbox_order", "order_reference", "status"),
    )


class BankStatementImport(Base):
    """One camt file as imported, with the report answered for it."""

    __tablename__ = "bank_statement_imports"
    id = Column(Id, primary_key=True, autoincrement=True)
    received_at = Column(DateTime(timezone=True), nullable=False)
    actor = Column(String(120), nullable=False)
    document = Column(String(40), nullable=False)  # e.g. camt.054.001.08
    message_id = Column(String(120))  # GrpHdr/MsgId
    sha256 = Column(String(64), nullable=False)
    report = Column(JSON, nullable=False)


class BankStatementEntry(Base):
    """One credit (or reversal) of a statement, at most once: ``entry_key`` is unique."""

    __tablename__ = "bank_statement_entries"
    id = Column(Id, primary_key=True, autoincrement=True)
    import_id = Column(Id, ForeignKey("bank_statement_imports.id", ondelete="CASCADE"), nullable=False)
    entry_key = Column(String(200), nullable=False)  # account servicer reference (+ detail), or a hash
    entry_reference = Column(String(200), nullable=False)  # as shown to staff and written to the audit
    booking_date = Column(Date)
    reversal = Column(Boolean, nullable=False, default=False)
    amount = Column(Money, nullable=False)
    currency = Column(String(3), nullable=False)
    payment_reference = Column(String(40))  # QRR / SCOR as the file gives it
    remittance_text = Column(Text)
    debtor_name = Column(String(140))
    # matched | partial | overpaid | unmatched | reversed (undone by a later reversal) | reversal
    outcome = Column(String(20), nullable=False)
    order_reference = Column(String(40))
    reason = Column(Text)
    reverses_id = Column(Id)  # the credit a reversal undid
    assigned_by = Column(String(120))
    assigned_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        UniqueConstraint("entry_key", name="uq_bank_statement_entries_key"),
        Index("ix_bank_statement_entries_outcome", "outcome", "id"),
        Index("ix_bank_statement_entries_order", "order_reference", "id"),
        Index("ix_bank_statement_entries_import", "import_id", "id"),
    )


metadata = Base.metadata
