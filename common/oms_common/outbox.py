"""The relay that moves committed outbox rows to RabbitMQ.

Several replicas may run it at once: on PostgreSQL a batch is claimed with
``FOR UPDATE SKIP LOCKED`` and marked published in the same transaction, so a row is
published by one replica only. A crash between publish and commit republishes the batch;
consumers are idempotent on ``event_id``, which is what makes that harmless.
"""

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kombu import Connection, Producer
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.standalone.events import get_event_exchange
from sqlalchemy import Connection as DbConnection
from sqlalchemy import Engine, Row, Table, select, update

from .db import SessionSource, utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 200


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        outbox_table: Table,
        amqp_uri: str,
        service_name: str,
        poll_interval: float = 1.0,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox_table
        self.amqp_uri = amqp_uri
        self.service_name = service_name
        self.poll_interval = poll_interval
        self.exchange = get_event_exchange(service_name, config or {})
        self._wake = threading.Event()
        self._running = False
        self._thread: Any = None  # the green thread ``spawn`` returned
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    # lifecycle -----------------------------------------------------------
    def start(self, spawn: Callable[[Callable[[], None]], Any]) -> None:
        self._running = True
        self._thread = spawn(self._run)

    def stop(self, grace: float = 5.0) -> None:
        self._running = False
        self._wake.set()
        if self._thread is not None:
            # let a batch in flight finish (and be marked published) rather than be killed
            import eventlet

            with eventlet.Timeout(grace, False):
                self._thread.wait()
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - shutting down anyway
                pass
            self._connection = None

    def wake(self) -> None:
        self._wake.set()

    # work ----------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while self._running:
            self._wake.wait(self.poll_interval if failures == 0 else min(30, 2**failures))
            self._wake.clear()
            if not self._running:
                break
            try:
                while self._running and self.relay_batch() == BATCH_SIZE:
                    pass
                failures = 0
            except Exception:  # noqa: BLE001 - the relay must survive broker/database outages
                failures += 1
                log.exception("outbox relay of %s failed (attempt %s)", self.service_name, failures)
                self._reset_connection()

    def relay_batch(self) -> int:
        """Publishes up to one batch of unpublished events; returns how many."""
        query = (
            select(self.outbox.c.id, self.outbox.c.event_type, self.outbox.c.payload, self.outbox.c.correlation_id)
            .where(self.outbox.c.published_at.is_(None))
            .order_by(self.outbox.c.id)
            .limit(BATCH_SIZE)
        )
        with self.engine.begin() as connection:
            rows = connection.execute(query.with_for_update(skip_locked=True)).all()
            self._publish(rows)
            self._mark_published(connection, rows)
        return len(rows)

    def _mark_published(self, connection: DbConnection, rows: Sequence[Row[Any]]) -> None:
        if rows:
            connection.execute(
                update(self.outbox).where(self.outbox.c.id.in_([row.id for row in rows])).values(published_at=utcnow())
            )

    def _publish(self, rows: Sequence[Row[Any]]) -> None:
        if not rows:
            return
        producer = self._get_producer()
        for row in rows:
            headers: dict[str, Any] = {"nameko.call_id_stack": [f"{self.service_name}.outbox.{row.id}"]}
            if row.correlation_id:
                headers["nameko.correlation_id"] = row.correlation_id
            producer.publish(
                row.payload,
                exchange=self.exchange,
                routing_key=row.event_type,
                serializer="json",
                headers=headers,
                delivery_mode=2,
                retry=True,
                retry_policy={"max_retries": 3},
                declare=[self.exchange],
            )

    def _get_producer(self) -> Producer:
        if self._producer is None:
            self._connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
            self._producer = self._connection.Producer()
        return self._producer

    def _reset_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001
                pass
        self._connection = None
        self._producer = None


def relay_once(source: SessionSource, amqp_uri: str, service_name: str) -> int:
    """Publishes everything pending (used by tests and the operator CLI)."""
    relay = OutboxRelay(source.engine, source.infrastructure.outbox, amqp_uri, service_name)
    total = 0
    try:
        while True:
            count = relay.relay_batch()
            total += count
            if count < BATCH_SIZE:
                return total
    finally:
        relay._reset_connection()


def backlog(connection: DbConnection, outbox_table: Table) -> int:
    from sqlalchemy import func

    return connection.execute(
        select(func.count()).select_from(outbox_table).where(outbox_table.c.published_at.is_(None))
    ).scalar_one()


__all__ = ["OutboxRelay", "relay_once", "backlog", "AMQP_URI_CONFIG_KEY"]
