"""The notifications service's tables (its own schema; no other service reads them)."""

from sqlalchemy import Column, DateTime, Index, Integer, LargeBinary, Numeric, String, Text, text

from oms_common.declarative import Id, schema_base

Base, infrastructure = schema_base()


class Mail(Base):
    """One customer e-mail, rendered when its event arrived; the durable outbox of the sender.

    ``event_id`` is unique: one triggering event can never yield two mails. The sender claims
    due rows (``status = 'queued' AND next_attempt_at <= now``) and pushes ``next_attempt_at``
    forward by a lease before it talks to SMTP, so a replica that dies mid-send leaves a row
    that is retried after the lease, never one that is lost.
    """

    __tablename__ = "mails"
    id = Column(Id, primary_key=True, autoincrement=True)
    event_id = Column(String(64), nullable=False, unique=True)
    event_type = Column(String(80), nullable=False)
    order_reference = Column(String(40), nullable=False)
    kind = Column(String(40), nullable=False)
    language = Column(String(2), nullable=False)
    recipient = Column(String(254), nullable=False)
    recipient_name = Column(String(200), nullable=False, default="")
    subject = Column(String(300), nullable=False)
    body_text = Column(Text, nullable=False)
    body_html = Column(Text, nullable=False)
    message_id = Column(String(200), nullable=False)
    status = Column(String(10), nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    next_attempt_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    sent_at = Column(DateTime(timezone=True))
    # "invoice": the mail waits (until ``next_attempt_at``) for the order's invoice to go with it;
    # ``attachment_name`` is the file it went out with (none: sent without, the invoice came too late)
    attachment = Column(String(20))
    attachment_name = Column(String(120))

    __table_args__ = (
        Index("ix_mails_order", "order_reference", "created_at"),
        Index("ix_mails_due", "next_attempt_at", "id", postgresql_where=text("status = 'queued'")),
        Index("ix_mails_failed", "updated_at", postgresql_where=text("status = 'failed'")),
        # one 'payment received' mail per order, even if two 'paid' events race
        Index(
            "uq_mails_payment_received",
            "order_reference",
            unique=True,
            postgresql_where=text("kind = 'payment_received'"),
        ),
        # one reminder per order and dunning level (from payments' payment_dunning_changed)
        Index(
            "uq_mails_dunning",
            "order_reference",
            "kind",
            unique=True,
            postgresql_where=text("event_type = 'payment_dunning_changed'"),
        ),
    )


class OrderCopy(Base):
    """What this service remembers of an order (from the orders events) to address mails
    whose triggering event does not carry the customer, such as payment updates."""

    __tablename__ = "order_copies"
    reference = Column(String(40), primary_key=True)
    invoice_number = Column(String(60))
    customer_email = Column(String(254), nullable=False)
    customer_name = Column(String(201), nullable=False, default="")
    language = Column(String(2), nullable=False)
    payment_method = Column(String(30))
    currency = Column(String(3))
    total = Column(Numeric(14, 2))
    status = Column(String(20))
    as_of = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)


class InvoiceCopy(Base):
    """An order's invoice as the documents service issued it (its bytes never change, checked
    against the SHA-256 its event names), kept to go with the order confirmation."""

    __tablename__ = "invoice_copies"
    order_reference = Column(String(40), primary_key=True)
    document_id = Column(Id, nullable=False)
    number = Column(String(80), nullable=False)
    sha256 = Column(String(64), nullable=False)
    content = Column(LargeBinary, nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False)


metadata = Base.metadata
