"""Starts the whole OMS suite locally: one `nameko run` process per service, supervised.

Before starting anything it checks that every address the suite will listen on is free
(naming the one that is not) and that RabbitMQ (and a configured PostgreSQL) answers. Without
OMS_DATABASE_URL it starts a private PostgreSQL server under var/ (tools/embedded_pg.py);
without OMS_SMTP_HOST a local SMTP catcher that keeps every mail under var/mail/. Then it
applies every service's migrations, starts the services, waits for the gateway's /health,
and starts a service that exits again with backoff (1 s, 2 s, 4 s … 30 s); one that exits
5 times within a minute stays down (and /health names it). Ctrl-C stops everything,
the embedded PostgreSQL included.
"""

import collections
import contextlib
import errno
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

from service_processes import SERVICES, nameko_run  # noqa: E402 - tools/ is this script's own folder

from oms_common.migrations import upgrade  # noqa: E402
from oms_common.settings import EMBEDDED_URL_FILE, database_url, var_dir  # noqa: E402

DEFAULT_AMQP = "amqp://guest:guest@localhost:5672/"
DEFAULT_SMTP_PORT = "1025"
# the addresses the suite listens on, with the defaults of the services' config.yml
LISTENERS = [
    ("OMS_GATEWAY_ADDRESS", "127.0.0.1:8000"),
    ("OMS_WEBHOOK_ADDRESS", "127.0.0.1:8001"),
    ("OMS_EXPORTS_HTTP_ADDRESS", "127.0.0.1:8002"),
]
RESTART_WINDOW_SECONDS = 60
MAX_EXITS_IN_WINDOW = 5
MAX_BACKOFF_SECONDS = 30


def say(message):
    try:
        print(f"[oms] {message}", flush=True)
    except (OSError, ValueError):  # the terminal is gone: stopping the services must still go on
        pass


