"""SQLAlchemy 2 engines and the unit of work every service uses.

One engine per service container, always PostgreSQL (the machine's, production's, or the
embedded server `make run` starts). Every service lives in its own schema (selected through
``search_path``) and psycopg2 is made cooperative with the eventlet hub (a blocking driver
would starve AMQP heartbeats).
"""

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, Select, create_engine, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .logs import current_correlation_id
from .settings import require_postgresql
from .tables import Infrastructure

# what a committed unit of work calls when it wrote events (the relay's wake-up)
OnEventsCommitted = Callable[[], object] | None

_psycopg_patched = False


def _make_psycopg_green() -> None:
    global _psycopg_patched
    if _psycopg_patched:
        return
    try:
        from eventlet import patcher
    except ImportError:  # pragma: no cover - eventlet always ships with nameko
        return
    if patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()
        _psycopg_patched = True


def make_engine(url: str, schema: str | None = None, pool_size: int = 10, echo: bool = False) -> Engine:
    require_postgresql(url)
    _make_psycopg_green()
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=pool_size,
        max_overflow=2,  # workers are bounded; extra connections only cost the server
        pool_pre_ping=True,
        echo=echo,
    )


def ensure_schema(engine: Engine, schema: str | None) -> None:
    if schema:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


def claim_rows(session: Session, query: Select[Any], limit: int) -> Sequence[Any]:
    """Up to ``limit`` rows of ``query`` that no other replica holds, locked until the
    transaction ends (``FOR UPDATE SKIP LOCKED``): how replicas share a batch of work."""
    return session.execute(query.limit(limit).with_for_update(skip_locked=True)).scalars().all()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def event_envelope(event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The event as the outbox keeps and sends it: its id, time and type beside the payload."""
    event = dict(payload)
    event.setdefault("event_id", uuid.uuid4().hex)
    event.setdefault("occurred_at", utcnow().isoformat())
    event.setdefault("event_type", event_type)
    return event


class UnitOfWork:
    """One transaction: the state change, the events it announces and the events it consumed.

    Events are written to the outbox table inside the same transaction; the relay publishes
    them after commit. ``claim_event`` records an incoming event id in the same transaction,
    which is what makes a redelivered event change nothing.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        infrastructure: Infrastructure,
        on_events_committed: OnEventsCommitted = None,
    ) -> None:
        self._session_factory = session_factory
        self._infra = infrastructure
        self._on_events_committed = on_events_committed
        self._emitted: list[dict[str, Any]] = []
        # typed as always there: it is used only inside ``with``, where __enter__ has set it
        self.session: Session = None  # type: ignore[assignment]

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def emit(self, event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        payload = event_envelope(event_type, payload)
        self.session.execute(
            insert(self._infra.outbox).values(
                event_id=payload["event_id"],
                event_type=event_type,
                payload=payload,
                correlation_id=current_correlation_id(),
                created_at=utcnow(),
            )
        )
        self._emitted.append(payload)
        return payload

    def emit_many(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
        """Like ``emit`` for each ``(event_type, payload)``, written in one statement: for use
        cases that announce thousands of changes in one transaction (a bank statement)."""
        payloads: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for event_type, payload in events:
            payload = event_envelope(event_type, payload)
            payloads.append(payload)
            rows.append(
                {
                    "event_id": payload["event_id"],
                    "event_type": event_type,
                    "payload": payload,
                    "correlation_id": current_correlation_id(),
                    "created_at": utcnow(),
                }
            )
        if rows:
            self.session.execute(insert(self._infra.outbox), rows)
            self._emitted.extend(payloads)
        return payloads

    def claim_event(self, event_id: str | int, consumer: str) -> bool:
        """True the first time ``consumer`` sees ``event_id``; False on a redelivery."""
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(self._infra.processed_events).values(
                        consumer=consumer, event_id=str(event_id), applied_at=utcnow()
                    )
                )
        except IntegrityError:
            return False
        return True

    def commit(self) -> list[dict[str, Any]]:
        self.session.commit()
        emitted, self._emitted = self._emitted, []
        if emitted and self._on_events_committed:
            self._on_events_committed()
        return emitted


class SessionSource:
    """Engine plus session factory, usable with or without a nameko container."""

    def __init__(
        self, engine: Engine, infrastructure: Infrastructure, on_events_committed: OnEventsCommitted = None
    ) -> None:
        self.engine = engine
        self.infrastructure = infrastructure
        self.session_factory = sessionmaker(engine, expire_on_commit=False)
        self.on_events_committed = on_events_committed

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.infrastructure, self.on_events_committed)

    def read_session(self) -> Session:
        return self.session_factory()

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
