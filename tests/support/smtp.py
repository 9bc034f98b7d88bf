"""A real SMTP server for tests: aiosmtpd in its own process (see smtp_sink.py)."""

import email
import json
import subprocess
import sys
from email import policy
from pathlib import Path

from .suite import free_port, wait_for

SINK_SCRIPT = Path(__file__).with_name("smtp_sink.py")


class SmtpSink:
    """Controls the aiosmtpd process and reads what it received."""

    def __init__(self, outdir):
        self.outdir = Path(outdir)
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, str(SINK_SCRIPT), str(self.port), str(self.outdir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line.strip() == "READY", f"SMTP sink did not start: {line!r}"

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def messages(self):
        found = []
        for path in sorted(self.outdir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            envelope = json.loads(path.with_suffix(".json").read_text())
            found.append((message, envelope))
        return found

    def for_event(self, event_id):
        return [m for m, _e in self.messages() if m["X-OMS-Event-ID"] == event_id]

    def wait_for_count(self, count, timeout=15.0):
        return wait_for(
            lambda: len(self.messages()) >= count and self.messages(),
            timeout,
            message=f"{count} message(s) at the SMTP server",
        )
