"""VAT of the copied orders (export format version 2) and the format version of each job

Revision ID: 0003
Revises: 0002

The copied orders get their VAT columns: whether prices include the tax, the country, each
line's rate and the breakdown per rate, as the order events carry them. Rows copied before
this revision are filled from the order document they keep, taking only values of the shape
the orders service writes ("8.10", "107.40"; net + tax = gross); a row whose document has none
(orders placed before the orders service kept rates) stays NULL: version 2 exports it without
rates and without a breakdown. BACKFILL touches only rows without any VAT column set, so
running it again changes nothing.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

RATE = r'^[0-9]{1,2}\.[0-9]{2}$'
AMOUNT = r'^-?[0-9]{1,12}\.[0-9]{2}$'

BACKFILL = sa.text(f"""
WITH found AS (
    SELECT reference,
        CASE WHEN json_typeof(document -> 'prices_include_tax') = 'boolean'
             THEN (document ->> 'prices_include_tax')::boolean END AS prices_include_tax,
        CASE WHEN json_typeof(document -> 'tax_country') = 'string' AND document ->> 'tax_country' ~ '^[A-Z]{{2}}$'
             THEN document ->> 'tax_country' END AS tax_country,
        CASE WHEN json_typeof(document -> 'lines') = 'array' THEN (
            SELECT CASE WHEN bool_and(json_typeof(line -> 'tax_rate') IS NULL OR json_typeof(line -> 'tax_rate') = 'null'
                                      OR (json_typeof(line -> 'tax_rate') = 'string' AND line ->> 'tax_rate' ~ '{RATE}'))
                         AND bool_or(json_typeof(line -> 'tax_rate') = 'string')
                        THEN json_agg(CASE WHEN json_typeof(line -> 'tax_rate') = 'string' THEN line -> 'tax_rate' END
                                      ORDER BY n) END
            FROM json_array_elements(document -> 'lines') WITH ORDINALITY AS l(line, n)
        ) END AS line_tax_rates,
        CASE WHEN json_typeof(document -> 'tax_breakdown') = 'array' THEN (
            SELECT CASE WHEN count(*) = 0 THEN '[]'::json
                        WHEN bool_and(CASE WHEN json_typeof(entry) = 'object'
                                                AND entry ->> 'rate' ~ '{RATE}' AND entry ->> 'net' ~ '{AMOUNT}'
                                                AND entry ->> 'tax' ~ '{AMOUNT}' AND entry ->> 'gross' ~ '{AMOUNT}'
                                           THEN (entry ->> 'net')::numeric + (entry ->> 'tax')::numeric
                                                = (entry ->> 'gross')::numeric
                                           ELSE false END)
                        THEN json_agg(json_build_object('rate', entry ->> 'rate', 'net', entry ->> 'net',
                                                        'tax', entry ->> 'tax', 'gross', entry ->> 'gross')
                                      ORDER BY n) END
            FROM json_array_elements(document -> 'tax_breakdown') WITH ORDINALITY AS b(entry, n)
        ) END AS tax_breakdown
    FROM export_orders
    WHERE prices_include_tax IS NULL AND tax_country IS NULL AND line_tax_rates IS NULL AND tax_breakdown IS NULL
)
UPDATE export_orders AS o
SET prices_include_tax = found.prices_include_tax, tax_country = found.tax_country,
    line_tax_rates = found.line_tax_rates, tax_breakdown = found.tax_breakdown
FROM found
WHERE o.reference = found.reference
  AND num_nonnulls(found.prices_include_tax, found.tax_country, found.line_tax_rates, found.tax_breakdown) > 0
""")


def upgrade():
    with op.batch_alter_table('export_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prices_include_tax', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('tax_country', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('line_tax_rates', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('tax_breakdown', sa.JSON(), nullable=True))
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('schema_version', sa.Integer(), server_default='1', nullable=False))
    op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_column('schema_version')
    with op.batch_alter_table('export_orders', schema=None) as batch_op:
        batch_op.drop_column('tax_breakdown')
        batch_op.drop_column('line_tax_rates')
        batch_op.drop_column('tax_country')
        batch_op.drop_column('prices_include_tax')
