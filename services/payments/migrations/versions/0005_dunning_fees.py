"""dunning with money: the fees the reminders added, when the level was reached, the invoice's due date

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=15, scale=3)


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dunning_fees', MONEY, nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('dunning_level_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_date', sa.Date(), nullable=True))
    op.create_index(
        'ix_payments_dunning_due', 'payments', ['due_date'],
        postgresql_where=sa.text("provider = 'manual' AND status IN ('unpaid', 'announced') AND dunning_level < 2"),
    )


def downgrade():
    op.drop_index('ix_payments_dunning_due', table_name='payments')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        for column in ('due_date', 'dunning_level_at', 'dunning_fees'):
            batch_op.drop_column(column)
