"""Sign-in throttling by client address and by (address, user name), with growing delays.

There is no account lock that a stranger could trigger: failures from one address slow down
only that address. After ``after`` failures for one user name from one address (or
``address_after`` failures of any names from one address), each further failure blocks that
key for ``delay`` seconds, doubling up to ``max_delay``; while blocked, attempts are refused
without looking at the password. Failures older than ``forget`` seconds start over. A correct
sign-in clears its own (address, user) key; the address key only expires, so signing in to an
account one owns does not buy more guesses at others. ``oms users unlock`` clears a user's keys.
"""

import math
from datetime import timedelta

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from oms_common.settings import setting

from .models import SignInThrottle

ADDRESS, USER = "address", "user"


class ThrottlePolicy:
    def __init__(self, after=3, address_after=10, delay=5.0, max_delay=900.0, forget=3600.0):
        self.after = max(1, int(after))
        self.address_after = max(1, int(address_after))
        self.delay = max(0.0, float(delay))
        self.max_delay = max(self.delay, float(max_delay))
        self.forget = max(1.0, float(forget))

    @classmethod
    def from_settings(cls, settings):
        def value(key):
            return setting(settings, key, "gateway")

        return cls(
            after=value("SIGN_IN_THROTTLE_AFTER"),
            address_after=value("SIGN_IN_THROTTLE_ADDRESS_AFTER"),
            delay=value("SIGN_IN_DELAY_SECONDS"),
            max_delay=value("SIGN_IN_DELAY_MAX_SECONDS"),
            forget=value("SIGN_IN_FORGET_SECONDS"),
        )

    def threshold(self, scope):
        return self.after if scope == USER else self.address_after

    def block_seconds(self, scope, failures):
        """How long a key stays blocked after its ``failures``-th failure (0: not blocked)."""
        over = failures - self.threshold(scope)
        if over < 0 or self.delay == 0:
            return 0.0
        return min(self.max_delay, self.delay * 2 ** min(over, 32))


def keys(address, username):
    address = (address or "unknown")[:64]
    return [(ADDRESS, address, ""), (USER, address, (username or "")[:80])]


def lock_keys(session, address, username, now):
    """The key rows of this attempt, created when missing and locked (in key order, so two
    attempts wait for each other instead of deadlocking; each replica sees the others' counts)."""
    wanted = keys(address, username)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SignInThrottle)
        .values(
            [{"scope": s, "address": a, "username": u, "failures": 0, "last_failure_at": now} for s, a, u in wanted]
        )
        .on_conflict_do_nothing(index_elements=["scope", "address", "username"])
    )
    rows = (
        session.execute(
            select(SignInThrottle)
            .where(tuple_(SignInThrottle.scope, SignInThrottle.address, SignInThrottle.username).in_(wanted))
            .order_by(SignInThrottle.scope, SignInThrottle.address, SignInThrottle.username)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    return rows


def retry_after(rows, now):
    """Whole seconds until every key of the attempt is free again (0: not blocked)."""
    waits = [
        (row.blocked_until - now).total_seconds()
        for row in rows
        if row.blocked_until is not None and row.blocked_until > now
    ]
    return max(1, math.ceil(max(waits))) if waits else 0


def record_failure(rows, now, policy):
    for row in rows:
        if row.failures and (now - row.last_failure_at).total_seconds() > policy.forget:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        seconds = policy.block_seconds(row.scope, row.failures)
        row.blocked_until = now + timedelta(seconds=seconds) if seconds else None


def record_success(session, rows):
    for row in rows:
        if row.scope == USER or row.failures == 0:
            session.delete(row)


def unlock(source, username, address=None):
    """Clears the throttle of a user name on every address (and, given one, that address's own
    key). Returns how many keys were cleared."""
    condition = (SignInThrottle.scope == USER) & (SignInThrottle.username == username)
    if address:
        condition = or_(condition, (SignInThrottle.scope == ADDRESS) & (SignInThrottle.address == address))
    with source.unit_of_work() as uow:
        cleared = uow.session.execute(delete(SignInThrottle).where(condition)).rowcount
        uow.commit()
    return cleared


def blocked(source, now):
    """Keys blocked right now (the operator CLI lists them)."""
    with source.read_session() as session:
        rows = (
            session.execute(
                select(SignInThrottle)
                .where(SignInThrottle.blocked_until > now)
                .order_by(SignInThrottle.blocked_until.desc())
            )
            .scalars()
            .all()
        )
        return [
            {
                "scope": row.scope,
                "address": row.address,
                "username": row.username or None,
                "failures": row.failures,
                "blocked_until": row.blocked_until.isoformat(),
            }
            for row in rows
        ]
