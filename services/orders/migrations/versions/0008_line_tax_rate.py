"""VAT per order line: the line's rate, the order's tax country, price basis and shipping rate

Orders placed before keep NULL in all four and show no tax breakdown.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02 14:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('order_lines', sa.Column('tax_rate', sa.Numeric(precision=5, scale=2), nullable=True))
    op.add_column('orders', sa.Column('tax_country', sa.String(length=2), nullable=True))
    op.add_column('orders', sa.Column('prices_include_tax', sa.Boolean(), nullable=True))
    op.add_column('orders', sa.Column('shipping_tax_rate', sa.Numeric(precision=5, scale=2), nullable=True))


def downgrade():
    op.drop_column('orders', 'shipping_tax_rate')
    op.drop_column('orders', 'prices_include_tax')
    op.drop_column('orders', 'tax_country')
    op.drop_column('order_lines', 'tax_rate')
