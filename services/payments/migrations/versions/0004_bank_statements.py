"""bank statements: payment references (QRR, SCOR) with backfill, overpaid flag, imports and entries

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

from oms_common.payment_references import creditor_reference, qr_reference


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=15, scale=3)
BATCH = 5000


def _or_none(derive, reference):
    try:
        return derive(reference)
    except ValueError:
        return None


def _backfill(connection):
    """Existing payments get the references their order reference gives, in keyset batches."""
    payments = sa.table('payments', sa.column('id', sa.BigInteger), sa.column('order_reference', sa.String),
                        sa.column('qr_reference', sa.String), sa.column('creditor_reference', sa.String))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(payments.c.id, payments.c.order_reference).where(payments.c.id > last)
            .order_by(payments.c.id).limit(BATCH)).all()
        if not rows:
            return
        connection.execute(
            payments.update().where(payments.c.id == sa.bindparam('row_id'))
            .values(qr_reference=sa.bindparam('qrr'), creditor_reference=sa.bindparam('scor')),
            [{'row_id': row.id, 'qrr': _or_none(qr_reference, row.order_reference),
              'scor': _or_none(creditor_reference, row.order_reference)} for row in rows])
        last = rows[-1].id


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qr_reference', sa.String(length=27), nullable=True))
        batch_op.add_column(sa.Column('creditor_reference', sa.String(length=25), nullable=True))
        batch_op.add_column(sa.Column('overpaid_amount', MONEY, nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_qr_reference', ['qr_reference'], unique=False)
        batch_op.create_index('ix_payments_creditor_reference', ['creditor_reference'], unique=False)

    op.create_table(
        'bank_statement_imports',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('document', sa.String(length=40), nullable=False),
        sa.Column('message_id', sa.String(length=120), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'bank_statement_entries',
        sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column('import_id', sa.BigInteger(), nullable=False),
        sa.Column('entry_key', sa.String(length=200), nullable=False),
        sa.Column('entry_reference', sa.String(length=200), nullable=False),
        sa.Column('booking_date', sa.Date(), nullable=True),
        sa.Column('reversal', sa.Boolean(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('payment_reference', sa.String(length=40), nullable=True),
        sa.Column('remittance_text', sa.Text(), nullable=True),
        sa.Column('debtor_name', sa.String(length=140), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('order_reference', sa.String(length=40), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('reverses_id', sa.BigInteger(), nullable=True),
        sa.Column('assigned_by', sa.String(length=120), nullable=True),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['bank_statement_imports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('entry_key', name='uq_bank_statement_entries_key'),
    )
    op.create_index('ix_bank_statement_entries_outcome', 'bank_statement_entries', ['outcome', 'id'])
    op.create_index('ix_bank_statement_entries_order', 'bank_statement_entries', ['order_reference', 'id'])
    op.create_index('ix_bank_statement_entries_import', 'bank_statement_entries', ['import_id', 'id'])


def downgrade():
    op.drop_table('bank_statement_entries')
    op.drop_table('bank_statement_imports')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_creditor_reference')
        batch_op.drop_index('ix_payments_qr_reference')
        for column in ('overpaid_amount', 'creditor_reference', 'qr_reference'):
            batch_op.drop_column(column)
