"""nameko glue for the mail sender: a dependency that runs the delivery loop beside the
container and gives workers the renderer, the mail settings and a way to wake the loop."""

import logging
import threading
from datetime import timedelta

from nameko.extensions import DependencyProvider

from oms_common.providers import sessions_of

from . import settings as config_settings
from .delivery import deliver_due
from .rendering import Renderer
from .smtp import SmtpTransport

log = logging.getLogger(__name__)


class MailSender(DependencyProvider):
    """Sends due mails from the ``mails`` table; one loop per replica (rows are claimed with
    ``FOR UPDATE SKIP LOCKED``, so replicas share the work without sending a mail twice)."""

    def setup(self):
        config = self.container.config
        self.settings = config_settings.mail_settings(config)
        self.smtp = config_settings.smtp_settings(config)
        self.sender = config_settings.sender_settings(config)
        self.renderer = Renderer(strict=config_settings.strict_templates(config))
        self.transport = SmtpTransport(self.smtp)
        self.lease = timedelta(seconds=self.sender.lease_for(self.smtp.timeout))
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._running = False

    def _database(self):
        return sessions_of(self.container, "MailSender")

    def start(self):
        self._running = True
        self.container.spawn_managed_thread(self._run, identifier="mail_sender")

    def stop(self):
        """Lets the mail in flight finish (the rest of the round is released), so that a
        graceful stop never cuts an SMTP conversation short."""
        self._running = False
        self._wake.set()
        self._idle.wait(self.smtp.timeout + 5)
        self.transport.close_idle()

    def kill(self):
        self._running = False
        self._wake.set()

    def wake(self):
        self._wake.set()

    def _run(self):
        source = self._database()
        failures = 0
        while self._running:
            self._wake.wait(self.sender.poll_seconds if failures == 0 else min(30, 2**failures))
            self._wake.clear()
            if not self._running:
                break
            self._idle.clear()
            try:
                while self._running:
                    report = deliver_due(
                        source,
                        self.transport,
                        self.settings,
                        batch_size=self.sender.batch_size,
                        lease=self.lease,
                        keep_going=lambda: self._running,
                        parallel=self.sender.parallel,
                    )
                    if report.claimed < self.sender.batch_size or report.retried or report.failed:
                        break
                failures = 0
            except Exception:  # noqa: BLE001 - the sender must survive database outages
                failures += 1
                log.exception("mail sender round failed (attempt %s)", failures)
            finally:
                self._idle.set()

    def get_dependency(self, worker_ctx):
        return self
