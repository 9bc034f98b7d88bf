"""documents schema: shop profile, issued documents, credit-note number range

Revision ID: 0001
Revises:
Create Date: 2026-12-02 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'shop_profile',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'documents',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('order_reference', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('number', sa.String(length=80), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column('corrects_id', sa.BigInteger(), sa.ForeignKey('documents.id'), nullable=True),
        sa.Column('source_event_id', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('order_data', sa.JSON(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('source_event_id'),
    )
    op.create_index('ix_documents_order', 'documents', ['order_reference', 'id'])
    op.create_index('uq_documents_invoice_per_order', 'documents', ['order_reference'], unique=True,
                    postgresql_where=sa.text("kind = 'invoice'"))
    op.create_index('uq_documents_kind_number', 'documents', ['kind', 'number'], unique=True)
    number_ranges = op.create_table(
        'number_ranges',
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('prefix', sa.String(length=20), nullable=False),
        sa.Column('last_issued', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.bulk_insert(number_ranges, [{'name': 'credit_note', 'prefix': 'CN-', 'last_issued': 0}])
    op.create_table(
        'outbox',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('event_type', sa.String(length=80), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('correlation_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'),
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['id'], postgresql_where=sa.text('published_at IS NULL'))
    op.create_table(
        'processed_events',
        sa.Column('consumer', sa.String(length=120), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('consumer', 'event_id'),
    )


def downgrade():
    for table in ('processed_events', 'outbox', 'number_ranges', 'documents', 'shop_profile'):
        op.drop_table(table)
