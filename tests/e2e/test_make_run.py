"""The suite started exactly as `make run` starts it, driven over HTTP like a client would."""
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlparse

import psycopg2
import pytest
import requests

from tests.conftest import PG_ADMIN_URL, REPO
from tests.gateway.conftest import free_port

TOKEN = "e2e-admin-token-abcdef0123456789"
ORDER = {
    "customer": {"email": "e2e@example.com", "first_name": "Erika", "last_name": "Muster", "language": "de"},
    "billing_address": {"first_name": "Erika", "last_name": "Muster", "street": "Bahnhofstrasse 1",
                        "postal_code": "8001", "city": "Zürich", "country": "CH"},
    "lines": [{"article_number": "TEA-100", "name": "Grüntee", "quantity": 3, "unit_price": "12.50"}],
    "shipping_cost": "8.00",
    "payment_method": "invoice",
}


class RunningSuite:
    def __init__(self, env):
        self.output = []
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tools" / "run.py")], cwd=str(REPO), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

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

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)
        return self.process.returncode


@pytest.fixture
def fresh_database():
    name = f"oms_e2e_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    parts = urlparse(PG_ADMIN_URL)
    yield f"postgresql://{parts.netloc}/{name}"
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


@pytest.fixture
def suite_env(session_amqp_uri, fresh_database, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")}
    env.update({
        "OMS_AMQP_URI": session_amqp_uri,
        "OMS_DATABASE_URL": fresh_database,
        "OMS_GATEWAY_ADDRESS": f"127.0.0.1:{free_port()}",
        "OMS_WEBHOOK_ADDRESS": f"127.0.0.1:{free_port()}",
        "OMS_EXPORTS_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
        "OMS_SMTP_PORT": str(free_port()),
        "OMS_BOOTSTRAP_ADMIN_TOKEN": TOKEN,
        "OMS_VAR_DIR": str(tmp_path / "var"),
        "OMS_EXPORT_DIR": str(tmp_path / "exports"),
    })
    return env


def test_make_run_serves_the_whole_suite_over_http(suite_env):
    suite = RunningSuite(suite_env)
    try:
        assert suite.wait_for("OMS is up", timeout=120), "".join(suite.output[-60:])
        base = f"http://{suite_env['OMS_GATEWAY_ADDRESS']}"
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {TOKEN}"

        health = requests.get(base + "/health", timeout=10)
        assert health.status_code == 200, health.text
        assert {name for name, state in health.json()["services"].items() if state["status"] == "ok"} == {
            "orders", "payments", "notifications", "exports", "gateway"}

        created = api.post(base + "/api/v1/orders", json=ORDER, timeout=10)
        assert created.status_code == 201, created.text
        order = created.json()
        reference, invoice_number = order["reference"], order["invoice_number"]
        assert order["status"] == "new" and invoice_number

        listed = api.get(base + "/api/v1/orders", params={"page_size": 10}, timeout=10).json()
        assert reference in [item["reference"] for item in listed["items"]]
        by_reference = api.get(base + "/api/v1/orders", params={"q": reference}, timeout=10).json()
        assert [item["reference"] for item in by_reference["items"]] == [reference]
        by_invoice = api.get(base + "/api/v1/orders", params={"q": invoice_number}, timeout=10).json()
        assert reference in [item["reference"] for item in by_invoice["items"]]

        shipped = api.post(base + f"/api/v1/orders/{reference}/ship", json={"notify": False,
                                                                             "tracking_number": "TRK1"}, timeout=10)
        assert shipped.status_code == 200, shipped.text
        assert shipped.json()["status"] == "shipped"

        history_response = api.get(base + f"/api/v1/orders/{reference}/history", timeout=10)
        assert history_response.status_code == 200, history_response.text
        history = history_response.json()["items"]
        ship_entry = [entry for entry in history if entry["to"] == "shipped"]
        assert ship_entry and ship_entry[0]["actor"] == "admin" and ship_entry[0]["origin"].startswith("api ")

        numbering = api.get(base + "/api/v1/settings/numbering", timeout=10).json()
        assert numbering["last_order_reference"] == int(reference)
        refused = api.put(base + "/api/v1/settings/numbering", json={"order_reference_start": int(reference) - 1},
                          timeout=10)
        assert refused.status_code == 409 and "order_reference_start" in refused.json()["errors"]
        moved = api.put(base + "/api/v1/settings/numbering",
                        json={"order_reference_start": int(reference) + 1000, "invoice_prefix": "RE-"}, timeout=10)
        assert moved.status_code == 200, moved.text
        second = api.post(base + "/api/v1/orders", json=ORDER, timeout=10).json()
        assert second["reference"] == str(int(reference) + 1000)
        assert second["invoice_number"].startswith("RE-")
    finally:
        code = suite.stop()
        print("".join(suite.output[-300:]))  # shown by pytest when the test fails
    output = "".join(suite.output)
    assert code == 0, output[-3000:]
    assert "[oms] stopped" in output
    assert "exited with code" not in output


def test_make_run_explains_an_unreachable_rabbitmq_in_one_line(suite_env):
    port = free_port()
    suite_env["OMS_AMQP_URI"] = f"amqp://guest:guest@127.0.0.1:{port}/"
    suite = RunningSuite(suite_env)
    code = suite.process.wait(60)
    suite.stop()
    output = "".join(suite.output)
    assert code == 2
    assert "RabbitMQ is not reachable" in output and "rabbitmq-server -detached" in output
    assert "Traceback" not in output
