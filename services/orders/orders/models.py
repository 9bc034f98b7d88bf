"""The orders service's tables (its own schema; no other service reads them)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import relationship

from oms_common.audit_entries import audit_entry_columns
from oms_common.declarative import Id, Language, Reference, schema_base
from oms_contracts.customers import customer_number

Money = sa.Numeric(14, 2)
TaxRate = sa.Numeric(5, 2)
Base, infrastructure = schema_base()


def trigram_index(name: str, column: str) -> sa.Index:
    """A GIN index of the column's trigrams (pg_trgm): what a search for any part of it uses."""
    return sa.Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


class Customer(Base):
    __tablename__ = "customers"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    email = sa.Column(sa.String(254), nullable=False)
    first_name = sa.Column(sa.String(100), nullable=False, default="")
    last_name = sa.Column(sa.String(100), nullable=False, default="")
    language = sa.Column(Language, nullable=False, default="de")
    merged_into_id = sa.Column(Id, sa.ForeignKey("customers.id"))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (sa.Index("ix_customers_email", "email"), sa.Index("ix_customers_last_name", "last_name"))

    @property
    def customer_number(self):
        return customer_number(self.id)


class Order(Base):
    __tablename__ = "orders"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    reference = sa.Column(Reference, nullable=False, unique=True)
    invoice_number = sa.Column(sa.String(60), unique=True)
    invoice_number_external = sa.Column(sa.Boolean, nullable=False, default=False)
    customer_id = sa.Column(Id, sa.ForeignKey("customers.id"), nullable=False)
    customer_email = sa.Column(sa.String(254), nullable=False)
    customer_name = sa.Column(sa.String(201), nullable=False)
    language = sa.Column(Language, nullable=False)
    status = sa.Column(sa.String(20), nullable=False)
    payment_status = sa.Column(sa.String(20), nullable=False)
    payment_status_rank = sa.Column(sa.SmallInteger, nullable=False)
    payment_status_sequence = sa.Column(sa.BigInteger)
    payment_method = sa.Column(sa.String(30), nullable=False)
    currency = sa.Column(sa.String(3), nullable=False)
    subtotal = sa.Column(Money, nullable=False)
    shipping_cost = sa.Column(Money, nullable=False)
    total = sa.Column(Money, nullable=False)
    billing_address = sa.Column(sa.JSON, nullable=False)
    shipping_address = sa.Column(sa.JSON, nullable=False)
    session_id = sa.Column(sa.String(128))
    paused = sa.Column(sa.Boolean, nullable=False, default=False)
    tracking_number = sa.Column(sa.String(100))
    version = sa.Column(sa.Integer, nullable=False, default=1)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    submitted_at = sa.Column(sa.DateTime(timezone=True))
    # VAT (migration 0008): the table's country, whether prices include the tax, the shipping's
    # rate; NULL on orders placed before rates were kept (they have no breakdown)
    tax_country = sa.Column(sa.String(2))
    prices_include_tax = sa.Column(sa.Boolean)
    shipping_tax_rate = sa.Column(TaxRate)

    lines = relationship("OrderLine", order_by="OrderLine.position", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (
        sa.Index("ix_orders_created", "created_at", "id"),
        sa.Index("ix_orders_status_created", "status", "created_at", "id"),
        sa.Index("ix_orders_status_payment_created", "status", "payment_status", "created_at", "id"),
        sa.Index("ix_orders_payment_created", "payment_status", "created_at", "id"),
        sa.Index("ix_orders_payment_rank", "payment_status_rank", "created_at", "id"),
        sa.Index("ix_orders_customer_created", "customer_id", "created_at"),
        sa.Index("ix_orders_total", "total", "id"),
        sa.Index("ix_orders_updated", "updated_at", "id"),
        sa.Index("ix_orders_reference_prefix", "reference", postgresql_ops={"reference": "varchar_pattern_ops"}),
        sa.Index(
            "ix_orders_invoice_prefix", "invoice_number", postgresql_ops={"invoice_number": "varchar_pattern_ops"}
        ),
        sa.Index("ix_orders_open_session", "session_id"),
        # the list's search and sorts (migration 0006; it also makes ix_orders_invoice_sort on
        # (coalesce(invoice_number, ''), id) and ix_orders_shipping_country on the address's country)
        trigram_index("ix_orders_customer_name_trgm", "customer_name"),
        trigram_index("ix_orders_customer_email_trgm", "customer_email"),
        trigram_index("ix_orders_tracking_trgm", "tracking_number"),
        sa.Index("ix_orders_customer_name_sort", "customer_name", "id"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    order_id = sa.Column(Id, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    position = sa.Column(sa.Integer, nullable=False)
    article_number = sa.Column(sa.String(64), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    quantity = sa.Column(sa.Integer, nullable=False)
    unit_price = sa.Column(Money, nullable=False)
    line_total = sa.Column(Money, nullable=False)
    tax_rate = sa.Column(TaxRate)  # in %, e.g. 8.10 (migration 0008)

    __table_args__ = (
        sa.Index("ix_order_lines_order", "order_id"),
        # article report (S12): substring search on article numbers (pg_trgm), made by migration 0002
        trigram_index("ix_order_lines_article_trgm", "article_number"),
    )


class OrderHistory(Base):
    """The order's audit: every change, with who, from where and why (``changes.history_entry``)."""

    __table__ = sa.Table(
        "order_history",
        Base.metadata,
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("order_id", Id, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        *audit_entry_columns(),
        sa.Column("email", sa.String(60)),
        sa.Column("details", sa.JSON),
        sa.Index("ix_order_history_order", "order_id", "id"),
    )


class OrderNote(Base):
    """An internal note of staff on an order (never sent to the customer); migration 0007."""

    __tablename__ = "order_notes"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    order_id = sa.Column(Id, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    author_id = sa.Column(Id, nullable=False)  # the gateway's user id: the one who may edit it
    author_name = sa.Column(sa.String(120), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    edited_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_order_notes_order", "order_id", "id"),
        # searchable by any part of its text (pg_trgm), made by migration 0007
        trigram_index("ix_order_notes_body_trgm", "body"),
    )


class NumberSequence(Base):
    """One row per numbered thing: its settings, and for invoice numbers the state too, whose
    row lock (taken last before commit) is what makes them gapless.

    References are drawn from the PostgreSQL sequence ``order_reference_seq`` (migration
    0004): unique and increasing without a lock held to commit. The ``reference`` row keeps
    the start number and, in ``last_issued``, the last reference drawn before the sequence
    was last moved (what ``get_numbering`` reports until the next order).
    """

    __tablename__ = "number_sequences"
    name = sa.Column(sa.String(20), primary_key=True)
    start_at = sa.Column(sa.BigInteger, nullable=False)
    last_issued = sa.Column(sa.BigInteger)
    prefix = sa.Column(sa.String(20), nullable=False, default="")
    enabled = sa.Column(sa.Boolean, nullable=False, default=True)


class OrderCount(Base):
    """Order counts per (status, payment status), kept in step with every change so that
    the list's total needs no scan of a million rows. Each database connection adds to its
    own ``shard`` row, so concurrent creations never wait for one hot row; a total is the
    sum over the shards (a shard may be negative: moves out of a pair land where they run)."""

    __tablename__ = "order_counts"
    status = sa.Column(sa.String(20), primary_key=True)
    payment_status = sa.Column(sa.String(20), primary_key=True)
    shard = sa.Column(sa.SmallInteger, primary_key=True, default=0, server_default="0")
    count = sa.Column(sa.BigInteger, nullable=False, default=0)


class InvoiceNumberRequest(Base):
    """An order whose invoice number is issued when its transaction commits (migration 0005:
    a deferred trigger locks the invoice sequence row inside COMMIT, issues the number, puts
    it on the order, its outbox events and audit entry in place of the placeholder, and
    deletes this row). Never seen outside the transaction that wrote it."""

    __tablename__ = "invoice_number_requests"
    order_id = sa.Column(Id, sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    event_ids = sa.Column(ARRAY(sa.String(64)), nullable=False)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    key = sa.Column(sa.String(200), primary_key=True)
    request_hash = sa.Column(sa.String(64), nullable=False)
    reference = sa.Column(Reference, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


metadata = Base.metadata
