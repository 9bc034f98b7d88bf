"""amounts with three decimals, PSP charge/capture ids, disputes, flagged webhooks

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OLD = sa.Numeric(precision=14, scale=2)
NEW = sa.Numeric(precision=15, scale=3)


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        for column in ('amount', 'captured_amount', 'refunded_amount'):
            batch_op.alter_column(column, type_=NEW, existing_type=OLD, existing_nullable=False)
        batch_op.add_column(sa.Column('psp_charge_id', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('psp_capture_status', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('dispute_id', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('dispute_status', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('dispute_amount', NEW, nullable=True))
        batch_op.add_column(sa.Column('dispute_reason', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('dispute_evidence_due_by', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('status_before_dispute', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_payments_psp_capture', ['psp_capture_id'], unique=False)
        batch_op.create_index('ix_payments_psp_charge', ['psp_charge_id'], unique=False)
    with op.batch_alter_table('payment_refunds', schema=None) as batch_op:
        batch_op.alter_column('amount', type_=NEW, existing_type=OLD, existing_nullable=False)
        batch_op.add_column(sa.Column('failure_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('webhook_inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount', NEW, nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))


def downgrade():
    with op.batch_alter_table('webhook_inbox', schema=None) as batch_op:
        batch_op.drop_column('currency')
        batch_op.drop_column('amount')
    with op.batch_alter_table('payment_refunds', schema=None) as batch_op:
        batch_op.drop_column('failure_reason')
        batch_op.alter_column('amount', type_=OLD, existing_type=NEW, existing_nullable=False)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_psp_charge')
        batch_op.drop_index('ix_payments_psp_capture')
        for column in ('status_before_dispute', 'dispute_evidence_due_by', 'dispute_reason', 'dispute_amount',
                       'dispute_status', 'dispute_id', 'psp_capture_status', 'psp_charge_id'):
            batch_op.drop_column(column)
        for column in ('amount', 'captured_amount', 'refunded_amount'):
            batch_op.alter_column(column, type_=OLD, existing_type=NEW, existing_nullable=False)
