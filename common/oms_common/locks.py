"""PostgreSQL advisory locks held until the transaction ends: serialising the handlers of one key
(an order reference, a customer) without a row to lock, because the row may not exist yet."""

from typing import Any

from sqlalchemy import text


def _signed(space: int) -> int:
    # pg_advisory_xact_lock(int, int) takes signed 32-bit keys; spaces are written as hex constants
    return space - 2**32 if space >= 2**31 else space


def lock_key(session: Any, space: int, key: object) -> None:
    """Waits for, then holds until commit or rollback, the lock of ``key`` within ``space``."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"), {"space": _signed(space), "key": str(key)}
    )
