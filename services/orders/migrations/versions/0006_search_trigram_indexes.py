"""order search and sorts: trigram indexes on what staff search by, keys for the new sorts

Revision ID: 0006
Revises: 0005

The list's ``search`` looks for orders whose customer name, e-mail or tracking number
*contains* what was typed (``ILIKE '%…%'``): GIN indexes with ``gin_trgm_ops`` answer that
(article numbers have theirs since 0002). The sorts by invoice number and by customer walk
B-tree keys that end in ``id`` (the invoice key carries the number itself, so that a page jump
is a scan of the index alone). The country filter reads the shipping address's country.

pg_trgm goes to the schema it is already in, as in 0002.
"""
from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = {
    "ix_orders_customer_name_trgm": "customer_name",
    "ix_orders_customer_email_trgm": "customer_email",
    "ix_orders_tracking_trgm": "tracking_number",
}
KEY_INDEXES = {
    "ix_orders_invoice_sort": "(coalesce(invoice_number, ''::varchar), id) INCLUDE (invoice_number)",
    "ix_orders_customer_name_sort": "(customer_name, id)",
    "ix_orders_shipping_country": "((shipping_address ->> 'country'), created_at, id)",
}


def upgrade():
    bind = op.get_bind()
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = bind.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one().replace('"', '""')
    # IF NOT EXISTS: an operator may have built them by hand (CONCURRENTLY) on a big table first
    for name, column in TRIGRAM_INDEXES.items():
        op.execute(f'CREATE INDEX IF NOT EXISTS {name} ON orders USING gin ({column} "{schema}".gin_trgm_ops)')
    for name, definition in KEY_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON orders {definition}")


def downgrade():
    for name in (*TRIGRAM_INDEXES, *KEY_INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
