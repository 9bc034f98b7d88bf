"""nameko dependency providers: the service's settings, the database (with its outbox relay)."""

from collections.abc import Callable
from typing import Any

from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

from .db import SessionSource, make_engine
from .outbox import OutboxRelay
from .settings import check_settings, database_url, setting
from .tables import Infrastructure


class Settings(DependencyProvider):
    """Checks every setting of the service when it starts (a wrong one stops it, named) and gives
    workers ``self.settings(key)``: the typed value of oms_common/settings.toml."""

    def setup(self) -> None:
        check_settings(self.container.config, self.container.service_name)

    def get_dependency(self, worker_ctx: WorkerContext) -> Callable[[str], Any]:
        config, service_name = self.container.config, self.container.service_name
        return lambda key: setting(config, key, service_name)


class Database(DependencyProvider):
    """Gives workers a ``SessionSource`` and runs the outbox relay beside the container."""

    def __init__(self, infrastructure: Infrastructure) -> None:
        self.infrastructure = infrastructure
        self.source: SessionSource | None = None
        self.relay: OutboxRelay | None = None

    def setup(self) -> None:
        config = self.container.config
        service_name = self.container.service_name
        url = database_url(setting(config, "DATABASE_URL", service_name), service_name)
        engine = make_engine(url, schema=service_name, pool_size=self.container.max_workers + 2)
        self.relay = OutboxRelay(
            engine,
            self.infrastructure.outbox,
            config[AMQP_URI_CONFIG_KEY],
            service_name,
            poll_interval=setting(config, "OUTBOX_POLL_SECONDS", service_name),
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


def database_of(container: Any) -> Database | None:
    """The ``Database`` of a service container, for a provider beside it that works with the
    same tables (the gateway's token check, the mail sender, the metrics collector)."""
    for dependency in container.dependencies:
        if isinstance(dependency, Database):
            return dependency
    return None


def sessions_of(container: Any, needed_by: str) -> SessionSource | None:
    """The session source of the container's ``Database``; ``needed_by`` names who asks, for
    the error a service without one gets at start."""
    database = database_of(container)
    if database is None:
        raise RuntimeError(f"{needed_by} needs a Database dependency on the same service.")
    return database.source
