"""notifications: the invoice that goes with an order confirmation

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 15:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('mails', sa.Column('attachment', sa.String(length=20), nullable=True))
    op.add_column('mails', sa.Column('attachment_name', sa.String(length=120), nullable=True))
    op.create_table(
        'invoice_copies',
        sa.Column('order_reference', sa.String(length=40), nullable=False),
        sa.Column('document_id', sa.BigInteger(), nullable=False),
        sa.Column('number', sa.String(length=80), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('order_reference'),
    )


def downgrade():
    op.drop_table('invoice_copies')
    op.drop_column('mails', 'attachment_name')
    op.drop_column('mails', 'attachment')
