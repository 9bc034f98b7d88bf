"""The exports service's tables (its own schema; no other service reads them).

``export_orders`` and ``export_customers`` are this service's copy of the data it exports,
fed by the events of the orders and payments services (it never reads their tables).
Every change of a copied row takes the next value of the ``change`` counter
(``export_counters``): the counter row is updated last in the transaction and its row lock
is held until commit, so change numbers become visible in commit order. That is what makes
"everything with ``change_seq`` above the watermark" an exact incremental export: a run that
reads the counter in its snapshot sees every smaller number already committed.
"""

import sqlalchemy as sa

from oms_common.declarative import Id, Language, Reference, schema_base

Base, infrastructure = schema_base()


class ExportCounter(Base):
    __tablename__ = "export_counters"
    name = sa.Column(sa.String(20), primary_key=True)
    value = sa.Column(sa.BigInteger, nullable=False, default=0)


class ExportOrder(Base):
    """Latest known state of one order (the newest ``version`` wins) as the orders service sent it."""

    __tablename__ = "export_orders"
    reference = sa.Column(Reference, primary_key=True)
    version = sa.Column(sa.Integer, nullable=False)
    change_seq = sa.Column(sa.BigInteger, nullable=False)
    invoice_number = sa.Column(sa.String(60))
    customer_id = sa.Column(sa.BigInteger, nullable=False)
    status = sa.Column(sa.String(20), nullable=False)
    payment_status = sa.Column(sa.String(20), nullable=False)
    payment_status_sequence = sa.Column(sa.BigInteger)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    document = sa.Column(sa.JSON, nullable=False)
    # VAT as the order events carry it (migration 0003; ``taxes``): whether prices include the tax,
    # the country, each line's rate (in line order) and the breakdown per rate. NULL: no word of it.
    prices_include_tax = sa.Column(sa.Boolean)
    tax_country = sa.Column(sa.String(2))
    line_tax_rates = sa.Column(sa.JSON)
    tax_breakdown = sa.Column(sa.JSON)

    __table_args__ = (
        sa.Index("ix_export_orders_change_seq", "change_seq", unique=True),
        sa.Index("ix_export_orders_created", "created_at", "reference"),
        sa.Index("ix_export_orders_customer", "customer_id", "created_at"),
        sa.Index("ix_export_orders_status", "status", "created_at"),
        sa.Index("ix_export_orders_updated", "updated_at"),
        sa.Index("ix_export_orders_invoice", "invoice_number"),
    )


class ExportPaymentStatus(Base):
    """Newest payment status per order from the payments service (by its ``sequence``);
    kept even when the order has not arrived yet, and applied when it does."""

    __tablename__ = "export_payment_status"
    order_reference = sa.Column(Reference, primary_key=True)
    status = sa.Column(sa.String(20), nullable=False)
    sequence = sa.Column(sa.BigInteger, nullable=False)


class ExportCustomer(Base):
    """The customer as the orders service keeps it: taken from the customer record its events
    carry (newest ``record_updated_at`` wins), retired ones marked with ``merged_into``. Events
    without a record (from before they carried one) fall back to the order's own e-mail and name,
    until a record arrives."""

    __tablename__ = "export_customers"
    id = sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    email = sa.Column(sa.String(254), nullable=False)
    name = sa.Column(sa.String(201), nullable=False)
    language = sa.Column(Language)
    merged_into = sa.Column(sa.BigInteger)
    change_seq = sa.Column(sa.BigInteger, nullable=False)
    source_updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    record_updated_at = sa.Column(sa.DateTime(timezone=True))
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (
        sa.Index("ix_export_customers_change_seq", "change_seq", unique=True),
        sa.Index("ix_export_customers_email", "email"),
    )


class ExportJob(Base):
    __tablename__ = "export_jobs"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    name = sa.Column(sa.String(100), nullable=False, unique=True)
    cron = sa.Column(sa.String(120), nullable=False)
    timezone = sa.Column(sa.String(64), nullable=False, default="UTC")
    kind = sa.Column(sa.String(20), nullable=False)
    format = sa.Column(sa.String(10), nullable=False)
    filters = sa.Column(sa.JSON, nullable=False)
    target = sa.Column(sa.String(200), nullable=False)
    incremental = sa.Column(sa.Boolean, nullable=False, default=False)
    enabled = sa.Column(sa.Boolean, nullable=False, default=True)
    next_run_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    watermark = sa.Column(sa.BigInteger, nullable=False, default=0)
    version = sa.Column(sa.Integer, nullable=False, default=1)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    created_by = sa.Column(sa.String(120))
    schema_version = sa.Column(sa.Integer, nullable=False, default=1, server_default="1")  # of the files it writes

    __table_args__ = (sa.Index("ix_export_jobs_due", "enabled", "next_run_at"),)


class ExportRun(Base):
    __tablename__ = "export_runs"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    job_id = sa.Column(Id, sa.ForeignKey("export_jobs.id", ondelete="SET NULL"))
    job_name = sa.Column(sa.String(100), nullable=False)
    due_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    started_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    finished_at = sa.Column(sa.DateTime(timezone=True))
    status = sa.Column(sa.String(20), nullable=False)
    rows = sa.Column(sa.BigInteger)
    file = sa.Column(sa.String(500))
    bytes = sa.Column(sa.BigInteger)
    duration_ms = sa.Column(sa.BigInteger)
    error = sa.Column(sa.Text)
    watermark_from = sa.Column(sa.BigInteger)
    watermark_to = sa.Column(sa.BigInteger)
    replica = sa.Column(sa.String(120))

    __table_args__ = (
        sa.UniqueConstraint("job_id", "due_at", name="uq_export_runs_job_due"),
        sa.Index("ix_export_runs_started", "started_at"),
        sa.Index("ix_export_runs_job", "job_id", "id"),
    )


metadata = Base.metadata
