"""nameko dependency providers: the database (with its outbox relay)."""

from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from .db import SessionSource, make_engine
from .outbox import OutboxRelay
from .settings import database_url
from .tables import Infrastructure


class Database(DependencyProvider):
    """Gives workers a ``SessionSource`` and runs the outbox relay beside the container."""

    def __init__(self, infrastructure: Infrastructure) -> None:
        self.infrastructure = infrastructure
        self.source: SessionSource | None = None
        self.relay: OutboxRelay | None = None

    def setup(self) -> None:
        config = self.container.config
        service_name = self.container.service_name
        url = database_url(config.get("DATABASE_URL"), service_name)
        schema = config.get("DATABASE_SCHEMA") or service_name
        engine = make_engine(url, schema=schema, pool_size=self.container.max_workers + 2)
        self.relay = OutboxRelay(
            engine,
            self.infrastructure.outbox,
            config[AMQP_URI_CONFIG_KEY],
            service_name,
            poll_interval=float(config.get("OUTBOX_POLL_SECONDS") or 1.0),
            config=config,
        )
        self.source = SessionSource(engine, self.infrastructure, on_events_committed=self.relay.wake)

    def start(self) -> None:
        assert self.relay is not None, "nameko runs setup before start"
        self.relay.start(lambda fn: self.container.spawn_managed_thread(fn, identifier="outbox_relay"))

    def stop(self) -> None:
        # also a kill after a setup that failed: nothing it did not make is left to stop
        if self.relay is not None:
            self.relay.stop()
        if self.source is not None:
            self.source.engine.dispose()

    kill = stop

    def get_dependency(self, worker_ctx: WorkerContext) -> SessionSource | None:
        return self.source
