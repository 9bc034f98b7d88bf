"""The supervisor of `make run` heals: a killed service is started again with backoff, and a
service that keeps dying stays down where /health names it. (On the machine's PostgreSQL,
for speed; the embedded server is covered by test_embedded_suite.)"""

import os
import signal
import uuid

import psutil
import psycopg2
import pytest
import requests

from tests.support.suite import RunningSuite, create_database, drop_database, private_vhost, suite_environment, wait_for

TOKEN = "supervisor-admin-token-0123456789"
ORDER = {
    "customer": {"email": "heal@example.com", "first_name": "Hale", "last_name": "Heal", "language": "en"},
    "billing_address": {
        "first_name": "Hale",
        "last_name": "Heal",
        "street": "Ring 1",
        "postal_code": "3000",
        "city": "Bern",
        "country": "CH",
    },
    "lines": [{"article_number": "MUG-1", "name": "Mug", "quantity": 1, "unit_price": "14.00"}],
    "shipping_cost": "0.00",
    "payment_method": "invoice",
}


# one suite per test: the test that makes payments stay down must not leave it down for another
@pytest.fixture
def suite(tmp_path_factory):
    name, url = create_database("oms_supervisor")
    with private_vhost("oms-supervisor") as amqp_uri:
        # a short RPC deadline, so that a call made while payments is down answers 503 at once
        env = suite_environment(
            amqp_uri,
            url,
            tmp_path_factory.mktemp("supervised"),
            OMS_BOOTSTRAP_ADMIN_TOKEN=TOKEN,
            OMS_RPC_TIMEOUT_SECONDS=1,
        )
        running = RunningSuite(env)
        try:
            assert running.wait_for("OMS is up", timeout=180), running.tail(120)
            yield running
        finally:
            running.stop()
            print(running.tail())
            drop_database(name)


@pytest.fixture
def api(suite):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    return session


def service_pid(suite, service):
    for child in psutil.Process(suite.process.pid).children():
        try:
            if f"{service}.service:" in " ".join(child.cmdline()):
                return child.pid
        except psutil.NoSuchProcess:
            continue
    return None


def manual_bookings(suite, reference):
    with psycopg2.connect(suite.env["OMS_DATABASE_URL"]) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT from_status, to_status FROM payments.payment_audit"
            " WHERE order_reference = %s AND action = 'manual_status' ORDER BY id",
            (reference,),
        )
        return cursor.fetchall()


def exits_logged(suite):
    return sum("[oms] service payments exited with code" in line for line in list(suite.output))


def health(suite):
    try:
        response = requests.get(suite.base_url + "/health", timeout=10)
    except requests.RequestException:
        return None, {}
    return response.status_code, response.json()


def test_payments_killed_with_9_is_back_and_a_retried_request_takes_effect_once(suite, api):
    reference = api.post(suite.base_url + "/api/v1/orders", json=ORDER, timeout=30).json()["reference"]
    key = f"pay-{uuid.uuid4().hex}"
    pid = service_pid(suite, "payments")
    os.kill(pid, signal.SIGKILL)

    first = api.post(
        suite.base_url + f"/api/v1/orders/{reference}/payment-status",
        json={"status": "paid"},
        headers={"Idempotency-Key": key},
        timeout=30,
    )
    assert first.status_code == 503, first.text

    wait_for(lambda: health(suite)[0] == 200, timeout=15, interval=0.25, message="/health 200 after the kill")
    output = "".join(suite.output)
    assert "service payments exited with code -9 (SIGKILL); starting it again in 1 s" in output
    assert "service payments started again" in output
    assert service_pid(suite, "payments") not in (None, pid)

    retried = api.post(
        suite.base_url + f"/api/v1/orders/{reference}/payment-status",
        json={"status": "paid"},
        headers={"Idempotency-Key": key},
        timeout=30,
    )
    assert retried.status_code < 500, retried.text
    after = api.get(suite.base_url + f"/api/v1/orders/{reference}/payment", timeout=30).json()
    assert after["status"] == "paid"
    # the payments service's own audit: one manual booking, although the client asked twice
    assert manual_bookings(suite, reference) == [("unpaid", "paid")]

    def paid_entries():
        history = api.get(suite.base_url + f"/api/v1/orders/{reference}/history", timeout=30).json()["items"]
        return [entry for entry in history if entry["action"] == "payment_status_changed" and entry["to"] == "paid"]

    assert len(wait_for(paid_entries, timeout=15, message="the payment in the order's history")) == 1


def test_a_service_that_exits_five_times_within_a_minute_stays_down_and_health_names_it(suite):
    for _ in range(6):
        if "stays down" in "".join(suite.output):
            break
        pid = wait_for(
            lambda: service_pid(suite, "payments"), timeout=40, interval=0.1, message="payments started again"
        )
        exits = exits_logged(suite)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: exits_logged(suite) > exits, timeout=10, interval=0.05, message="the exit logged")
    output = "".join(suite.output)
    assert "service payments exited with code -9 (SIGKILL), 5 times within 60 s: it stays down" in output, output[
        -4000:
    ]
    for delay in (1, 2, 4):
        assert f"service payments exited with code -9 (SIGKILL); starting it again in {delay} s" in output
    status, report = wait_for(
        lambda: health(suite)[0] == 503 and health(suite), timeout=20, message="/health naming payments"
    )
    assert report["down"] == ["payments"]
    assert report["services"]["orders"]["status"] == "ok"
    assert service_pid(suite, "payments") is None


def test_one_sigint_stops_every_service_and_kills_one_that_does_not_answer(suite):
    services = suite.services()
    assert len(services) == 6
    stuck = service_pid(suite, "notifications")
    os.kill(stuck, signal.SIGSTOP)  # a stopped process cannot act on SIGTERM: only SIGKILL ends it
    assert suite.stop() == 0
    output = "".join(suite.output)
    assert "[oms] notifications did not stop within 20 s; killing it" in output, output[-3000:]
    assert "[oms] stopped" in output
    assert suite.left_behind == []
    assert not [
        service.pid for service in services if service.is_running() and service.status() != psutil.STATUS_ZOMBIE
    ]
