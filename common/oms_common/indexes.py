"""Index shapes the schemas declare alike."""

import sqlalchemy as sa


def unique_where(name: str, *columns: str, where: str) -> sa.Index:
    """A partial unique index: ``columns`` are unique among the rows for which the SQL ``where``
    holds (one invoice per order, one 'payment received' mail per order, …)."""
    return sa.Index(name, *columns, unique=True, postgresql_where=sa.text(where))
