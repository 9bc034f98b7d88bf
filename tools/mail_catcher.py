"""The local outbox of `make run`: an SMTP server (aiosmtpd) that keeps every mail as a file.

Without OMS_SMTP_HOST nothing would deliver the suite's mails; this catcher accepts them on
the SMTP port and writes each one to ``var/mail/<UTC time>-<random>.eml`` (written under a
temporary name and renamed, so a reader never sees half a mail). The admin UI lists them
under "Outbox (local)".
"""

import os
import secrets
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class _KeepAsFile:
    def __init__(self, directory):
        self.directory = Path(directory)

    async def handle_DATA(self, server, session, envelope):
        name = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(6)
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(envelope.original_content or envelope.content)
        os.replace(temporary, self.directory / f"{name}.eml")
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self, directory, host, port):
        self.directory = Path(directory)
        self.host, self.port = host, port
        self._controller = None

    def start(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_KeepAsFile(self.directory), hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
