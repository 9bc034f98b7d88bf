"""Invoice numbers issued at commit

A submitted order's transaction leaves a row in ``invoice_number_requests``; a deferred
constraint trigger issues the number while the transaction commits: it locks the invoice
row of ``number_sequences``, takes the next number (``domain.next_number``: the start, or
one after the last), writes it on the order and into the order's outbox events and audit
entry (written with a placeholder), and removes the request. The row lock is what keeps the
numbers gapless and unique; held only inside COMMIT, it no longer waits for the service's
round trips, so concurrent orders queue for it only for the length of a commit.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ISSUE_FUNCTION = """
CREATE OR REPLACE FUNCTION issue_invoice_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    placeholder text := to_json('@@oms-invoice-number:' || NEW.order_id || '@@')::text;
    issued text;
    value text := 'null';
BEGIN
    UPDATE number_sequences SET last_issued = GREATEST(start_at, COALESCE(last_issued + 1, start_at))
     WHERE name = 'invoice' AND enabled
     RETURNING prefix || last_issued INTO issued;
    IF issued IS NOT NULL THEN
        UPDATE orders SET invoice_number = issued WHERE id = NEW.order_id;
        value := to_json(issued)::text;
    END IF;
    UPDATE outbox SET payload = replace(payload::text, placeholder, value)::json
     WHERE event_id = ANY (NEW.event_ids);
    UPDATE order_history SET details = replace(details::text, placeholder, value)::json
     WHERE order_id = NEW.order_id AND details IS NOT NULL AND strpos(details::text, placeholder) > 0;
    DELETE FROM invoice_number_requests WHERE order_id = NEW.order_id;
    RETURN NULL;
END
$$
"""


def upgrade():
    op.create_table(
        "invoice_number_requests",
        sa.Column("order_id", sa.BigInteger(), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("event_ids", postgresql.ARRAY(sa.String(64)), nullable=False),
    )
    op.execute(ISSUE_FUNCTION)
    op.execute("CREATE CONSTRAINT TRIGGER issue_invoice_number_at_commit AFTER INSERT ON invoice_number_requests"
               " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION issue_invoice_number()")


def downgrade():
    op.execute("DROP TRIGGER issue_invoice_number_at_commit ON invoice_number_requests")
    op.execute("DROP FUNCTION issue_invoice_number()")
    op.drop_table("invoice_number_requests")
