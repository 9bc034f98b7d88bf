"""The SMTP connection the sender talks through: TLS as configured, kept open between rounds and
replaced once when the server closed it meanwhile, and which failures are permanent."""

import logging
import smtplib
import ssl
import threading
import time

from . import mail_headers

log = logging.getLogger(__name__)


class SmtpTransport:
    """Opens SMTP connections as configured (plain, STARTTLS or SSL, optional login) and
    keeps idle ones for ``settings.keep_idle_seconds`` (0: closed after each round)."""

    def __init__(self, settings):
        self.settings = settings
        self._idle = []  # (client, idle since)
        self._lock = threading.Lock()

    def acquire(self):
        """(client, kept): a connection kept from an earlier round if one is fresh enough, else a new one."""
        keep = getattr(self.settings, "keep_idle_seconds", 0) or 0
        now = time.monotonic()
        with self._lock:
            while self._idle:
                client, since = self._idle.pop()
                if now - since <= keep:
                    return client, True
                quietly_close(client)
        return self.connect(), False

    def give_back(self, client):
        """A healthy connection after a lane: kept for the next round, or closed."""
        if client is None:
            return
        if (getattr(self.settings, "keep_idle_seconds", 0) or 0) > 0:
            with self._lock:
                self._idle.append((client, time.monotonic()))
        else:
            quietly_close(client)

    def close_idle(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for client, _since in idle:
            quietly_close(client)

    def _tls_context(self):
        context = ssl.create_default_context()
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def connect(self):
        s = self.settings
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls_context())
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.security == "starttls":
                client.starttls(context=self._tls_context())
                client.ehlo()
            if s.user:
                client.login(s.user, s.password)
        except BaseException:
            quietly_close(client)
            raise
        return client


def quietly_close(client):
    if client is None:
        return
    try:
        client.quit()
    except Exception:  # noqa: BLE001 - closing a broken connection
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass


def is_permanent(error):
    """SMTP 5xx replies and unusable addresses will not get better by retrying."""
    if isinstance(error, mail_headers.NotificationError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600 and not isinstance(error, smtplib.SMTPAuthenticationError)
    return False


def describe(error):
    text = f"{type(error).__name__}: {error}"
    return text[:2000]
