"""Starting the real suite and making private infrastructure for one test session.

Nothing here imports eventlet, so browser tests (Playwright needs plain asyncio) can use it
as well as the nameko tests.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import psycopg2

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("OMS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("OMS_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def wait_for(predicate, timeout=15.0, interval=0.05, message="condition"):
    """Polls until ``predicate()`` is truthy and returns its value; fails after ``timeout``.

    time.sleep is green under eventlet's monkey patching, so this serves both kinds of tests.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def create_vhost(prefix="oms-test"):
    vhost = f"{prefix}-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    user = urlparse(AMQP_BASE).username or "guest"
    _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    parts = urlparse(AMQP_BASE)
    return vhost, f"{parts.scheme}://{parts.netloc}/{vhost}"


def delete_vhost(vhost):
    _rabbitmqctl("delete_vhost", vhost)


@contextlib.contextmanager
def private_vhost(prefix="oms-suite"):
    """A broker vhost for one running suite, removed afterwards: a suite on the test session's
    vhost would consume, with its own database, events meant for the tests' services."""
    vhost, amqp_uri = create_vhost(prefix)
    try:
        yield amqp_uri
    finally:
        delete_vhost(vhost)


def _admin_connection():
    connection = psycopg2.connect(PG_ADMIN_URL)
    connection.autocommit = True
    return connection


def create_database(prefix="oms_test"):
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    parts = urlparse(PG_ADMIN_URL)
    return name, f"postgresql://{parts.netloc}/{name}"


def drop_database(name):
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    connection.close()


class Infrastructure(NamedTuple):
    amqp_uri: str
    database_url: str
    vhost: str
    database: str


@contextlib.contextmanager
def private_infrastructure(prefix):
    """A broker vhost and a database of one running suite's own, named after ``prefix`` (with
    ``_`` for ``-`` in the database's name) and removed afterwards, the database first."""
    vhost, amqp_uri = create_vhost(prefix)
    try:
        database, database_url = create_database(prefix.replace("-", "_"))
        try:
            yield Infrastructure(amqp_uri, database_url, vhost, database)
        finally:
            drop_database(database)
    finally:
        delete_vhost(vhost)


def suite_environment(amqp_uri, database_url, var_dir, **overrides):
    """The environment `make run` would see, on private infrastructure and free ports."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    env.update(
        {
            "OMS_AMQP_URI": amqp_uri,
            "OMS_DATABASE_URL": database_url,
            "OMS_GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
            "OMS_WEBHOOK_ADDRESS": f"127.0.0.1:{free_port()}",
            "OMS_EXPORTS_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
            "OMS_SMTP_PORT": str(free_port()),
            "OMS_VAR_DIR": str(Path(var_dir) / "var"),
            "OMS_EXPORT_DIR": str(Path(var_dir) / "exports"),
        }
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def stripe_settings(psp):
    """The settings that send the suite's Stripe calls to a fake PSP (tools/fake_psp) and make it
    accept the fake's webhooks."""
    return {
        "OMS_STRIPE_API_KEY": psp.stripe_api_key,
        "OMS_STRIPE_API_BASE": psp.base_url,
        "OMS_STRIPE_WEBHOOK_SECRET": psp.stripe_webhook_secret,
    }


def die_with_parent():
    """The suite is stopped when the test process dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class RunningSuite:
    """tools/run.py (what `make run` starts) as a child process, with its output kept."""

    def __init__(self, env):
        self.env = env
        self.output = []
        self.left_behind = []
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tools" / "run.py")],
            cwd=str(REPO),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=die_with_parent,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def base_url(self):
        return f"http://{self.env['OMS_GATEWAY_ADDRESS']}"

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)

    def wait_for(self, text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.output):
                return True
            if self.process.poll() is not None:
                time.sleep(0.2)
                return any(text in line for line in self.output)
            time.sleep(0.2)
        return False

    def services(self):
        """The supervisor's service processes (each in a session of its own) that still run."""
        import psutil

        try:
            return [
                child for child in psutil.Process(self.process.pid).children() if child.status() != psutil.STATUS_ZOMBIE
            ]
        except psutil.NoSuchProcess:
            return []

    def stop(self):
        """One SIGINT, as Ctrl-C gives; the supervisor's answer code. A service the supervisor
        left behind (it is a failure the tests look for) is killed here, not left to consume."""
        import psutil

        services = self.services()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        self.left_behind = [service.pid for service in psutil.wait_procs(services, timeout=5)[1]]
        for pid in self.left_behind:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        return self.process.returncode

    def tail(self, lines=300):
        return "".join(self.output[-lines:])


def service_settings(amqp_uri: str, database_url: str) -> dict:
    """The nameko config every service a test starts shares: the session's vhost and database,
    a quick outbox relay and quick event retries; each test folder adds its service's own."""
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": database_url,
        "OUTBOX_POLL_SECONDS": 0.2,
        "EVENT_RETRY_DELAYS": [0.2, 0.5],
        "max_workers": 10,
    }
