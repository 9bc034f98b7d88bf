"""The orders service's tables (its own schema; no other service reads them)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import relationship

from oms_common.audit_entries import audit_entry_columns
from oms_common.declarative import Id, schema_base
from oms_contracts.customers import customer_number

Money = Numeric(14, 2)
TaxRate = Numeric(5, 2)
Base, infrastructure = schema_base()


def trigram_index(name: str, column: str) -> Index:
    """A GIN index of the column's trigrams (pg_trgm): what a search for any part of it uses."""
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Id, primary_key=True, autoincrement=True)
    email = Column(String(254), nullable=False)
    first_name = Column(String(100), nullable=False, default="")
    last_name = Column(String(100), nullable=False, default="")
    language = Column(String(2), nullable=False, default="de")
    merged_into_id = Column(Id, ForeignKey("customers.id"))
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_customers_email", "email"), Index("ix_customers_last_name", "last_name"))

    @property
    def customer_number(self):
        return customer_number(self.id)


class Order(Base):
    __tablename__ = "orders"
    id = Column(Id, primary_key=True, autoincrement=True)
    reference = Column(String(40), nullable=False, unique=True)
    invoice_number = Column(String(60), unique=True)
    invoice_number_external = Column(Boolean, nullable=False, default=False)
    customer_id = Column(Id, ForeignKey("customers.id"), nullable=False)
    customer_email = Column(String(254), nullable=False)
    customer_name = Column(String(201), nullable=False)
    language = Column(String(2), nullable=False)
    status = Column(String(20), nullable=False)
    payment_status = Column(String(20), nullable=False)
    payment_status_rank = Column(SmallInteger, nullable=False)
    payment_status_sequence = Column(BigInteger)
    payment_method = Column(String(30), nullable=False)
    currency = Column(String(3), nullable=False)
    subtotal = Column(Money, nullable=False)
    shipping_cost = Column(Money, nullable=False)
    total = Column(Money, nullable=False)
    billing_address = Column(JSON, nullable=False)
    shipping_address = Column(JSON, nullable=False)
    session_id = Column(String(128))
    paused = Column(Boolean, nullable=False, default=False)
    tracking_number = Column(String(100))
    version = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    submitted_at = Column(DateTime(timezone=True))
    # VAT (migration 0008): the table's country, whether prices include the tax, the shipping's
    # rate; NULL on orders placed before rates were kept (they have no breakdown)
    tax_country = Column(String(2))
    prices_include_tax = Column(Boolean)
    shipping_tax_rate = Column(TaxRate)

    lines = relationship("OrderLine", order_by="OrderLine.position", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_status_payment_created", "status", "payment_status", "created_at", "id"),
        Index("ix_orders_payment_created", "payment_status", "created_at", "id"),
        Index("ix_orders_payment_rank", "payment_status_rank", "created_at", "id"),
        Index("ix_orders_customer_created", "customer_id", "created_at"),
        Index("ix_orders_total", "total", "id"),
        Index("ix_orders_updated", "updated_at", "id"),
        Index("ix_orders_reference_prefix", "reference", postgresql_ops={"reference": "varchar_pattern_ops"}),
        Index("ix_orders_invoice_prefix", "invoice_number", postgresql_ops={"invoice_number": "varchar_pattern_ops"}),
        Index("ix_orders_open_session", "session_id"),
        # the list's search and sorts (migration 0006; it also makes ix_orders_invoice_sort on
        # (coalesce(invoice_number, ''), id) and ix_orders_shipping_country on the address's country)
        trigram_index("ix_orders_customer_name_trgm", "customer_name"),
        trigram_index("ix_orders_customer_email_trgm", "customer_email"),
        trigram_index("ix_orders_tracking_trgm", "tracking_number"),
        Index("ix_orders_customer_name_sort", "customer_name", "id"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    id = Column(Id, primary_key=True, autoincrement=True)
    order_id = Column(Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    position = Column(Integer, nullable=False)
    article_number = Column(String(64), nullable=False)
    name = Column(String(255), nullable=False)
    quantity = Column(Integer, nullable=False)
    unit_price = Column(Money, nullable=False)
    line_total = Column(Money, nullable=False)
    tax_rate = Column(TaxRate)  # in %, e.g. 8.10 (migration 0008)

    __table_args__ = (
        Index("ix_order_lines_order", "order_id"),
        # article report (S12): substring search on article numbers (pg_trgm), made by migration 0002
        trigram_index("ix_order_lines_article_trgm", "article_number"),
    )


class OrderHistory(Base):
    """The order's audit: every change, with who, from where and why (``changes.history_entry``)."""

    __table__ = Table(
        "order_history",
        Base.metadata,
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("order_id", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        *audit_entry_columns(),
        Column("email", String(60)),
        Column("details", JSON),
        Index("ix_order_history_order", "order_id", "id"),
    )


class OrderNote(Base):
    """An internal note of staff on an order (never sent to the customer); migration 0007."""

    __tablename__ = "order_notes"
    id = Column(Id, primary_key=True, autoincrement=True)
    order_id = Column(Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    author_id = Column(Id, nullable=False)  # the gateway's user id: the one who may edit it
    author_name = Column(String(120), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
    edited_at = Column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_order_notes_order", "order_id", "id"),
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
    name = Column(String(20), primary_key=True)
    start_at = Column(BigInteger, nullable=False)
    last_issued = Column(BigInteger)
    prefix = Column(String(20), nullable=False, default="")
    enabled = Column(Boolean, nullable=False, default=True)


class OrderCount(Base):
    """Order counts per (status, payment status), kept in step with every change so that
    the list's total needs no scan of a million rows. Each database connection adds to its
    own ``shard`` row, so concurrent creations never wait for one hot row; a total is the
    sum over the shards (a shard may be negative: moves out of a pair land where they run)."""

    __tablename__ = "order_counts"
    status = Column(String(20), primary_key=True)
    payment_status = Column(String(20), primary_key=True)
    shard = Column(SmallInteger, primary_key=True, default=0, server_default="0")
    count = Column(BigInteger, nullable=False, default=0)


class InvoiceNumberRequest(Base):
    """An order whose invoice number is issued when its transaction commits (migration 0005:
    a deferred trigger locks the invoice sequence row inside COMMIT, issues the number, puts
    it on the order, its outbox events and audit entry in place of the placeholder, and
    deletes this row). Never seen outside the transaction that wrote it."""

    __tablename__ = "invoice_number_requests"
    order_id = Column(Id, ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    event_ids = Column(ARRAY(String(64)), nullable=False)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    key = Column(String(200), primary_key=True)
    request_hash = Column(String(64), nullable=False)
    reference = Column(String(40), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


metadata = Base.metadata
