"""notifications: one reminder per order and dunning level (from payment_dunning_changed)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # reminders sent before (from order_status_changed) keep their rows and are not counted
    op.create_index(
        'uq_mails_dunning', 'mails', ['order_reference', 'kind'], unique=True,
        postgresql_where=sa.text("event_type = 'payment_dunning_changed'"),
    )


def downgrade():
    op.drop_index('uq_mails_dunning', table_name='mails')
