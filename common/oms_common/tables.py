"""Tables every service that owns data carries in its own schema: outbox and consumed events."""

from types import SimpleNamespace

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table


class Infrastructure(SimpleNamespace):
    """The two tables of one service's schema, as ``install_infrastructure`` returns them."""

    outbox: Table
    processed_events: Table


def install_infrastructure(metadata: MetaData) -> Infrastructure:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(80), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("correlation_id", String(64)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, default=0),
    )
    Index("ix_outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))
    processed_events = Table(
        "processed_events",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("applied_at", DateTime(timezone=True), nullable=False),
    )
    return Infrastructure(outbox=outbox, processed_events=processed_events)
