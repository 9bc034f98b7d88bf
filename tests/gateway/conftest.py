"""A running gateway (with the real orders service behind it) and HTTP clients per role."""

import pytest
import requests

from gateway.auth import create_user_with_token
from gateway.models import infrastructure as gateway_infrastructure
from gateway.service import GatewayService
from orders.service import OrdersService
from tests.conftest import sql_source
from tests.support.suite import free_port

ADMIN_TOKEN = "test-admin-token-0123456789"


class ApiClient:
    def __init__(self, base, token=None):
        self.base = base
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.request("PUT", path, json=json, **kwargs)


@pytest.fixture
def gateway_config(service_config):
    port = free_port()
    return {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "RPC_TIMEOUT_SECONDS": 5,
    }


@pytest.fixture
def running_suite(runner_factory, gateway_config):
    """The gateway and the orders service, as nameko runs them."""
    runner = runner_factory(gateway_config, GatewayService, OrdersService)
    runner.start()
    return runner


@pytest.fixture
def base_url(running_suite, gateway_config):
    return f"http://{gateway_config['WEB_SERVER_ADDRESS']}"


@pytest.fixture
def admin(base_url):
    return ApiClient(base_url, ADMIN_TOKEN)


@pytest.fixture
def client_for(base_url, database_url):
    source = sql_source(database_url, "gateway", gateway_infrastructure)
    made = {}

    def make(role):
        if role not in made:
            token = create_user_with_token(source, f"{role}-user", role)
            made[role] = ApiClient(base_url, token)
        return made[role]

    yield make
    source.engine.dispose()


@pytest.fixture
def anonymous(base_url):
    return ApiClient(base_url)
