"""Starts the whole OMS suite locally: one `nameko run` process per service.

Checks RabbitMQ (and PostgreSQL when configured) first, applies every service's
migrations, starts the services, waits for the gateway's /health, and stops everything
cleanly on Ctrl-C. A service that dies is reported; the others keep running.
"""
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "common"))

from oms_common.migrations import upgrade  # noqa: E402
from oms_common.settings import database_url, is_postgresql, var_dir  # noqa: E402

# name, directory, nameko service path
SERVICES = [
    ("orders", REPO / "services" / "orders", "orders.service:OrdersService"),
    ("payments", REPO / "services" / "payments", "payments.service:PaymentsService"),
    ("notifications", REPO / "services" / "notifications", "notifications.service:NotificationsService"),
    ("exports", REPO / "services" / "exports", "exports.service:ExportsService"),
    ("gateway", REPO / "gateway", "gateway.service:GatewayService"),
]
DEFAULT_AMQP = "amqp://guest:guest@localhost:5672/"


def say(message):
    print(f"[oms] {message}", flush=True)


def reachable(host, port, timeout=2.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_infrastructure(env):
    amqp = urlparse(env.get("OMS_AMQP_URI") or DEFAULT_AMQP)
    if not reachable(amqp.hostname or "localhost", amqp.port or 5672):
        say(f"RabbitMQ is not reachable at {amqp.hostname}:{amqp.port or 5672} — start it with "
            "`rabbitmq-server -detached` (or `systemctl start rabbitmq-server`), or set OMS_AMQP_URI.")
        return False
    url = env.get("OMS_DATABASE_URL")
    if url and is_postgresql(database_url(url, "orders")):
        parts = urlparse(url)
        if not reachable(parts.hostname or "localhost", parts.port or 5432):
            say(f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} — start it "
                "(`pg_ctlcluster <version> main start`) or unset OMS_DATABASE_URL to use SQLite files under var/.")
            return False
    return True


def bootstrap_admin(env):
    """Without a configured admin token, make one for this machine and say where it is."""
    if env.get("OMS_BOOTSTRAP_ADMIN_TOKEN"):
        return None
    token_file = var_dir() / "admin-token"
    if not token_file.exists():
        token_file.write_text("oms_" + secrets.token_urlsafe(24) + "\n")
        token_file.chmod(0o600)
    env["OMS_BOOTSTRAP_ADMIN_TOKEN"] = token_file.read_text().strip()
    password_file = var_dir() / "admin-password"
    if not env.get("OMS_BOOTSTRAP_ADMIN_PASSWORD"):
        if not password_file.exists():
            password_file.write_text(secrets.token_urlsafe(12) + "\n")
            password_file.chmod(0o600)
        env["OMS_BOOTSTRAP_ADMIN_PASSWORD"] = password_file.read_text().strip()
    return token_file


def migrate(env):
    url = env.get("OMS_DATABASE_URL")
    for name, directory, _ in SERVICES:
        if (directory / "alembic.ini").exists():
            upgrade(directory, database_url(url, name) if url else None)
    say("database migrations applied (" + ("PostgreSQL, one schema per service" if url else
                                           f"SQLite files under {var_dir()}") + ")")


def pipe_output(name, stream):
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>13} | {line.decode('utf-8', 'replace')}")
        sys.stdout.flush()


def die_with_parent():
    """Linux: a service gets SIGTERM when this supervisor dies, even by SIGKILL; no orphans."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start(name, directory, path, env):
    command = [sys.executable, "-m", "nameko", "run", "--config", str(directory / "config.yml"), path]
    process = subprocess.Popen(command, cwd=str(directory), env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
    threading.Thread(target=pipe_output, args=(name, process.stdout), daemon=True).start()
    return process


def wait_for_health(address, processes, timeout=90):
    deadline = time.monotonic() + timeout
    url = f"http://{address}/health"
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes.values()):
            return False
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status == 200:
                    return True
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.5)
    return False


def stop_all(processes, grace=20):
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for name, process in processes.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {grace} s; killing it")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main():
    env = dict(os.environ)
    env.setdefault("OMS_AMQP_URI", DEFAULT_AMQP)
    if not check_infrastructure(env):
        return 2
    token_file = bootstrap_admin(env)
    migrate(env)
    processes = {name: start(name, directory, path, env) for name, directory, path in SERVICES}
    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    gateway = env.get("OMS_GATEWAY_ADDRESS", "127.0.0.1:8000")
    webhooks = env.get("OMS_WEBHOOK_ADDRESS", "127.0.0.1:8001")
    if wait_for_health(gateway, processes):
        say(f"OMS is up: gateway http://{gateway} (API /api/v1, OpenAPI /api/openapi.json, health /health); "
            f"PSP webhooks http://{webhooks}/webhooks/...")
        if token_file:
            say(f"admin API token in {token_file} (user 'admin'); password in {token_file.parent / 'admin-password'}")
        say("press Ctrl-C to stop")
    else:
        say("the suite did not become healthy; see the service output above")
    reported = set()
    while not stopping.is_set():
        for name, process in processes.items():
            code = process.poll()
            if code is not None and name not in reported:
                reported.add(name)
                say(f"service {name} exited with code {code}; the others keep running (restart with `make run`)")
        stopping.wait(0.5)
    say("stopping…")
    stop_all(processes)
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
