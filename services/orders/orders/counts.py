"""The per-status order counts (table ``order_counts``) the list answers its totals from."""

from sqlalchemy import text
from sqlalchemy.orm import Session

COUNT_SHARDS = 64
# An upsert (two transactions creating the first row of a pair must not collide) into this
# connection's own shard: a connection runs one transaction at a time, so concurrent creations
# add to different rows instead of queueing for the one (new, unpaid) row. Plain SQL: SQLAlchemy
# does not cache the compiled form of INSERT … ON CONFLICT.
_COUNT = text(
    "INSERT INTO order_counts (status, payment_status, shard, count)"
    f" VALUES (:status, :payment_status, pg_backend_pid() % {COUNT_SHARDS}, :delta)"
    " ON CONFLICT (status, payment_status, shard) DO UPDATE SET count = order_counts.count + EXCLUDED.count"
)

CountKey = tuple[str, str]  # (status, payment status)


def count(session: Session, status: str, payment_status: str, delta: int) -> None:
    session.execute(_COUNT, {"status": status, "payment_status": payment_status, "delta": delta})


def move_count(session: Session, old_key: CountKey, new_key: CountKey) -> None:
    """One order leaves the count of ``old_key`` for that of ``new_key``."""
    if old_key == new_key:
        return
    # rows in a fixed order, so that opposite moves running at once cannot deadlock
    for key, delta in sorted([(old_key, -1), (new_key, 1)]):
        count(session, *key, delta)
