"""The orders service's tables (its own schema; no other service reads them)."""
from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, Numeric, SmallInteger, String, Text,
)
from sqlalchemy.orm import DeclarativeBase, relationship

from oms_common.tables import install_infrastructure

Id = BigInteger
Money = Numeric(14, 2)


class Base(DeclarativeBase):
    pass


infrastructure = install_infrastructure(Base.metadata)


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

    __table_args__ = (
        Index("ix_customers_email", "email"),
        Index("ix_customers_last_name", "last_name"),
    )

    @property
    def customer_number(self):
        return f"C{self.id:06d}"


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
        Index("ix_orders_invoice_prefix", "invoice_number",
              postgresql_ops={"invoice_number": "varchar_pattern_ops"}),
        Index("ix_orders_open_session", "session_id"),
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

    __table_args__ = (
        Index("ix_order_lines_order", "order_id"),
        # article report (S12): substring search on article numbers (pg_trgm), made by migration 0002
        Index("ix_order_lines_article_trgm", "article_number", postgresql_using="gin",
              postgresql_ops={"article_number": "gin_trgm_ops"}),
    )


class OrderHistory(Base):
    __tablename__ = "order_history"
    id = Column(Id, primary_key=True, autoincrement=True)
    order_id = Column(Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    at = Column(DateTime(timezone=True), nullable=False)
    actor = Column(String(120), nullable=False)
    actor_kind = Column(String(20), nullable=False)
    origin = Column(String(200), nullable=False)
    action = Column(String(40), nullable=False)
    from_status = Column(String(20))
    to_status = Column(String(20))
    reason = Column(Text)
    email = Column(String(60))
    details = Column(JSON)

    __table_args__ = (Index("ix_order_history_order", "order_id", "id"),)


class NumberSequence(Base):
    """One row per numbered thing; its row lock is what makes numbers gapless."""
    __tablename__ = "number_sequences"
    name = Column(String(20), primary_key=True)
    start_at = Column(BigInteger, nullable=False)
    last_issued = Column(BigInteger)
    prefix = Column(String(20), nullable=False, default="")
    enabled = Column(Boolean, nullable=False, default=True)


class OrderCount(Base):
    """Order counts per (status, payment status), kept in step with every change so that
    the list's total needs no scan of a million rows."""
    __tablename__ = "order_counts"
    status = Column(String(20), primary_key=True)
    payment_status = Column(String(20), primary_key=True)
    count = Column(BigInteger, nullable=False, default=0)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    key = Column(String(200), primary_key=True)
    request_hash = Column(String(64), nullable=False)
    reference = Column(String(40), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


metadata = Base.metadata
