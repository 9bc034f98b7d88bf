"""documents: invoices that wait for the shop profile

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 15:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'invoices_awaiting_profile',
        sa.Column('order_reference', sa.String(length=40), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('order_data', sa.JSON(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('order_reference'),
    )


def downgrade():
    op.drop_table('invoices_awaiting_profile')
