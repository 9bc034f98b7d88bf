"""The suite started exactly as `make run` starts it, driven over HTTP like a client would."""

import pytest
import requests

from tests.support.suite import (
    RunningSuite,
    create_database,
    drop_database,
    free_port,
    private_vhost,
    suite_environment,
)

TOKEN = "e2e-admin-token-abcdef0123456789"
ORDER = {
    "customer": {"email": "e2e@example.com", "first_name": "Erika", "last_name": "Muster", "language": "de"},
    "billing_address": {
        "first_name": "Erika",
        "last_name": "Muster",
        "street": "Bahnhofstrasse 1",
        "postal_code": "8001",
        "city": "Zürich",
        "country": "CH",
    },
    "lines": [{"article_number": "TEA-100", "name": "Grüntee", "quantity": 3, "unit_price": "12.50"}],
    "shipping_cost": "8.00",
    "payment_method": "invoice",
}


@pytest.fixture
def fresh_database():
    name, url = create_database("oms_e2e")
    yield url
    drop_database(name)


@pytest.fixture
def suite_env(fresh_database, tmp_path):
    with private_vhost("oms-e2e") as amqp_uri:
        yield suite_environment(amqp_uri, fresh_database, tmp_path, OMS_BOOTSTRAP_ADMIN_TOKEN=TOKEN)


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
            "orders",
            "payments",
            "notifications",
            "exports",
            "documents",
            "gateway",
        }

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

        shipped = api.post(
            base + f"/api/v1/orders/{reference}/ship", json={"notify": False, "tracking_number": "TRK1"}, timeout=10
        )
        assert shipped.status_code == 200, shipped.text
        assert shipped.json()["status"] == "shipped"

        history_response = api.get(base + f"/api/v1/orders/{reference}/history", timeout=10)
        assert history_response.status_code == 200, history_response.text
        history = history_response.json()["items"]
        ship_entry = [entry for entry in history if entry["to"] == "shipped"]
        assert ship_entry and ship_entry[0]["actor"] == "admin" and ship_entry[0]["origin"].startswith("api ")

        numbering = api.get(base + "/api/v1/settings/numbering", timeout=10).json()
        assert numbering["last_order_reference"] == int(reference)
        refused = api.put(
            base + "/api/v1/settings/numbering", json={"order_reference_start": int(reference) - 1}, timeout=10
        )
        assert refused.status_code == 409 and "order_reference_start" in refused.json()["errors"]
        moved = api.put(
            base + "/api/v1/settings/numbering",
            json={"order_reference_start": int(reference) + 1000, "invoice_prefix": "RE-"},
            timeout=10,
        )
        assert moved.status_code == 200, moved.text
        second = api.post(base + "/api/v1/orders", json=ORDER, timeout=10).json()
        assert second["reference"] == str(int(reference) + 1000)
        assert second["invoice_number"].startswith("RE-")
    finally:
        code = suite.stop()
        print(suite.tail())  # shown by pytest when the test fails
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
