"""A retry while the first request with its key still runs is told to wait (409, Retry-After);
a retry after the gateway that ran the first request died runs at once, on any replica."""

import uuid

import eventlet
import pytest
from nameko.rpc import rpc
from sqlalchemy import create_engine, text

from gateway.service import GatewayService
from oms_common.settings import database_url as resolve_url
from tests.gateway.conftest import ADMIN_TOKEN, ApiClient
from tests.support.suite import free_port


class CountingOrders:
    """Ships every time it is asked, slowly when told to, and counts how often it was asked."""

    name = "orders"
    calls: list[str] = []
    slow: set[str] = set()

    @rpc
    def ship_order(self, reference, data, actor=None):
        CountingOrders.calls.append(reference)
        if reference in CountingOrders.slow:
            eventlet.sleep(3)
        return {"reference": reference, "status": "shipped", "version": 2}


@pytest.fixture
def api(runner_factory, service_config):
    config = {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "RPC_TIMEOUT_SECONDS": 10,
    }
    runner_factory(config, GatewayService, CountingOrders).start()
    return ApiClient(f"http://{config['WEB_SERVER_ADDRESS']}", ADMIN_TOKEN)


def _ship(api, reference, key):
    return api.post(f"/api/v1/orders/{reference}/ship", json={"notify": False}, headers={"Idempotency-Key": key})


def test_a_retry_while_the_first_request_runs_is_told_to_retry_after_a_moment(api):
    reference, key = str(uuid.uuid4().int)[:12], f"running-{uuid.uuid4().hex}"
    CountingOrders.slow.add(reference)
    first = eventlet.spawn(_ship, api, reference, key)
    while reference not in CountingOrders.calls:
        eventlet.sleep(0.05)

    retry = _ship(api, reference, key)
    assert retry.status_code == 409
    assert retry.headers["Retry-After"] == "2"
    assert "Idempotency-Key" in retry.json()["errors"]

    assert first.wait().status_code == 200
    again = _ship(api, reference, key)
    assert (again.status_code, again.headers.get("Idempotency-Replayed")) == (200, "true")
    assert CountingOrders.calls.count(reference) == 1


def test_a_retry_after_the_gateway_of_the_first_attempt_died_runs_at_once(api, database_url):
    reference, key = str(uuid.uuid4().int)[:12], f"orphaned-{uuid.uuid4().hex}"
    assert _ship(api, reference, key).status_code == 200
    # what a gateway killed mid-request leaves behind: the key claimed a moment ago, no answer,
    # and (its connection gone) nobody holding the key's running lock
    engine = create_engine(resolve_url(database_url))
    with engine.begin() as connection:
        changed = connection.execute(
            text(
                "UPDATE gateway.idempotent_requests SET state = 'pending', claimed_at = now(),"
                " status = NULL, body = NULL WHERE key = :key"
            ),
            {"key": key},
        ).rowcount
    engine.dispose()
    assert changed == 1

    retry = _ship(api, reference, key)
    assert retry.status_code == 200, retry.text
    assert "Idempotency-Replayed" not in retry.headers
    assert CountingOrders.calls.count(reference) == 2
