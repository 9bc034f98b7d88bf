"""The exports service's tables (its own schema; no other service reads them).

``export_orders`` and ``export_customers`` are this service's copy of the data it exports,
fed by the events of the orders and payments services (it never reads their tables).
Every change of a copied row takes the next value of the ``change`` counter
(``export_counters``): the counter row is updated last in the transaction and its row lock
is held until commit, so change numbers become visible in commit order. That is what makes
"everything with ``change_seq`` above the watermark" an exact incremental export: a run that
reads the counter in its snapshot sees every smaller number already committed.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from oms_common.declarative import Id, schema_base

Base, infrastructure = schema_base()


class ExportCounter(Base):
    __tablename__ = "export_counters"
    name = Column(String(20), primary_key=True)
    value = Column(BigInteger, nullable=False, default=0)


class ExportOrder(Base):
    """Latest known state of one order (the newest ``version`` wins) as the orders service sent it."""

    __tablename__ = "export_orders"
    reference = Column(String(40), primary_key=True)
    version = Column(Integer, nullable=False)
    change_seq = Column(BigInteger, nullable=False)
    invoice_number = Column(String(60))
    customer_id = Column(BigInteger, nullable=False)
    status = Column(String(20), nullable=False)
    payment_status = Column(String(20), nullable=False)
    payment_status_sequence = Column(BigInteger)
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    document = Column(JSON, nullable=False)
    # VAT as the order events carry it (migration 0003; ``taxes``): whether prices include the tax,
    # the country, each line's rate (in line order) and the breakdown per rate. NULL: no word of it.
    prices_include_tax = Column(Boolean)
    tax_country = Column(String(2))
    line_tax_rates = Column(JSON)
    tax_breakdown = Column(JSON)

    __table_args__ = (
        Index("ix_export_orders_change_seq", "change_seq", unique=True),
        Index("ix_export_orders_created", "created_at", "reference"),
        Index("ix_export_orders_customer", "customer_id", "created_at"),
        Index("ix_export_orders_status", "status", "created_at"),
        Index("ix_export_orders_updated", "updated_at"),
        Index("ix_export_orders_invoice", "invoice_number"),
    )


class ExportPaymentStatus(Base):
    """Newest payment status per order from the payments service (by its ``sequence``);
    kept even when the order has not arrived yet, and applied when it does."""

    __tablename__ = "export_payment_status"
    order_reference = Column(String(40), primary_key=True)
    status = Column(String(20), nullable=False)
    sequence = Column(BigInteger, nullable=False)


class ExportCustomer(Base):
    """The customer as the orders service keeps it: taken from the customer record its events
    carry (newest ``record_updated_at`` wins), retired ones marked with ``merged_into``. Events
    without a record (from before they carried one) fall back to the order's own e-mail and name,
    until a record arrives."""

    __tablename__ = "export_customers"
    id = Column(BigInteger, primary_key=True, autoincrement=False)
    email = Column(String(254), nullable=False)
    name = Column(String(201), nullable=False)
    language = Column(String(2))
    merged_into = Column(BigInteger)
    change_seq = Column(BigInteger, nullable=False)
    source_updated_at = Column(DateTime(timezone=True), nullable=False)
    record_updated_at = Column(DateTime(timezone=True))
    updated_at = Column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        Index("ix_export_customers_change_seq", "change_seq", unique=True),
        Index("ix_export_customers_email", "email"),
    )


class ExportJob(Base):
    __tablename__ = "export_jobs"
    id = Column(Id, primary_key=True, autoincrement=True)
    name = Column(String(100), nullable=False, unique=True)
    cron = Column(String(120), nullable=False)
    timezone = Column(String(64), nullable=False, default="UTC")
    kind = Column(String(20), nullable=False)
    format = Column(String(10), nullable=False)
    filters = Column(JSON, nullable=False)
    target = Column(String(200), nullable=False)
    incremental = Column(Boolean, nullable=False, default=False)
    enabled = Column(Boolean, nullable=False, default=True)
    next_run_at = Column(DateTime(timezone=True), nullable=False)
    watermark = Column(BigInteger, nullable=False, default=0)
    version = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    created_by = Column(String(120))
    schema_version = Column(Integer, nullable=False, default=1, server_default="1")  # of the files it writes

    __table_args__ = (Index("ix_export_jobs_due", "enabled", "next_run_at"),)


class ExportRun(Base):
    __tablename__ = "export_runs"
    id = Column(Id, primary_key=True, autoincrement=True)
    job_id = Column(Id, ForeignKey("export_jobs.id", ondelete="SET NULL"))
    job_name = Column(String(100), nullable=False)
    due_at = Column(DateTime(timezone=True), nullable=False)
    started_at = Column(DateTime(timezone=True), nullable=False)
    finished_at = Column(DateTime(timezone=True))
    status = Column(String(20), nullable=False)
    rows = Column(BigInteger)
    file = Column(String(500))
    bytes = Column(BigInteger)
    duration_ms = Column(BigInteger)
    error = Column(Text)
    watermark_from = Column(BigInteger)
    watermark_to = Column(BigInteger)
    replica = Column(String(120))

    __table_args__ = (
        UniqueConstraint("job_id", "due_at", name="uq_export_runs_job_due"),
        Index("ix_export_runs_started", "started_at"),
        Index("ix_export_runs_job", "job_id", "id"),
    )


metadata = Base.metadata
