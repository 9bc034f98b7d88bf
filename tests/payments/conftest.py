"""Fixtures of the payments tests: the fake PSP, the payments (and orders) containers, probes."""

import sys
import uuid
from pathlib import Path

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select

from tests.conftest import sql_source
from tests.support.suite import free_port, wait_for  # noqa: F401 - used by the test modules

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from fake_psp import FakePSP  # noqa: E402

from payments.models import Payment, PaymentAudit, WebhookInbox, infrastructure  # noqa: E402
from tests.support.suite import service_settings

STRIPE_SECRET = "whsec_test_current"
STRIPE_OLD_SECRET = "whsec_test_previous"


def new_reference():
    return f"T{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="package")
def fake_psp():
    psp = FakePSP(stripe_webhook_secret=STRIPE_SECRET)
    psp.start()
    yield psp
    psp.stop()


@pytest.fixture(scope="package")
def payments_config(session_amqp_uri, database_url, fake_psp):
    """The payments config, at package scope: the containers live while tests/payments runs
    (nameko needs seconds to stop one), so tests only touch orders they created themselves;
    they are stopped before other packages' tests run."""
    port = free_port()
    config = {
        **service_settings(session_amqp_uri, database_url),
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "STRIPE_API_KEY": fake_psp.stripe_api_key,
        "STRIPE_API_BASE": fake_psp.base_url,
        "STRIPE_WEBHOOK_SECRET": f"{STRIPE_SECRET},{STRIPE_OLD_SECRET}",
        "PAYPAL_API_BASE": fake_psp.base_url,
        "PAYPAL_CLIENT_ID": fake_psp.paypal_client_id,
        "PAYPAL_CLIENT_SECRET": fake_psp.paypal_client_secret,
        "PAYPAL_WEBHOOK_ID": fake_psp.paypal_webhook_id,
        "PSP_TIMEOUT_SECONDS": 5,
        "RECONCILE_INTERVAL_SECONDS": 0,  # tests call reconcile_now
        "RECONCILE_AFTER_SECONDS": 3600,  # so that other tests' pending payments are not touched
        "INBOX_SWEEP_SECONDS": 0.5,
        "INBOX_POLL_SECONDS": 0.2,
        "INBOX_RETRY_BASE_SECONDS": 0.1,
        "ORDERS_RPC_TIMEOUT": 10,
        "RECONCILE_BATCH": 1000,
        "DUNNING_FEE_1": "3.00",
        "DUNNING_FEE_2": "7.50",
        "AUTO_DUNNING": "true",
        "AUTO_DUNNING_SCAN_SECONDS": 0,  # tests call auto_dunning_now with the day they mean
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

    container = ServiceContainer(OrdersService, {**service_settings(session_amqp_uri, database_url)})
    container.start()
    yield container
    container.stop()


@pytest.fixture(scope="package")
def rpc(payments_config):
    with ClusterRpcProxy(payments_config, timeout=30) as proxy:
        yield proxy


@pytest.fixture(scope="package")
def dispatch(payments_config):
    """Publishes an event as if the orders service had sent it."""
    send = event_dispatcher(payments_config)

    def publish(event_type, payload, source="orders"):
        send(source, event_type, payload)

    return publish


@pytest.fixture(scope="package")
def payments_db(database_url):
    source = sql_source(database_url, "payments", infrastructure)
    yield source
    source.engine.dispose()


class Probe:
    """Looks at the payments schema directly: rows, audit entries, outbox events."""

    def __init__(self, source):
        self.source = source

    def payment(self, reference):
        with self.source.read_session() as session:
            return session.execute(select(Payment).where(Payment.order_reference == reference)).scalar_one_or_none()

    def status(self, reference):
        payment = self.payment(reference)
        return payment.status if payment else None

    def events(self, reference, event_type="payment_status_changed"):
        outbox = infrastructure.outbox
        with self.source.read_session() as session:
            rows = (
                session.execute(select(outbox.c.payload).where(outbox.c.event_type == event_type).order_by(outbox.c.id))
                .scalars()
                .all()
            )
        return [row for row in rows if row.get("order_reference") == reference]

    def audit(self, reference, action=None):
        with self.source.read_session() as session:
            query = select(PaymentAudit).where(PaymentAudit.order_reference == reference).order_by(PaymentAudit.id)
            if action:
                query = query.where(PaymentAudit.action == action)
            return session.execute(query).scalars().all()

    def inbox(self, reference=None, provider_event_id=None):
        with self.source.read_session() as session:
            query = select(WebhookInbox).order_by(WebhookInbox.id)
            if reference:
                query = query.where(WebhookInbox.order_reference == reference)
            if provider_event_id:
                query = query.where(WebhookInbox.provider_event_id == provider_event_id)
            return session.execute(query).scalars().all()

    def settled(self, reference):
        """True when every stored webhook of the order has been processed."""
        rows = self.inbox(reference)
        return rows and all(row.status not in ("received",) for row in rows)


@pytest.fixture
def probe(payments_db):
    return Probe(payments_db)


@pytest.fixture
def settle(amqp_vhost, probe):
    """Waits until nothing more can happen to an order's payment: the handlers' queues of the
    given services are empty, every stored webhook of the order is processed and the payments
    outbox is published. Counting after that shows a wrong second effect, if there was one."""
    from tests.support.drain import drain, outbox_unpublished

    def wait(reference, consumers=("payments",)):
        drain(
            amqp_vhost,
            consumers,
            lambda: all(row.status != "received" for row in probe.inbox(reference)),
            lambda: outbox_unpublished(probe.source) == 0,
        )

    return wait


def order_event(reference, method="card", total="49.90", currency="CHF", status=None):
    status = status or ("payment_pending" if method in ("card", "paypal") else "new")
    return {
        "event_id": uuid.uuid4().hex,
        "order": {
            "reference": reference,
            "status": status,
            "payment_method": method,
            "payment_status": "pending" if method in ("card", "paypal") else "unpaid",
            "currency": currency,
            "total": total,
            "customer": {"id": 1},
        },
        "actor": {"name": "shop", "kind": "customer", "role": None, "origin": "storefront"},
    }


@pytest.fixture
def submit_order(payments_service, dispatch, probe):
    """Announces a submitted order the way orders does; waits until its payment exists."""

    def submit(method="card", total="49.90", currency="CHF", reference=None, wait_psp=True):
        reference = reference or new_reference()
        dispatch("order_submitted", order_event(reference, method, total, currency))
        needs_psp = method in ("card", "paypal") and wait_psp
        wait_for(
            lambda: (p := probe.payment(reference)) is not None and (p.psp_reference or not needs_psp),
            message=f"payment record of {reference}",
        )
        return reference

    return submit