def reachable(host, port, timeout=2.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- addresses


def split_address(value):
    host, _, port = value.strip().rpartition(":")
    return (host.strip("[]") or "0.0.0.0"), int(port)


def planned_listeners(env, local_mail):
    """(variable, host, port) of every listener this suite will open."""
    planned = []
    for variable, default in LISTENERS:
        planned.append((variable, *split_address(env.get(variable) or default)))
    metrics_host = env.get("OMS_METRICS_HOST") or "127.0.0.1"
    for name, _directory, _path in SERVICES:
        for variable in (f"OMS_METRICS_PORT_{name.upper()}", "OMS_METRICS_PORT"):
            port = env.get(variable)
            if port:
                if port != "0":
                    planned.append((variable, metrics_host, int(port)))
                break
    if local_mail:
        planned.append(("OMS_SMTP_PORT", "127.0.0.1", int(env.get("OMS_SMTP_PORT") or DEFAULT_SMTP_PORT)))
    unique, seen = [], set()
    for variable, host, port in planned:
        if (variable, host, port) not in seen:  # one OMS_METRICS_PORT is named once
            seen.add((variable, host, port))
            unique.append((variable, host, port))
    return unique


def bind_problem(host, port):
    """Why (host, port) cannot be listened on, or None. Binds without SO_REUSEPORT, as the
    suite's listeners do, so an existing listener (ours or anyone's) makes this fail."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            probe.listen(1)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return "is already in use (another `make run`?)"
            return f"cannot be listened on ({error.strerror or error})"
    return None


def check_addresses(env, local_mail):
    problems = []
    owners = {}
    for variable, host, port in planned_listeners(env, local_mail):
        if (host, port) in owners:
            problems.append(f"{variable}={host}:{port} is also {owners[(host, port)]}'s address")
            continue
        owners[(host, port)] = variable
        problem = bind_problem(host, port)
        if problem:
            problems.append(f"{variable}={host}:{port} {problem}")
    for problem in problems:
        say(f"cannot start: {problem}")
    if problems:
        say("nothing was started; stop what listens there or choose another address (settings in README.md)")
    return not problems


# ---------------------------------------------------------------- infrastructure


def check_infrastructure(env):
    amqp = urlparse(env.get("OMS_AMQP_URI") or DEFAULT_AMQP)
    if not reachable(amqp.hostname or "localhost", amqp.port or 5672):
        say(
            f"RabbitMQ is not reachable at {amqp.hostname}:{amqp.port or 5672} — start it with "
            "`rabbitmq-server -detached` (or `systemctl start rabbitmq-server`), or set OMS_AMQP_URI."
        )
        return False
    url = env.get("OMS_DATABASE_URL")
    if url:
        parts = urlparse(url)
        if parts.hostname and not reachable(parts.hostname, parts.port or 5432):
            say(
                f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} — start it "
                "(`pg_ctlcluster <version> main start`) or unset OMS_DATABASE_URL to use the embedded "
                "PostgreSQL under var/."
            )
            return False
    return True


def local_secret(env, variable, file_name, make):
    """A setting left empty gets a value made for this machine, kept in var/ (mode 600)."""
    if env.get(variable):
        return None
    path = var_dir() / file_name
    if not path.exists():
        path.write_text(make() + "\n")
        path.chmod(0o600)
    env[variable] = path.read_text().strip()
    return path


def bootstrap_admin(env):
    """Without a configured admin token, make one for this machine and say where it is."""
    token_file = local_secret(
        env, "OMS_BOOTSTRAP_ADMIN_TOKEN", "admin-token", lambda: "oms_" + secrets.token_urlsafe(24)
    )
    if token_file:
        local_secret(env, "OMS_BOOTSTRAP_ADMIN_PASSWORD", "admin-password", lambda: secrets.token_urlsafe(12))
    return token_file


def start_embedded_postgres(env):
    """The suite's own PostgreSQL under var/postgres; its URL goes to the services' environment."""
    from embedded_pg import EmbeddedPostgres, EmbeddedPostgresError

    server = EmbeddedPostgres(var_dir() / "postgres")
    say(f"starting the embedded PostgreSQL in {server.pgdata} …")
    try:
        url = server.start()
    except EmbeddedPostgresError as error:
        say(f"the embedded PostgreSQL could not start: {error}. Set OMS_DATABASE_URL to use another PostgreSQL.")
        return None
    env["OMS_DATABASE_URL"] = url
    url_file = var_dir() / EMBEDDED_URL_FILE
    url_file.write_text(url + "\n")  # for `oms` and other tools on this machine
    say(f"embedded PostgreSQL is up ({url})")
    return server


def stop_embedded_postgres(server):
    (var_dir() / EMBEDDED_URL_FILE).unlink(missing_ok=True)
    try:
        server.stop()
        say("embedded PostgreSQL stopped")
    except Exception as error:  # noqa: BLE001 - stopping must go on
        say(f"the embedded PostgreSQL did not stop cleanly: {error}")


def start_mail_catcher(env):
    from mail_catcher import MailCatcher

    directory = var_dir() / "mail"
    port = int(env.get("OMS_SMTP_PORT") or DEFAULT_SMTP_PORT)
    catcher = MailCatcher(directory, "127.0.0.1", port)
    try:
        catcher.start()
    except (OSError, RuntimeError) as error:  # taken since the check, or not listening
        say(f"the local SMTP catcher could not listen on 127.0.0.1:{port} (OMS_SMTP_PORT): {error}")
        return None
    env["OMS_SMTP_HOST"] = "127.0.0.1"
    env["OMS_SMTP_PORT"] = str(port)
    env["OMS_SMTP_SECURITY"] = "none"
    env["OMS_LOCAL_OUTBOX_DIR"] = str(directory)  # the admin UI shows this outbox
    say(
        f"no OMS_SMTP_HOST: mails go to the local outbox {directory} (SMTP 127.0.0.1:{port}; admin UI → Outbox (local))"
    )
    return catcher


def migrate(env, embedded):
    url = env["OMS_DATABASE_URL"]
    for name, directory, _ in SERVICES:
        if (directory / "alembic.ini").exists():
            upgrade(directory, database_url(url, name))
    say("database migrations applied (" + ("embedded " if embedded else "") + "PostgreSQL, one schema per service)")


# ---------------------------------------------------------------- services


def pipe_output(name, stream):
    # read to the end whatever happens to our own stdout: a service blocked on a full pipe
    # would not even act on SIGTERM
    for line in iter(stream.readline, b""):
        try:
            sys.stdout.write(f"{name:>13} | {line.decode('utf-8', 'replace')}")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def die_with_parent():
    """Linux: a service gets SIGTERM when this supervisor dies, even by SIGKILL; no orphans."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def describe_exit(code):
    if code < 0:
        try:
            return f"code {code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"code {code}"
    return f"code {code}"


class Supervised:
    """One service process: started again with backoff when it exits, until it exits too often."""

    def __init__(self, name, directory, path, env):
        self.name, self.directory, self.path, self.env = name, directory, path, env
        self.process = None
        self.started_at = None
        self.exits = collections.deque()
        self.failures = 0  # exits since it last ran for a whole window
        self.restart_at = None
        self.down = False

    def start(self):
        self.process = subprocess.Popen(
            nameko_run(self.directory, self.path),
            cwd=str(self.directory),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.started_at = time.monotonic()
        threading.Thread(target=pipe_output, args=(self.name, self.process.stdout), daemon=True).start()

    def check(self, now):
        """Notices an exit and schedules the restart; starts it when its time has come."""
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                return
            self.process = None
            if now - self.started_at >= RESTART_WINDOW_SECONDS:
                self.failures = 0
            self.failures += 1
            self.exits.append(now)
            while self.exits and now - self.exits[0] > RESTART_WINDOW_SECONDS:
                self.exits.popleft()
            if len(self.exits) >= MAX_EXITS_IN_WINDOW:
                self.down = True
                say(
                    f"service {self.name} exited with {describe_exit(code)}, {len(self.exits)} times within "
                    f"{RESTART_WINDOW_SECONDS} s: it stays down (/health names it); see its output above, "
                    "then restart the suite with `make run`"
                )
                return
            delay = min(MAX_BACKOFF_SECONDS, 2 ** (self.failures - 1))
            self.restart_at = now + delay
            say(f"service {self.name} exited with {describe_exit(code)}; starting it again in {delay} s")
        elif not self.down and self.restart_at is not None and now >= self.restart_at:
            self.restart_at = None
            self.start()
            say(f"service {self.name} started again (pid {self.process.pid}, restart {self.failures})")

    def terminate(self):
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)


def healthy(address):
    try:
        with urllib.request.urlopen(f"http://{address}/health", timeout=3) as response:
            return response.status == 200
    except Exception:  # noqa: BLE001 - not up yet
        return False


def stop_all(services, grace=20):
    for service in services:
        service.terminate()
    deadline = time.monotonic() + grace
    for service in services:
        if service.process is None:
            continue
        try:
            service.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{service.name} did not stop within {grace} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()


def supervise(env, token_file, stopping):
    services = [Supervised(name, directory, path, env) for name, directory, path in SERVICES]
    for service in services:
        service.start()
    gateway = env.get("OMS_GATEWAY_ADDRESS") or LISTENERS[0][1]
    webhooks = env.get("OMS_WEBHOOK_ADDRESS") or LISTENERS[1][1]
    up, give_up_at, next_look = False, time.monotonic() + 120, 0.0
    try:
        while not stopping.is_set():
            now = time.monotonic()
            for service in services:
                service.check(now)
            if not up and now >= next_look:
                next_look = now + 0.5
                if healthy(gateway):
                    up = True
                    say(
                        f"OMS is up: gateway http://{gateway} (API /api/v1, OpenAPI /api/openapi.json, "
                        f"health /health, admin UI /admin); PSP webhooks http://{webhooks}/webhooks/..."
                    )
                    if token_file:
                        say(
                            f"admin API token in {token_file} (user 'admin'); password in "
                            f"{token_file.parent / 'admin-password'}"
                        )
                    say("press Ctrl-C to stop")
                elif give_up_at and now > give_up_at:
                    give_up_at = None
                    say("the suite did not become healthy within 120 s; see the service output above")
            stopping.wait(0.2)
    finally:
        say("stopping…")
        stop_all(services)


def main():
    env = dict(os.environ)
    env.setdefault("OMS_AMQP_URI", DEFAULT_AMQP)
    embedded = not env.get("OMS_DATABASE_URL")
    local_mail = not env.get("OMS_SMTP_HOST")
    if not check_addresses(env, local_mail) or not check_infrastructure(env):
        return 2
    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    token_file = bootstrap_admin(env)
    local_secret(env, "OMS_EXPORTS_INTERNAL_TOKEN", "exports-internal-token", lambda: secrets.token_urlsafe(32))
    local_secret(env, "OMS_CURSOR_SECRET", "cursor-secret", lambda: secrets.token_urlsafe(32))
    server = catcher = None
    try:
        if embedded:
            server = start_embedded_postgres(env)
            if server is None:
                return 2
        if local_mail:
            catcher = start_mail_catcher(env)
            if catcher is None:
                return 2
        migrate(env, embedded)
        if not stopping.is_set():
            supervise(env, token_file, stopping)
    finally:
        if catcher is not None:
            catcher.stop()
        if server is not None:
            stop_embedded_postgres(server)
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
