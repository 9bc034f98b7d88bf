"""JSON logs that carry the correlation id of the request that caused them.

The id enters at the gateway (``X-Request-ID`` or a fresh one), travels in nameko's
context data through RPC calls and event headers, and is stored with outbox rows so that
events published later by the relay carry it too.
"""

import contextvars
import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider

CORRELATION_KEY = "correlation_id"
_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> None:
    _correlation_id.set(value)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        correlation_id = current_correlation_id()
        if correlation_id:
            entry["correlation_id"] = correlation_id
        for key in ("service", "entrypoint", "event_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class CorrelationContext(DependencyProvider):
    """Makes every worker carry a correlation id and expose it to logging."""

    def incoming_id(self, worker_ctx: WorkerContext) -> str | None:
        """An id the caller chose; RPC and event headers arrive in context_data already."""
        return None

    def ensure_id(self, worker_ctx: WorkerContext) -> str:
        correlation_id = worker_ctx.context_data.get(CORRELATION_KEY)
        if not correlation_id:
            correlation_id = self.incoming_id(worker_ctx) or new_correlation_id()
            # context_data is a copy; ``data`` is what RPC calls and events carry on
            worker_ctx.data[CORRELATION_KEY] = correlation_id
        return correlation_id

    def get_dependency(self, worker_ctx: WorkerContext) -> str:
        # nameko injects dependencies before worker_setup, so the id is settled here
        return self.ensure_id(worker_ctx)

    def worker_setup(self, worker_ctx: WorkerContext) -> None:
        set_correlation_id(self.ensure_id(worker_ctx))

    def worker_teardown(self, worker_ctx: WorkerContext) -> None:
        set_correlation_id(None)
