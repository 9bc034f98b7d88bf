"""Work that one replica at a time does (a folder scan, the automatic dunning): the others skip
the round instead of waiting for it."""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import text

T = TypeVar("T")


def on_one_replica(engine: Any, key: int, work: Callable[[], T]) -> T | None:
    """``work()`` under the session advisory lock ``key``; None, at once, when another holds it."""
    with engine.connect() as connection:
        if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            return None
        try:
            return work()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()
