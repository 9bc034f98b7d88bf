"""Webhook bench: signed Stripe webhooks accepted per second (verify + inbox + 2xx, target ≥ 500/s),
beside the same listener answering an unsigned no-op (bench/variants/payments_noop.py: a route the
production listener does not have), measured in the same run.

    .venv/bin/python bench/webhooks_bench.py [--requests 5000] [--concurrency 32] [--clients 4] [--max-workers 32]

It creates a private PostgreSQL database (payments migrations applied) and a private RabbitMQ
vhost, runs the payments service with ``nameko run`` in a subprocess (its HTTP listener on a free
port), and drives it from several client processes over keep-alive connections. Every signed
event is unique (a real inbox row each); processing after the 2xx runs in the same service
meanwhile, as it would in production. Prints both rates, their ratio and the inbox count.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
SECRET = "whsec_bench"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stripe_header(body, secret, timestamp):
    import hashlib
    import hmac

    mac = hmac.new(secret.encode(), f"{timestamp}.{body.decode()}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signed_requests(count, worker):
    now = int(time.time())
    built = []
    for index in range(count):
        reference = f"B{worker}x{index}"
        event = {
            "id": f"evt_bench_{uuid.uuid4().hex}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": now,
            "data": {
                "object": {
                    "id": f"pi_bench_{worker}_{index}",
                    "object": "payment_intent",
                    "amount": 4990,
                    "amount_received": 4990,
                    "currency": "chf",
                    "status": "succeeded",
                    "metadata": {"order_reference": reference},
                }
            },
        }
        body = json.dumps(event).encode()
        built.append(
            (
                "/webhooks/stripe",
                body,
                {"Content-Type": "application/json", "Stripe-Signature": stripe_header(body, SECRET, now)},
            )
        )
    return built


def noop_requests(count, worker):
    body = json.dumps({"id": "evt_noop", "type": "noop"}).encode()
    return [("/webhooks/noop", body, {"Content-Type": "application/json"})] * count


def client(args):
    """One client process: its own keep-alive connections, one request at a time per connection."""
    kind, count, worker, port, connections, start_at = args
    requests_ = (signed_requests if kind == "signed" else noop_requests)(count, worker)
    import threading

    results = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    share = [requests_[i::connections] for i in range(connections)]

    def run(batch):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ok = failed = 0
        for path, body, headers in batch:
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    ok += 1
                else:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.close()
        with lock:
            results["ok"] += ok
            results["failed"] += failed

    while time.time() < start_at:
        time.sleep(0.001)
    started = time.time()
    threads = [threading.Thread(target=run, args=(batch,)) for batch in share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started, time.time(), results["ok"], results["failed"]


def drive(kind, total, clients, concurrency, port):
    per_client = total // clients
    connections = max(1, concurrency // clients)
    start_at = time.time() + 1.5 + total / 20000  # time to build (and sign) the requests first
    with multiprocessing.Pool(clients) as pool:
        results = pool.map(client, [(kind, per_client, w, port, connections, start_at) for w in range(clients)])
    began = min(r[0] for r in results)
    ended = max(r[1] for r in results)
    ok = sum(r[2] for r in results)
    failed = sum(r[3] for r in results)
    return {
        "requests": per_client * clients,
        "ok": ok,
        "failed": failed,
        "seconds": ended - began,
        "per_second": ok / (ended - began),
    }


def cpu_seconds(pid):
    """User + system CPU time of a process (Linux /proc), to report CPU per request."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def wait_listening(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("POST", "/webhooks/noop", body=b"{}")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the payments listener did not come up")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("OMS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--amqp-uri", default=os.environ.get("OMS_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"))
    parser.add_argument("--max-workers", type=int, default=32)
    options = parser.parse_args()

    import psycopg2

    sys.path.insert(0, str(REPO / "services" / "payments"))
    from oms_common.migrations import upgrade

    name = f"oms_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(options.pg_admin_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    parts = urlparse(options.pg_admin_url)
    database_url = f"postgresql://{parts.netloc}/{name}"
    vhost = f"oms-bench-{uuid.uuid4().hex[:8]}"
    amqp = urlparse(options.amqp_uri)
    have_ctl = shutil.which("rabbitmqctl") is not None
    if have_ctl:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, amqp.username or "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
        amqp_uri = f"{amqp.scheme}://{amqp.netloc}/{vhost}"
    else:
        amqp_uri = options.amqp_uri
    workdir = tempfile.mkdtemp(prefix="oms-webhooks-bench-")
    service = None
    try:
        upgrade(REPO / "services" / "payments", database_url)
        port = free_port()
        config = Path(workdir) / "config.yml"
        config.write_text(
            "\n".join(
                [
                    f"AMQP_URI: '{amqp_uri}'",
                    f"DATABASE_URL: '{database_url}'",
                    f"WEB_SERVER_ADDRESS: '127.0.0.1:{port}'",
                    f"max_workers: {options.max_workers}",
                    "OUTBOX_POLL_SECONDS: 0.5",
                    f"STRIPE_WEBHOOK_SECRET: '{SECRET}'",
                    "RECONCILE_INTERVAL_SECONDS: 0",
                    "INBOX_SWEEP_SECONDS: 0",
                    "INBOX_POLL_SECONDS: 0.5",
                    "PSP_OPEN_ON_SUBMIT: false",
                    "LOGGING:",
                    "  version: 1",
                    "  root:",
                    "    level: ERROR",
                    "",
                ]
            )
        )
        service = subprocess.Popen(
            # the variant adds the unsigned no-op baseline route the production listener does not have
            [sys.executable, "-m", "nameko", "run", "--config", str(config), "payments_noop:PaymentsService"],
            cwd=workdir,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    [str(REPO / "bench" / "variants")]
                    + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
                ),
            },
            stdout=subprocess.DEVNULL,
            stderr=open(Path(workdir) / "service.log", "w"),
        )
        wait_listening(port)
        drive("noop", 400, options.clients, options.concurrency, port)  # warm up both paths
        drive("signed", 400, options.clients, options.concurrency, port)
        cpu_before = cpu_seconds(service.pid)
        baseline = drive("noop", options.requests, options.clients, options.concurrency, port)
        cpu_noop = cpu_seconds(service.pid)
        signed = drive("signed", options.requests, options.clients, options.concurrency, port)
        cpu_signed = cpu_seconds(service.pid)
        baseline["service_cpu_ms_per_request"] = (cpu_noop - cpu_before) * 1000 / baseline["requests"]
        signed["service_cpu_ms_per_request"] = (cpu_signed - cpu_noop) * 1000 / signed["requests"]
        load = os.getloadavg()
        drained_at = time.time()
        with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM payments.webhook_inbox")
            stored = cursor.fetchone()[0]
            while time.time() - drained_at < 120:
                connection.commit()
                cursor.execute("SELECT count(*) FROM payments.webhook_inbox WHERE status = 'received'")
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.1)
            backlog_seconds = time.time() - drained_at
        print(json.dumps({"noop_baseline": baseline, "signed_webhooks": signed, "inbox_rows": stored}, indent=2))
        print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} during the run")
        print(
            f"unsigned no-op (baseline): {baseline['per_second']:8.0f} req/s  "
            f"({baseline['ok']} ok, {baseline['failed']} failed; "
            f"service CPU {baseline['service_cpu_ms_per_request']:.2f} ms/request)"
        )
        print(
            f"signed webhooks accepted : {signed['per_second']:8.0f} req/s  "
            f"({signed['ok']} ok, {signed['failed']} failed; target >= 500/s; "
            f"service CPU {signed['service_cpu_ms_per_request']:.2f} ms/request incl. processing) "
            f"= {signed['per_second'] / baseline['per_second']:.0%} of the no-op"
        )
        print(
            f"inbox rows stored        : {stored} (expected {400 + signed['requests']}); "
            f"processing finished {backlog_seconds:.1f} s after the last 2xx"
        )
    finally:
        if service is not None:
            service.terminate()
            try:
                service.wait(20)
            except subprocess.TimeoutExpired:
                service.kill()
        admin.cursor().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
        if have_ctl:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
