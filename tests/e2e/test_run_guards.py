"""`make run` refuses, in one line and before starting anything, what it cannot do safely."""

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support.suite import REPO, free_port, suite_environment


class Occupant:
    """Something else listening on a port: answers every connection with a greeting."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.port = self.socket.getsockname()[1]
        self._closing = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                if self._closing:
                    return
                connection.sendall(b"occupied\n")

    def greeting(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as connection:
            return connection.recv(100)

    def close(self):
        # wake the accepting thread and let it end before the socket goes: a socket closed under
        # a waiting accept leaves the hub listening on its file number, which the next
        # connection of this process (a database's) then gets and cannot wait on
        self._closing = True
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        except OSError:
            pass
        self._thread.join(timeout=10)
        self.socket.close()


def run_once(env):
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / "run.py")],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def occupant():
    listener = Occupant()
    yield listener
    listener.close()


@pytest.mark.parametrize("variable", ["OMS_GATEWAY_ADDRESS", "OMS_WEBHOOK_ADDRESS", "OMS_EXPORTS_HTTP_ADDRESS"])
def test_an_address_in_use_is_named_and_nothing_is_started(session_amqp_uri, tmp_path, occupant, variable):
    env = suite_environment(session_amqp_uri, "", tmp_path, **{variable: f"127.0.0.1:{occupant.port}"})
    del env["OMS_DATABASE_URL"]
    finished = run_once(env)
    assert finished.returncode != 0
    assert f"{variable}=127.0.0.1:{occupant.port} is already in use" in finished.stdout, finished.stdout
    assert "Traceback" not in finished.stdout + finished.stderr
    assert occupant.greeting() == b"occupied\n"
    var = Path(env["OMS_VAR_DIR"])
    assert not (var / "postgres").exists() and not (var / "admin-token").exists()  # nothing was started


def test_the_smtp_catcher_port_and_metrics_ports_are_checked_too(session_amqp_uri, tmp_path, occupant):
    env = suite_environment(session_amqp_uri, "", tmp_path, OMS_SMTP_PORT=occupant.port)
    del env["OMS_DATABASE_URL"]
    finished = run_once(env)
    assert finished.returncode != 0
    assert f"OMS_SMTP_PORT=127.0.0.1:{occupant.port} is already in use" in finished.stdout, finished.stdout

    env = suite_environment(session_amqp_uri, "", tmp_path, OMS_METRICS_PORT_EXPORTS=occupant.port)
    finished = run_once(env)
    assert finished.returncode != 0
    assert f"OMS_METRICS_PORT_EXPORTS=127.0.0.1:{occupant.port} is already in use" in finished.stdout
    assert occupant.greeting() == b"occupied\n"


def test_with_an_smtp_server_configured_the_catcher_port_is_not_needed(session_amqp_uri, tmp_path, occupant):
    # the SMTP port belongs to the configured server; only the gateway's address is taken here
    env = suite_environment(
        session_amqp_uri,
        "",
        tmp_path,
        OMS_SMTP_HOST="127.0.0.1",
        OMS_SMTP_PORT=occupant.port,
        OMS_GATEWAY_ADDRESS=f"127.0.0.1:{occupant.port}",
    )
    finished = run_once(env)
    assert f"OMS_GATEWAY_ADDRESS=127.0.0.1:{occupant.port} is already in use" in finished.stdout
    assert "OMS_SMTP_PORT" not in finished.stdout


def test_an_embedded_postgresql_that_cannot_start_is_explained_in_one_line(session_amqp_uri, tmp_path):
    env = suite_environment(session_amqp_uri, "", tmp_path)
    del env["OMS_DATABASE_URL"]
    var = Path(env["OMS_VAR_DIR"])
    var.mkdir(parents=True)
    (var / "postgres").write_text("not a data directory\n")
    finished = run_once(env)
    assert finished.returncode == 2
    lines = [line for line in finished.stdout.splitlines() if "embedded PostgreSQL could not start" in line]
    assert len(lines) == 1 and "postgres" in lines[0] and "OMS_DATABASE_URL" in lines[0], finished.stdout
    assert "Traceback" not in finished.stdout + finished.stderr
    assert "OMS is up" not in finished.stdout


def test_two_settings_on_one_address_are_refused(session_amqp_uri, tmp_path):
    port = free_port()
    env = suite_environment(
        session_amqp_uri,
        "postgresql://unused@127.0.0.1/none",
        tmp_path,
        OMS_GATEWAY_ADDRESS=f"127.0.0.1:{port}",
        OMS_WEBHOOK_ADDRESS=f"127.0.0.1:{port}",
    )
    finished = run_once(env)
    assert finished.returncode != 0
    assert f"OMS_WEBHOOK_ADDRESS=127.0.0.1:{port} is also OMS_GATEWAY_ADDRESS's address" in finished.stdout
