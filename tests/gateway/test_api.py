"""The gateway's own promises: idempotent creation, composed answers, deadlines, OpenAPI, correlation."""

import time

import pytest
from nameko.rpc import rpc
from sqlalchemy import select

from gateway.router import router
from gateway.service import GatewayService
from orders.models import infrastructure as orders_infrastructure
from tests.conftest import sql_source
from tests.gateway.conftest import ADMIN_TOKEN, ApiClient
from tests.gateway.orders_data import order_body
from tests.support.suite import free_port


def test_same_idempotency_key_and_body_creates_one_order(admin):
    body = order_body()
    before = admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]
    first = admin.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "key-123"})
    again = admin.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "key-123"})
    assert first.status_code == again.status_code == 201
    assert first.json()["reference"] == again.json()["reference"]
    assert admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"] == before + 1
    other = admin.post("/api/v1/orders", json=order_body(), headers={"Idempotency-Key": "key-123"})
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["errors"]
    assert admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"] == before + 1


def test_bulk_status_reports_each_order_and_applies_the_legal_ones(admin):
    references = [admin.post("/api/v1/orders", json=order_body()).json()["reference"] for _ in range(3)]
    assert admin.post(f"/api/v1/orders/{references[1]}/cancel", json={}).status_code == 200
    response = admin.post(
        "/api/v1/orders/bulk/status", json={"references": references + ["404404"], "status": "in_progress"}
    )
    assert response.status_code == 200, response.text
    results = {item["reference"]: item for item in response.json()["results"]}
    assert results[references[0]]["ok"] and results[references[2]]["ok"]
    assert not results[references[1]]["ok"] and results[references[1]]["problem"]["status"] == 409
    assert results["404404"]["problem"]["status"] == 404
    assert admin.get(f"/api/v1/orders/{references[0]}").json()["status"] == "in_progress"
    assert admin.get(f"/api/v1/orders/{references[1]}").json()["status"] == "cancelled"


def test_customer_views_follow_their_orders(admin):
    body = order_body()
    first = admin.post("/api/v1/orders", json=body).json()
    body_by_id = order_body()
    del body_by_id["customer"]
    body_by_id["customer_id"] = first["customer"]["id"]
    second = admin.post("/api/v1/orders", json=body_by_id)
    assert second.status_code == 201, second.text
    customer_id = first["customer"]["id"]
    detail = admin.get(f"/api/v1/customers/{customer_id}").json()
    assert detail["order_count"] == 2
    assert detail["totals"] == [{"currency": "CHF", "orders": 2, "revenue": "32.00"}]
    history = admin.get(f"/api/v1/customers/{customer_id}/orders").json()
    assert [item["reference"] for item in history["items"]] == [second.json()["reference"], first["reference"]]
    found = admin.get("/api/v1/customers", params={"q": body["customer"]["email"][:6]}).json()
    assert customer_id in [item["id"] for item in found["items"]]
    assert admin.get("/api/v1/customers/999999999").status_code == 404
    assert admin.get("/api/v1/customers/abc").status_code == 404


def test_request_id_travels_to_the_response_and_the_events(admin, database_url):
    response = admin.post("/api/v1/orders", json=order_body(), headers={"X-Request-ID": "trace-abc-123"})
    assert response.headers["X-Request-ID"] == "trace-abc-123"
    source = sql_source(database_url, "orders", orders_infrastructure)
    outbox = orders_infrastructure.outbox
    with source.read_session() as session:
        rows = session.execute(select(outbox.c.event_type, outbox.c.correlation_id, outbox.c.payload)).all()
    source.engine.dispose()
    mine = [row for row in rows if row.payload.get("order", {}).get("reference") == response.json()["reference"]]
    assert {row.event_type for row in mine} == {"order_created", "order_submitted"}
    assert {row.correlation_id for row in mine} == {"trace-abc-123"}


def test_openapi_document_describes_every_operation(anonymous):
    response = anonymous.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    for route in router.routes:
        operation = document["paths"][route.openapi_path][route.method.lower()]
        assert operation["summary"] and str(route.status) in operation["responses"]
        assert operation["security"] == [{"bearer": []}]
    assert "/health" in document["paths"]
    create = document["paths"]["/api/v1/orders"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]
    assert any(parameter["name"] == "Idempotency-Key" for parameter in create["parameters"])


class SlowOrders:
    """Stands in for a stuck orders service."""

    name = "orders"

    @rpc
    def list_orders(self, query=None):
        time.sleep(30)

    @rpc
    def ping(self):
        time.sleep(30)


@pytest.fixture
def gateway_only(runner_factory, service_config):
    def start(*extra_services):
        config = {
            **service_config,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
            "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
            "RPC_TIMEOUT_SECONDS": 1,
        }
        runner = runner_factory(config, GatewayService, *extra_services)
        runner.start()
        return ApiClient(f"http://{config['WEB_SERVER_ADDRESS']}", ADMIN_TOKEN)

    return start


def test_a_stuck_service_gives_503_not_a_hung_request(gateway_only):
    api = gateway_only(SlowOrders)
    response = api.get("/api/v1/orders")
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/problem+json")
    # The gateway gave up at its configured RPC timeout (1 s) and tells the client so,
    # instead of waiting for the stuck service's 30 s.
    assert response.json()["detail"] == "The orders service did not answer within 1 s."
    health = api.get("/health")
    assert health.status_code == 503
    assert "orders" in health.json()["down"]
