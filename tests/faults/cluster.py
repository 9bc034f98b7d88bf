"""Two replicas of every service, started like tools/run.py starts one (``nameko run`` per
process), on a private vhost and database, with faults an operator meets in production:
broker connections dropped, database connections terminated, processes killed with -9,
the SMTP server gone for a while. RabbitMQ and PostgreSQL themselves are shared with other
people on this machine, so they are never restarted: broker loss is simulated by closing every
connection of *our* vhost, database loss by terminating every backend of *our* database."""

import os
import signal
import subprocess
import sys
import time

import psycopg2

from tests.support.suite import PG_ADMIN_URL, REPO, free_port

sys.path.insert(0, str(REPO / "tools"))
from service_processes import SERVICES, nameko_run  # noqa: E402

REPLICAS = ("a", "b")


class Replica:
    def __init__(self, service, replica, directory, path, env, logdir):
        self.service, self.replica, self.directory, self.path, self.env = service, replica, directory, path, env
        self.log_path = logdir / f"{service}-{replica}.log"
        self.process = None
        self.starts = 0

    @property
    def name(self):
        return f"{self.service}-{self.replica}"

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            nameko_run(self.directory, self.path),
            cwd=str(self.directory),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1

    def kill9(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def alive(self):
        return self.process is not None and self.process.poll() is None


class Cluster:
    def __init__(self, base_env, logdir):
        self.replicas = {}
        self.gateways, self.webhooks = [], []
        exports_address = None
        for service, directory, path in SERVICES:
            for replica in REPLICAS:
                env = dict(base_env)
                if service == "gateway":
                    env["OMS_GATEWAY_ADDRESS"] = f"127.0.0.1:{free_port()}"
                    env["OMS_EXPORTS_HTTP_ADDRESS"] = exports_address
                    self.gateways.append(f"http://{env['OMS_GATEWAY_ADDRESS']}")
                if service == "payments":
                    env["OMS_WEBHOOK_ADDRESS"] = f"127.0.0.1:{free_port()}"
                    self.webhooks.append(f"http://{env['OMS_WEBHOOK_ADDRESS']}/webhooks/stripe")
                if service == "exports":
                    env["OMS_EXPORTS_HTTP_ADDRESS"] = f"127.0.0.1:{free_port()}"
                    exports_address = exports_address or env["OMS_EXPORTS_HTTP_ADDRESS"]
                self.replicas[(service, replica)] = Replica(service, replica, directory, path, env, logdir)

    def start(self, replica_name=None):
        for (_, name), replica in self.replicas.items():
            if replica_name in (None, name):
                replica.start()

    def stop(self):
        for replica in self.replicas.values():
            replica.stop()

    def dead(self):
        return [r.name for r in self.replicas.values() if not r.alive()]

    def log_tail(self, lines=40):
        out = []
        for replica in self.replicas.values():
            text = (
                replica.log_path.read_text(errors="replace").splitlines()[-lines:] if replica.log_path.exists() else []
            )
            out.append(f"--- {replica.name}\n" + "\n".join(text))
        return "\n".join(out)


def close_vhost_connections(vhost):
    """Broker loss for our vhost only: the broker closes every AMQP connection of it (one
    rabbitmqctl call; other vhosts on this shared broker are untouched). Returns how many."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "vhost"], capture_output=True, text=True, timeout=60, check=True
    )
    count = sum(1 for line in listed.stdout.splitlines() if line.strip() == vhost)
    subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "close_all_connections",
            "--vhost",
            vhost,
            "--limit",
            "10000",
            "fault suite: broker connection loss",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return count


def restart_broker():
    """A real broker restart: the RabbitMQ application stops (every connection drops, only what is
    durable survives) and starts again."""
    for command in (["stop_app"], ["start_app"], ["await_startup", "--timeout", "120"]):
        subprocess.run(["rabbitmqctl", "-q", *command], capture_output=True, text=True, timeout=180, check=True)


def restart_database():
    """A real PostgreSQL restart of this machine's cluster (fast shutdown: sessions are cut)."""
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "--", "-m", "fast"],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    for _ in range(60):
        try:
            psycopg2.connect(PG_ADMIN_URL).close()
            return
        except psycopg2.OperationalError:
            time.sleep(1)
    raise AssertionError("PostgreSQL did not come back within 60 s")


def terminate_database_backends(database):
    """Database loss for our database only: every server process serving it is terminated."""
    connection = psycopg2.connect(PG_ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
        (count,) = cursor.fetchone()
    connection.close()
    return count


class Probe:
    """Read-only SQL on the private database, one schema per service."""

    def __init__(self, database_url):
        self.url = database_url

    def rows(self, schema, sql, params=()):
        connection = psycopg2.connect(self.url, options=f"-csearch_path={schema}")
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            connection.close()

    def scalar(self, schema, sql, params=()):
        return self.rows(schema, sql, params)[0][0]


def wait_until(predicate, timeout, interval=1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
