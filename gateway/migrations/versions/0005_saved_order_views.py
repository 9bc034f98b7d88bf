"""saved order views: per-user named lists (filters, sort, columns), one default, shareable

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_order_views",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("owner_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("sort", sa.String(30), nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("uq_saved_order_views_owner_name", "saved_order_views", ["owner_id", "name"], unique=True)
    op.create_index("uq_saved_order_views_one_default", "saved_order_views", ["owner_id"], unique=True,
                    postgresql_where=sa.text("is_default"))
    op.create_index("ix_saved_order_views_shared", "saved_order_views", ["shared"],
                    postgresql_where=sa.text("shared"))


def downgrade():
    op.drop_table("saved_order_views")
