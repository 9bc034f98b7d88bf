"""Payments against a fake PSP that fails on purpose, with capture on shipment switched on.

Its own containers (package scope, like tests/payments): payments configured with
``PSP_CAPTURE=checkout`` overridden to ``on_ship`` for Stripe and PayPal, short PSP timeouts,
reconciliation by call only; orders beside it, whose ship asks payments to capture.
"""

import sys
from pathlib import Path

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.conftest import sql_source
from tests.payments.conftest import Probe
from tests.support.drain import drain, outbox_unpublished
from tests.support.suite import free_port, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from fake_psp import FakePSP  # noqa: E402

from payments.models import infrastructure  # noqa: E402
from tests.support.suite import service_settings

STRIPE_SECRET = "whsec_test_faults"
ADMIN = {"name": "alice", "kind": "user", "role": "admin", "origin": "gateway 10.0.0.7"}
PSP_TIMEOUT = 1.0


@pytest.fixture(scope="package")
def fake_psp():
    psp = FakePSP(stripe_webhook_secret=STRIPE_SECRET)
    psp.start()
    yield psp
    psp.stop()


@pytest.fixture(scope="package")
def payments_config(session_amqp_uri, database_url, fake_psp):
    port = free_port()
    config = {
        **service_settings(session_amqp_uri, database_url),
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "STRIPE_API_KEY": fake_psp.stripe_api_key,
        "STRIPE_API_BASE": fake_psp.base_url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        "PAYPAL_API_BASE": fake_psp.base_url,
        "PAYPAL_CLIENT_ID": fake_psp.paypal_client_id,
        "PAYPAL_CLIENT_SECRET": fake_psp.paypal_client_secret,
        "PAYPAL_WEBHOOK_ID": fake_psp.paypal_webhook_id,
        "PSP_TIMEOUT_SECONDS": PSP_TIMEOUT,
        "PSP_CAPTURE": "checkout",
        "PSP_CAPTURE_STRIPE": "on_ship",
        "PSP_CAPTURE_PAYPAL": "on_ship",
        "RECONCILE_INTERVAL_SECONDS": 0,
        "RECONCILE_AFTER_SECONDS": 3600,
        "RECONCILE_RECHECK_SECONDS": 1,
        "RECONCILE_BATCH": 1000,
        "INBOX_SWEEP_SECONDS": 0.5,
        "INBOX_POLL_SECONDS": 0.2,
        "INBOX_RETRY_BASE_SECONDS": 0.1,
        "ORDERS_RPC_TIMEOUT": 10,
    }
    fake_psp.stripe_webhook_url = f"http://127.0.0.1:{port}/webhooks/stripe"
    fake_psp.paypal_webhook_url = f"http://127.0.0.1:{port}/webhooks/paypal"
    return config


@pytest.fixture(scope="package")
def payments_service(payments_config):
    from nameko.containers import ServiceContainer

    from payments.service import PaymentsService

    container = ServiceContainer(PaymentsService, payments_config)
    container.start()
    yield container
    container.stop()


@pytest.fixture(scope="package")
def orders_service(session_amqp_uri, database_url, payments_service):
    from nameko.containers import ServiceContainer

    from orders.service import OrdersService

    container = ServiceContainer(
        OrdersService, {**service_settings(session_amqp_uri, database_url), "PAYMENTS_RPC_TIMEOUT": 20}
    )
    container.start()
    yield container
    container.stop()


@pytest.fixture(scope="package")
def rpc(payments_config):
    with ClusterRpcProxy(payments_config, timeout=60) as proxy:
        yield proxy


@pytest.fixture(scope="package")
def payments_db(database_url):
    source = sql_source(database_url, "payments", infrastructure)
    yield source
    source.engine.dispose()


@pytest.fixture
def probe(payments_db):
    return Probe(payments_db)


@pytest.fixture
def settle(amqp_vhost, probe):
    """Nothing more can happen to the order: queues of payments and orders empty, its webhooks
    processed, the payments outbox published."""

    def wait(reference):
        drain(
            amqp_vhost,
            ("payments", "orders"),
            lambda: all(row.status != "received" for row in probe.inbox(reference)),
            lambda: outbox_unpublished(probe.source) == 0,
        )

    return wait


def order_body(method, total, currency="CHF"):
    from tests.payments.conftest import new_reference

    return {
        "customer": {
            "email": f"buyer-{new_reference().lower()}@example.com",
            "first_name": "Anna",
            "last_name": "Muster",
            "language": "de",
        },
        "billing_address": {
            "first_name": "Anna",
            "last_name": "Muster",
            "street": "Bahnhofstrasse 1",
            "postal_code": "8001",
            "city": "Zürich",
            "country": "CH",
        },
        "lines": [{"article_number": f"A-{new_reference()}", "name": "Teapot", "quantity": 1, "unit_price": total}],
        "shipping_cost": "0.00",
        "currency": currency,
        "payment_method": method,
    }


@pytest.fixture
def place_order(orders_service, payments_service, rpc, probe):
    """A real order placed through the orders service; waits until its payment is open at the PSP."""

    def place(method="card", total="49.90", currency="CHF"):
        order = rpc.orders.create_order(order_body(method, total, currency), actor=ADMIN)["order"]
        reference = order["reference"]
        wait_for(
            lambda: (p := probe.payment(reference)) is not None and p.psp_reference,
            message=f"the payment of {reference} opened at the PSP",
        )
        return reference

    return place


def order_status(rpc, reference):
    return rpc.orders.get_order(reference)["status"]


def order_and_payment(rpc, probe, reference):
    """What a refused ship or refund must leave as it was: the order, its history, the payment
    (amounts, refunds) and the payment events."""
    order = rpc.orders.get_order(reference)
    payment = rpc.payments.get_payment(reference)
    return {
        "order": (order["status"], order["version"], order.get("tracking_number")),
        "history": len(rpc.orders.order_history(reference)),
        "payment": {
            key: payment.get(key)
            for key in ("status", "captured_amount", "refunded_amount", "pending_refund_amount", "refunds")
        },
        "events": len(probe.events(reference)),
    }


def calls(fake_psp, method, path):
    with fake_psp.lock:
        return [call for call in fake_psp.calls if call[0] == method and call[1] == path]


@pytest.fixture(scope="package")
def gateway(session_amqp_uri, database_url, orders_service):
    """The HTTP gateway in front of orders and payments; yields (base URL, admin token)."""
    from nameko.containers import ServiceContainer

    from gateway.auth import create_user_with_token
    from gateway.models import infrastructure as gateway_infrastructure
    from gateway.service import GatewayService
    from tests.payments.conftest import new_reference

    port = free_port()
    container = ServiceContainer(
        GatewayService,
        {
            **service_settings(session_amqp_uri, database_url),
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
            "RPC_TIMEOUT_SECONDS": 30,
        },
    )
    container.start()
    source = sql_source(database_url, "gateway", gateway_infrastructure)
    token = create_user_with_token(source, f"capture-admin-{new_reference().lower()}", "admin")
    source.engine.dispose()
    yield f"http://127.0.0.1:{port}", token
    container.stop()
