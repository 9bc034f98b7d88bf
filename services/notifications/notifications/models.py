"""The notifications service's tables (its own schema; no other service reads them)."""

import sqlalchemy as sa

from oms_common.declarative import Id, Language, Reference, schema_base
from oms_common.indexes import unique_where

Base, infrastructure = schema_base()


class Mail(Base):
    """One customer e-mail, rendered when its event arrived; the durable outbox of the sender.

    ``event_id`` is unique: one triggering event can never yield two mails. The sender claims
    due rows (``status = 'queued' AND next_attempt_at <= now``) and pushes ``next_attempt_at``
    forward by a lease before it talks to SMTP, so a replica that dies mid-send leaves a row
    that is retried after the lease, never one that is lost.
    """

    __tablename__ = "mails"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    event_id = sa.Column(sa.String(64), nullable=False, unique=True)
    event_type = sa.Column(sa.String(80), nullable=False)
    order_reference = sa.Column(Reference, nullable=False)
    kind = sa.Column(sa.String(40), nullable=False)
    language = sa.Column(Language, nullable=False)
    recipient = sa.Column(sa.String(254), nullable=False)
    recipient_name = sa.Column(sa.String(200), nullable=False, default="")
    subject = sa.Column(sa.String(300), nullable=False)
    body_text = sa.Column(sa.Text, nullable=False)
    body_html = sa.Column(sa.Text, nullable=False)
    message_id = sa.Column(sa.String(200), nullable=False)
    status = sa.Column(sa.String(10), nullable=False)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    last_error = sa.Column(sa.Text)
    next_attempt_at = sa.Column(sa.DateTime(timezone=True))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    sent_at = sa.Column(sa.DateTime(timezone=True))
    # "invoice": the mail waits (until ``next_attempt_at``) for the order's invoice to go with it;
    # ``attachment_name`` is the file it went out with (none: sent without, the invoice came too late)
    attachment = sa.Column(sa.String(20))
    attachment_name = sa.Column(sa.String(120))

    __table_args__ = (
        sa.Index("ix_mails_order", "order_reference", "created_at"),
        sa.Index("ix_mails_due", "next_attempt_at", "id", postgresql_where=sa.text("status = 'queued'")),
        sa.Index("ix_mails_failed", "updated_at", postgresql_where=sa.text("status = 'failed'")),
        # one 'payment received' mail per order, even if two 'paid' events race
        unique_where("uq_mails_payment_received", "order_reference", where="kind = 'payment_received'"),
        # one reminder per order and dunning level (from payments' payment_dunning_changed)
        unique_where("uq_mails_dunning", "order_reference", "kind", where="event_type = 'payment_dunning_changed'"),
    )


class OrderCopy(Base):
    """What this service remembers of an order (from the orders events) to address mails
    whose triggering event does not carry the customer, such as payment updates."""

    __tablename__ = "order_copies"
    reference = sa.Column(Reference, primary_key=True)
    invoice_number = sa.Column(sa.String(60))
    customer_email = sa.Column(sa.String(254), nullable=False)
    customer_name = sa.Column(sa.String(201), nullable=False, default="")
    language = sa.Column(Language, nullable=False)
    payment_method = sa.Column(sa.String(30))
    currency = sa.Column(sa.String(3))
    total = sa.Column(sa.Numeric(14, 2))
    status = sa.Column(sa.String(20))
    as_of = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class InvoiceCopy(Base):
    """An order's invoice as the documents service issued it (its bytes never change, checked
    against the SHA-256 its event names), kept to go with the order confirmation."""

    __tablename__ = "invoice_copies"
    order_reference = sa.Column(Reference, primary_key=True)
    document_id = sa.Column(Id, nullable=False)
    number = sa.Column(sa.String(80), nullable=False)
    sha256 = sa.Column(sa.String(64), nullable=False)
    content = sa.Column(sa.LargeBinary, nullable=False)
    received_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


metadata = Base.metadata
