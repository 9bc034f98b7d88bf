"""Order references from a PostgreSQL sequence; order counts in shards

References are drawn with ``nextval`` instead of under the ``number_sequences`` row lock held
until commit, so creations no longer queue behind each other for them; the sequence starts
where the row left off. Invoice numbers keep the row lock (they must stay gapless).

``order_counts`` gets a ``shard`` column in its key: each database connection adds to its own
row (``pg_backend_pid() % 64``) instead of every creation updating the one (new, unpaid)
row; list totals are the sum over the shards, as before over the single row.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE SEQUENCE IF NOT EXISTS order_reference_seq MINVALUE 1")
    # the next reference the row would have issued: max(start, last + 1), as domain.next_number
    op.execute("SELECT setval('order_reference_seq', GREATEST(start_at, COALESCE(last_issued + 1, start_at)), false)"
               " FROM number_sequences WHERE name = 'reference'")
    op.add_column("order_counts", sa.Column("shard", sa.SmallInteger(), nullable=False, server_default="0"))
    op.drop_constraint("order_counts_pkey", "order_counts", type_="primary")
    op.create_primary_key("order_counts_pkey", "order_counts", ["status", "payment_status", "shard"])


def downgrade():
    op.execute("DELETE FROM order_counts WHERE count = 0")
    op.execute("CREATE TEMPORARY TABLE merged_counts AS SELECT status, payment_status, sum(count) AS count"
               " FROM order_counts GROUP BY status, payment_status")
    op.execute("DELETE FROM order_counts")
    op.drop_constraint("order_counts_pkey", "order_counts", type_="primary")
    op.drop_column("order_counts", "shard")
    op.execute("INSERT INTO order_counts (status, payment_status, count) SELECT * FROM merged_counts")
    op.create_primary_key("order_counts_pkey", "order_counts", ["status", "payment_status"])
    op.execute("UPDATE number_sequences SET last_issued = (SELECT CASE WHEN is_called THEN last_value"
               " ELSE last_value - 1 END FROM order_reference_seq) WHERE name = 'reference'")
    op.execute("DROP SEQUENCE order_reference_seq")
