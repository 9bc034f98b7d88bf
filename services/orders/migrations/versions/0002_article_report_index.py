"""article report: trigram index on order_lines.article_number (PostgreSQL)

Revision ID: 0002
Revises: 0001

The article-order report (S12) looks for lines whose article number *contains* a text
(``ILIKE '%…%'``). A B-tree cannot answer that; a GIN index with ``gin_trgm_ops`` (pg_trgm)
can, for ``LIKE`` and ``ILIKE`` alike. The planner takes it when the article is the narrow
side of the query (a rare article, a long date range); for a short date range it reads the
range's lines through ``ix_order_lines_order`` instead (``article_report`` bounds
``order_lines.order_id`` by the ids of the range's orders; ``ix_orders_created`` gives those).

pg_trgm goes to the schema it is already in, or else to the orders schema (the first on
this service's search_path); the operator class is named with that schema so that the index
is built whatever the search_path.
"""
from alembic import op
from sqlalchemy import text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_order_lines_article_trgm"


def _trgm_schema(bind):
    return bind.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one()


def upgrade():
    bind = op.get_bind()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = _trgm_schema(bind).replace('"', '""')
    # IF NOT EXISTS: an operator may have built it by hand (CONCURRENTLY) on a big table first
    op.execute(f'CREATE INDEX IF NOT EXISTS {INDEX} ON order_lines USING gin (article_number "{schema}".gin_trgm_ops)')


def downgrade():
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
    # pg_trgm stays: other indexes may use it
