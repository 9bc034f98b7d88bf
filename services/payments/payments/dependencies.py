"""nameko dependency providers of the payments service (transport glue only)."""

import logging
import time

import eventlet
from nameko.extensions import DependencyProvider

from oms_common.rpc import TimedRpcProxy  # noqa: F401 - the service's RPC to orders
from oms_common.settings import check_settings, setting

from . import dunning_rules
from .psp import build_adapters
from .webhooks import parse_secrets


class PspAdapters(DependencyProvider):
    """The PSP adapters configured from the container's config, shared by all workers."""

    def setup(self):
        self.adapters = build_adapters(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.adapters


class Settings(DependencyProvider):
    """The payments settings workers use, read once through the typed reader (a wrong one stops
    the service at start, named)."""

    def setup(self):
        config = self.container.config
        check_settings(config, "payments")

        def read(key):
            return setting(config, key, "payments")

        self.settings = {
            "stripe_webhook_secrets": parse_secrets(read("STRIPE_WEBHOOK_SECRET")),
            "stripe_tolerance": read("STRIPE_WEBHOOK_TOLERANCE"),
            "stuck_after_seconds": read("RECONCILE_AFTER_SECONDS"),
            "reconcile_batch": read("RECONCILE_BATCH"),
            "reconcile_recheck_seconds": read("RECONCILE_RECHECK_SECONDS"),
            "open_at_psp": read("PSP_OPEN_ON_SUBMIT"),
            "rpc_timeout": read("ORDERS_RPC_TIMEOUT"),
            "bank_statement_max_bytes": read("BANK_STATEMENT_MAX_BYTES"),
            "bank_statement_dir": read("BANK_STATEMENT_DIR").strip() or None,
            # the fee is checked by the domain's rule (an amount from 0, at most three decimals)
            "dunning_fees": {
                level: dunning_rules.dunning_fee_setting(
                    f"OMS_DUNNING_FEE_{level}", read(f"DUNNING_FEE_{level}"), default
                )
                for level, default in dunning_rules.DEFAULT_DUNNING_FEES.items()
            },
            "auto_dunning": read("AUTO_DUNNING"),
            "dunning_1_after_days": read("DUNNING_1_AFTER_DAYS"),
            "dunning_2_after_days": read("DUNNING_2_AFTER_DAYS"),
            "timezone": read("SHOP_TIMEZONE"),
        }

    def get_dependency(self, worker_ctx):
        return self.settings


class InboxProcessor(DependencyProvider):
    """Runs beside the container and applies stored webhooks soon after they are acked.

    The listener wakes it after each stored event; it also polls (``INBOX_POLL_SECONDS``) so
    that rows stored by another replica, or due for a retry, are never left behind. Acking
    comes first: while the listener is busy (an event stored in the last
    ``INBOX_BUSY_PAUSE_SECONDS``), batches are small and followed by that pause, so that a
    burst of webhooks is answered quickly and applied in the gaps.
    """

    def __init__(self, database_attr="db", psp_attr="psp"):
        self.database_attr = database_attr
        self.psp_attr = psp_attr
        self._wake = None
        self._running = False
        self._thread = None

    def setup(self):
        config = self.container.config
        self.poll_interval = setting(config, "INBOX_POLL_SECONDS", "payments")
        self.batch = setting(config, "INBOX_BATCH", "payments")
        self.max_attempts = setting(config, "INBOX_MAX_ATTEMPTS", "payments")
        self.retry_base = setting(config, "INBOX_RETRY_BASE_SECONDS", "payments")
        self.busy_pause = setting(config, "INBOX_BUSY_PAUSE_SECONDS", "payments")
        self._last_accept = 0.0

    def _provider(self, attr):
        return next(d for d in self.container.dependencies if d.attr_name == attr)

    def start(self):
        from eventlet.event import Event

        self._wake = Event()
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run, identifier="webhook_inbox")

    def stop(self):
        self._running = False
        self.wake()
        if self._thread is not None:
            self._thread.wait()

    def kill(self):
        self._running = False
        if self._thread is not None:
            self._thread.kill()

    def accepted(self):
        """Called by the listener after it stored an event."""
        self._last_accept = time.monotonic()
        self.wake()

    def _busy(self):
        return time.monotonic() - self._last_accept < self.busy_pause

    def wake(self):
        if self._wake is not None and not self._wake.ready():
            self._wake.send(True)

    def _run(self):
        from .webhook_processing import process_inbox

        source = self._provider(self.database_attr).source
        adapters = self._provider(self.psp_attr).adapters
        failures = 0
        while self._running:
            with eventlet.Timeout(self.poll_interval if not failures else min(30, 2**failures), False):
                self._wake.wait()
            if self._wake.ready():
                self._wake.reset()
            if not self._running:
                break
            try:
                while self._running:
                    busy = self._busy()
                    limit = max(1, self.batch // 5) if busy else self.batch
                    done = process_inbox(
                        source, adapters, limit, self.max_attempts, self.retry_base, pause=lambda: eventlet.sleep(0)
                    )
                    if done < limit:
                        break
                    eventlet.sleep(self.busy_pause if busy else 0)
                failures = 0
            except Exception:  # noqa: BLE001 - database outage: back off and try again
                failures += 1
                logging.getLogger(__name__).exception("webhook inbox processing failed (attempt %s)", failures)

    def get_dependency(self, worker_ctx):
        return self
