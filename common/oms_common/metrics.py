"""Prometheus metrics for a nameko service: ``metrics = Metrics()`` on the service class.

What every service exposes (``prometheus_client``; one ``nameko run`` process = one service):

- ``oms_entrypoint_calls_total{service, entrypoint}`` — workers run, per entrypoint (RPC,
  event handler, timer, HTTP);
- ``oms_entrypoint_failures_total{service, entrypoint, expected}`` — workers that raised;
  ``expected="true"`` for the entrypoint's ``expected_exceptions`` (4xx-like business errors);
- ``oms_entrypoint_latency_seconds{service, entrypoint}`` — a histogram of worker durations;
- ``oms_outbox_backlog{service}`` — outbox rows not yet published (read at scrape time);
- ``oms_parked_events{service, queue}`` — messages parked after the last retry, per handler;
- ``oms_mail_queue{service, status}`` — notifications only: mails per status (``queued``,
  ``failed``, ``sent``...), when the provider is given ``mail_table``.

Where: every service serves ``/metrics`` on a port of its own, started by this provider on the OMS listener
(``oms_common.listener``: bound exclusively, request deadlines) — the same mechanism for services with and
without an ``@http`` listener, never behind the public gateway port, and no entrypoint to add. The address
comes from the environment: ``OMS_METRICS_PORT_<SERVICE>`` (e.g. ``OMS_METRICS_PORT_ORDERS=9101``) or else
``OMS_METRICS_PORT`` (one port for every service: containers/pods, one service each), host
``OMS_METRICS_HOST`` (default 127.0.0.1; 0.0.0.0 in containers). Nothing set or ``0``: no listener (metrics
are still counted). Gauges that need I/O are read when scraped, each with its own short deadline, so a slow
database cannot wedge a scrape.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import eventlet
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY, Counter, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily

from .setting_types import SettingsError, whole
from .settings import setting

if TYPE_CHECKING:
    from .events import ExcInfo
    from .providers import Database
    from .standalone_listener import StandaloneListener

T = TypeVar("T")
log = logging.getLogger(__name__)

CALLS = Counter("oms_entrypoint_calls", "Workers run, per entrypoint", ["service", "entrypoint"])
FAILURES = Counter(
    "oms_entrypoint_failures", "Workers that raised, per entrypoint", ["service", "entrypoint", "expected"]
)
LATENCY = Histogram(
    "oms_entrypoint_latency_seconds",
    "Worker duration, per entrypoint",
    ["service", "entrypoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SCRAPE_DEADLINE_SECONDS = 3.0


def metrics_address(service_name: str, environ: Mapping[str, str] | None = None) -> tuple[str, int] | None:
    """(host, port) for this service's /metrics, or None when no port is configured."""
    environ = os.environ if environ is None else environ
    own = environ.get(f"OMS_METRICS_PORT_{service_name.upper()}")  # beside the table: one per service
    port = own_port(own) if own else setting(None, "OMS_METRICS_PORT", service_name, environ)
    if not port:
        return None
    return setting(None, "OMS_METRICS_HOST", service_name, environ), port


def own_port(text: str) -> int:
    try:
        return whole(0).value(text)
    except ValueError as problem:
        raise SettingsError(f"OMS_METRICS_PORT_<SERVICE> {problem}; it is {text!r}.") from None


