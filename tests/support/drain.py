"""Proof of "exactly once" by condition: wait until nothing more can arrive, then count.

A test that wants to show that an effect happened once must not sleep and hope that a
wrong second effect would have shown up by then. It waits instead until every place such an
effect could still come from is empty — the consumers' queues in the broker (ready and
unacknowledged messages, retry queues included), the outbox rows not yet published, stored
webhooks not yet processed, mails still queued — and only then counts.
"""

import subprocess
import time

from .suite import wait_for


def queue_depths(vhost):
    """Messages per queue of ``vhost`` as the broker counts them (ready + unacknowledged)."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "--no-table-headers"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    depths = {}
    for line in listed.stdout.splitlines():
        name, _, count = line.rpartition("\t")
        if name:
            depths[name] = int(count)
    return depths


def consumer_backlog(vhost, consumers):
    """Messages still waiting for (or being worked on by) the handlers of ``consumers``.

    Parked queues are left out: a parked message does not come back by itself."""
    marks = tuple(f"--{consumer}." for consumer in consumers)
    return {
        name: count
        for name, count in queue_depths(vhost).items()
        if count and any(mark in name for mark in marks) and not name.endswith(".parked")
    }


def outbox_unpublished(source):
    """Rows of a service's outbox (a SessionSource) that the relay has not published yet."""
    from sqlalchemy import func, select

    outbox = source.infrastructure.outbox
    with source.engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        ).scalar()


def outbox_rows_about(source, text):
    """Rows of a service's outbox whose payload mentions ``text`` (an order reference, say):
    a refusal that emitted nothing leaves this count as it was."""
    from sqlalchemy import String, cast, func, select

    outbox = source.infrastructure.outbox
    with source.engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(outbox).where(cast(outbox.c.payload, String).contains(text))
        ).scalar()


def drain(vhost=None, consumers=(), *conditions, timeout=30.0, interval=0.1):
    """Waits until the consumers' queues are empty and every ``condition()`` is true, twice in a
    row (an effect in flight between two places shows in one of them at either look)."""
    pending = {}

    def quiet():
        pending.clear()
        if vhost:
            pending.update(consumer_backlog(vhost, consumers))
        pending.update({getattr(c, "__name__", repr(c)): "not yet" for c in conditions if not c()})
        return not pending

    def quiet_twice():
        if not quiet():
            return False
        time.sleep(interval)
        return quiet()

    try:
        return wait_for(quiet_twice, timeout=timeout, interval=interval, message="nothing more to come")
    except AssertionError as error:
        raise AssertionError(f"{error}; still pending: {pending}") from None
