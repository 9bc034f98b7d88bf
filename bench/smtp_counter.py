"""An SMTP server for benchmarks, in a process of its own: it accepts every message, keeps none,
and reports each one as a line, so the benchmark counts mails at the server without slowing it.

    python bench/smtp_counter.py PORT   # prints READY, then "M" per message, until stdin closes
"""

import subprocess
import sys
import threading
from pathlib import Path


def serve(port):
    from aiosmtpd.controller import Controller

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support import smtp_sink

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            sys.stdout.write("M\n")
            sys.stdout.flush()
            return "250 OK"

    smtp_sink.serve(Controller(Counter(), hostname="127.0.0.1", port=port))


class SmtpCounter:
    """The server started on ``port``; ``count`` is how many messages it has accepted so far."""

    def __init__(self, port):
        self.port = port
        self.count = 0
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "READY":
            raise SystemExit("the SMTP sink did not start")
        threading.Thread(target=self._count, daemon=True).start()

    def _count(self):
        for _ in self.process.stdout:
            self.count += 1

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
