"""A running gateway with the orders and documents services behind it, and a valid shop profile."""

import pytest

from documents.service import DocumentsService
from gateway.service import GatewayService
from orders.service import OrdersService
from tests.gateway.conftest import ADMIN_TOKEN, ApiClient, client_for  # noqa: F401 - fixtures
from tests.notifications.conftest import purge_event_queues
from tests.support.samples import IBAN, QR_IBAN, VALID_CH_VAT, png_bytes, shop_profile  # noqa: F401 - test modules
from tests.support.suite import free_port


@pytest.fixture
def gateway_config(service_config):
    return {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "RPC_TIMEOUT_SECONDS": 10,
    }


@pytest.fixture
def running_suite(runner_factory, gateway_config):
    runner = runner_factory(gateway_config, GatewayService, OrdersService, DocumentsService)
    for container in runner.containers:
        if container.service_name == "documents":
            purge_event_queues(container, gateway_config["AMQP_URI"])
    runner.start()
    return runner


@pytest.fixture
def base_url(running_suite, gateway_config):
    return f"http://{gateway_config['WEB_SERVER_ADDRESS']}"


@pytest.fixture
def admin(base_url):
    return ApiClient(base_url, ADMIN_TOKEN)


@pytest.fixture
def profile_set(admin):
    def put(**overrides):
        answer = admin.put("/api/v1/settings/shop-profile", json=shop_profile(**overrides))
        assert answer.status_code == 200, answer.text
        return answer.json()

    return put


@pytest.fixture
def settle(amqp_vhost, database_url):
    """Waits until no event can still reach the documents service: the orders outbox is
    published and the documents handlers' queues (retries included) are empty."""
    from orders.models import infrastructure as orders_infrastructure
    from tests.conftest import sql_source
    from tests.support.drain import drain, outbox_unpublished

    source = sql_source(database_url, "orders", orders_infrastructure)

    def orders_outbox_published():
        return outbox_unpublished(source) == 0

    yield lambda: drain(amqp_vhost, ("documents",), orders_outbox_published)
    source.engine.dispose()