class _StateCollector:
    """Gauges read at scrape time: outbox backlog, parked events, mail queue."""

    def __init__(self, provider: "Metrics") -> None:
        self.provider = provider

    def describe(self) -> list[GaugeMetricFamily]:
        # the names only: lets the registry check for clashes without reading anything
        return [
            GaugeMetricFamily("oms_outbox_backlog", "", labels=["service"]),
            GaugeMetricFamily("oms_parked_events", "", labels=["service", "queue"]),
            GaugeMetricFamily("oms_mail_queue", "", labels=["service", "status"]),
        ]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        service = self.provider.container.service_name
        for family in (self._outbox(service), self._parked(service), self._mails(service)):
            if family is not None:
                yield family

    def _guarded(self, what: str, read: Callable[[], T]) -> T | None:
        try:
            with eventlet.Timeout(SCRAPE_DEADLINE_SECONDS):
                return read()
        except (Exception, eventlet.Timeout) as error:  # noqa: BLE001 - a scrape never fails as a whole
            log.warning("metrics: could not read %s: %r", what, error)
            return None

    def _outbox(self, service: str) -> GaugeMetricFamily | None:
        database = self.provider.database()
        source = database.source if database is not None else None
        if database is None or source is None:
            return None

        def read() -> int:
            from .outbox import backlog

            with source.engine.connect() as connection:
                return backlog(connection, database.infrastructure.outbox)

        count = self._guarded("outbox backlog", read)
        family = GaugeMetricFamily("oms_outbox_backlog", "Outbox events not yet published", labels=["service"])
        if count is not None:
            family.add_metric([service], count)
        return family

    def _parked(self, service: str) -> GaugeMetricFamily:
        queues = self.provider.handler_queues()
        family = GaugeMetricFamily(
            "oms_parked_events", "Events parked after the last retry, per handler queue", labels=["service", "queue"]
        )
        if not queues:
            return family

        def read() -> dict[str, int]:
            from kombu import Connection

            depths: dict[str, int] = {}
            with Connection(self.provider.container.config["AMQP_URI"], connect_timeout=2) as connection:
                for queue in queues:
                    channel = connection.channel()
                    try:
                        depths[queue] = channel.queue_declare(queue=queue + ".parked", passive=True).message_count
                    except Exception:  # noqa: BLE001 - not declared yet: nothing parked
                        depths[queue] = 0
                    finally:
                        try:
                            channel.close()
                        except Exception:  # noqa: BLE001
                            pass
            return depths

        depths = self._guarded("parked queues", read) or {}
        for queue, depth in sorted(depths.items()):
            family.add_metric([service, queue], depth)
        return family

    def _mails(self, service: str) -> GaugeMetricFamily | None:
        table = self.provider.mail_table
        database = self.provider.database()
        source = database.source if database is not None else None
        if not table or source is None:
            return None

        def read() -> dict[str, int]:
            from sqlalchemy import text

            with source.engine.connect() as connection:
                rows = connection.execute(text(f"SELECT status, count(*) FROM {table} GROUP BY status")).tuples()
                return dict(rows.all())

        counts = self._guarded("mail queue", read)
        family = GaugeMetricFamily("oms_mail_queue", "Mails per delivery status", labels=["service", "status"])
        for status, count in sorted((counts or {}).items()):
            family.add_metric([service, status], count)
        return family


class Metrics(DependencyProvider):
    """Counts every worker and serves the process's metrics (see the module doc)."""

    _servers: dict[tuple[str, int], "StandaloneListener"] = {}  # one HTTP server per process and address

    def __init__(self, mail_table: str | None = None) -> None:
        self.mail_table = mail_table
        self._started: dict[WorkerContext, float] = {}
        self._collector: _StateCollector | None = None

    def setup(self) -> None:
        self._collector = _StateCollector(self)
        try:
            REGISTRY.register(self._collector)
        except ValueError:  # a second container of the same process (tests): one collector is enough
            self._collector = None

    def start(self) -> None:
        address = metrics_address(self.container.service_name)
        if address and address not in Metrics._servers:
            from .standalone_listener import StandaloneListener

            Metrics._servers[address] = StandaloneListener(
                address[0], address[1], make_wsgi_app(REGISTRY), self.container.config
            )
            log.info("metrics for %s on http://%s:%s/metrics", self.container.service_name, *address)

    def stop(self) -> None:
        if self._collector is not None:
            try:
                REGISTRY.unregister(self._collector)
            except KeyError:
                pass
            self._collector = None
        address = metrics_address(self.container.service_name)
        server = Metrics._servers.pop(address, None) if address else None
        if server is not None:
            server.close()

    kill = stop

    # ------------------------------------------------------------ what the collector reads

    def database(self) -> "Database | None":
        from .providers import database_of

        return database_of(self.container)

    def handler_queues(self) -> list[str]:
        from .events import ReliableEventHandler

        return sorted(
            entrypoint.queue.name
            for entrypoint in self.container.entrypoints
            if isinstance(entrypoint, ReliableEventHandler) and getattr(entrypoint, "queue", None)
        )

    # ------------------------------------------------------------ worker hooks

    def worker_setup(self, worker_ctx: WorkerContext) -> None:
        self._started[worker_ctx] = time.monotonic()

    def worker_result(self, worker_ctx: WorkerContext, result: Any = None, exc_info: "ExcInfo | None" = None) -> None:
        service = self.container.service_name
        entrypoint = worker_ctx.entrypoint.method_name
        started = self._started.pop(worker_ctx, None)
        CALLS.labels(service, entrypoint).inc()
        if started is not None:
            LATENCY.labels(service, entrypoint).observe(time.monotonic() - started)
        if exc_info is not None:
            expected = isinstance(exc_info[1], tuple(getattr(worker_ctx.entrypoint, "expected_exceptions", ()) or ()))
            FAILURES.labels(service, entrypoint, "true" if expected else "false").inc()

    def worker_teardown(self, worker_ctx: WorkerContext) -> None:
        self._started.pop(worker_ctx, None)

    def get_dependency(self, worker_ctx: WorkerContext) -> None:
        return None
