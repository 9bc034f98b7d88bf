"""Internal notes on orders

Staff comments on an order, never sent to the customer: author (the gateway's user id and
name), body, written and edited times. Listed per order newest first
(``ix_order_notes_order``); searchable by any part of their text through a trigram index
(pg_trgm, in the schema it is already in, else this service's schema, as in 0002).

Revision ID: 0007
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRGM_INDEX = "ix_order_notes_body_trgm"


def upgrade():
    op.create_table(
        "order_notes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author_id", sa.BigInteger, nullable=False),
        sa.Column("author_name", sa.String(120), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_order_notes_order", "order_notes", ["order_id", "id"])
    bind = op.get_bind()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = bind.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one().replace('"', '""')
    op.execute(f'CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON order_notes USING gin (body "{schema}".gin_trgm_ops)')


def downgrade():
    op.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
    op.drop_table("order_notes")
