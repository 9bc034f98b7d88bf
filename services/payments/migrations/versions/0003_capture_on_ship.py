"""capture on shipment: capture mode, authorisation time and expiry

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
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capture_mode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('authorized_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('authorization_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('authorization_expired_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        for column in ('authorization_expired_at', 'authorization_expires_at', 'authorized_at', 'capture_mode'):
            batch_op.drop_column(column)
