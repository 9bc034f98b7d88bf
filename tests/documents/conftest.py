"""A running gateway with the orders and documents services behind it, and a valid shop profile."""

import base64
import io

import pytest

from documents.service import DocumentsService
from gateway.service import GatewayService
from orders.service import OrdersService
from tests.gateway.conftest import ADMIN_TOKEN, ApiClient, client_for  # noqa: F401 - fixtures
from tests.notifications.conftest import purge_event_queues
from tests.support.suite import free_port

VALID_CH_VAT = "CHE-109.322.551 MWST"
QR_IBAN = "CH4431999123000889012"
IBAN = "CH9300762011623852957"


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


def png_bytes(width=40, height=20):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 90, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def shop_profile(**overrides):
    profile = {
        "legal_name": "Teehaus Zürich AG",
        "address": {
            "street": "Bahnhofstrasse",
            "house_number": "1",
            "postal_code": "8001",
            "city": "Zürich",
            "country": "CH",
        },
        "vat_number": VALID_CH_VAT,
        "contact": {"email": "buchhaltung@teehaus.example", "phone": "+41 44 000 00 00", "website": ""},
        "logo": {"data": base64.b64encode(png_bytes()).decode("ascii")},
        "iban": IBAN,
        "qr_iban": QR_IBAN,
        "payment_term_days": 30,
        "footer": {
            "de": "Zahlbar innert 30 Tagen.",
            "fr": "Payable dans les 30 jours.",
            "it": "Pagabile entro 30 giorni.",
            "en": "Payable within 30 days.",
        },
    }
    profile.update(overrides)
    return profile


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
