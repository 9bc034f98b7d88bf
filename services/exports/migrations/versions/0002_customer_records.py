"""customer copy from the orders service's customer records

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('export_customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('record_updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('export_customers', schema=None) as batch_op:
        batch_op.drop_column('record_updated_at')
        batch_op.drop_column('merged_into')
