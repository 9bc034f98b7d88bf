"""A real SMTP server for the tests (aiosmtpd), run as its own process.

It runs outside the eventlet-patched test process on purpose (aiosmtpd is asyncio) and so
that a test can take the server down and bring it back on the same port. Every accepted
message is written to ``<outdir>/<n>.eml`` with its envelope in ``<n>.json``. Recipients
starting with ``reject`` are refused with 550 (a permanent failure).

    python smtp_sink.py <port> <outdir>
"""

import json
import os
import sys
import threading
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("reject"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = f"{uuid.uuid4().hex}"
        tmp = os.path.join(self.outdir, f".{name}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(envelope.original_content or envelope.content)
        with open(os.path.join(self.outdir, f"{name}.json"), "w") as handle:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}, handle)
        os.rename(tmp, os.path.join(self.outdir, f"{name}.eml"))
        return "250 Message accepted for delivery"


def serve(controller):
    """Starts ``controller``, says READY on stdout and serves until the parent process closes our
    stdin or kills us (the way every SMTP server of the tests and benchmarks is controlled)."""
    controller.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    serve(Controller(Sink(outdir), hostname="127.0.0.1", port=port))


if __name__ == "__main__":
    main()
