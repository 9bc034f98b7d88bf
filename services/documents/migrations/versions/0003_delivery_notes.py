"""documents: delivery notes (their number range, one per order, orders that wait for the shop profile)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # a delivery note names no money
    op.alter_column('documents', 'amount', existing_type=sa.Numeric(precision=14, scale=2), nullable=True)
    op.create_index('uq_documents_delivery_note_per_order', 'documents', ['order_reference'], unique=True,
                    postgresql_where=sa.text("kind = 'delivery_note'"))
    number_ranges = sa.table(
        'number_ranges',
        sa.column('name', sa.String()),
        sa.column('prefix', sa.String()),
        sa.column('last_issued', sa.BigInteger()),
    )
    op.bulk_insert(number_ranges, [{'name': 'delivery_note', 'prefix': 'DN-', 'last_issued': 0}])
    op.create_table(
        'delivery_notes_awaiting_profile',
        sa.Column('order_reference', sa.String(length=40), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('order_data', sa.JSON(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('order_reference'),
    )


def downgrade():
    # issued documents are never deleted: once a delivery note (no amount) exists, the last step
    # fails and the whole downgrade rolls back
    op.drop_table('delivery_notes_awaiting_profile')
    op.execute("DELETE FROM number_ranges WHERE name = 'delivery_note'")
    op.drop_index('uq_documents_delivery_note_per_order', table_name='documents')
    op.alter_column('documents', 'amount', existing_type=sa.Numeric(precision=14, scale=2), nullable=False)
