"""The whole suite as `make run` starts it, once for the operations tests (CLI and metrics):
private vhost and database, a fake PSP for card payments, a real SMTP sink, and a metrics
port per service."""

import contextlib
import json
import sys
import uuid

import pytest
import requests

from tests.support.smtp import SmtpSink
from tests.support.suite import (
    REPO,
    RunningSuite,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    free_port,
    suite_environment,
)

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402

TOKEN = "ops-admin-token-0123456789abcdef"
STRIPE_SECRET = "whsec_ops_test"
SERVICES = ("orders", "payments", "notifications", "exports", "documents", "gateway")


class OpsSuite:
    def __init__(self, suite, env, psp, smtp, metrics_ports):
        self.suite, self.env, self.psp, self.smtp, self.metrics_ports = suite, env, psp, smtp, metrics_ports
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {TOKEN}"

    @property
    def base(self):
        return self.suite.base_url

    def get(self, path, **kwargs):
        return self.api.get(self.base + path, timeout=kwargs.pop("timeout", 15), **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.api.post(self.base + path, json=json, timeout=kwargs.pop("timeout", 15), **kwargs)


@contextlib.contextmanager
def held_outbox_event(env):
    """An event in the orders outbox that the relay cannot take yet: its row locked here, as if
    another relay had it in flight. Yields its event id; on leaving, the lock goes and the relay
    publishes it."""
    import psycopg2

    connection = psycopg2.connect(env["OMS_DATABASE_URL"], options="-csearch_path=orders")
    try:
        with connection.cursor() as cursor:
            for _attempt in range(5):
                event_id = uuid.uuid4().hex
                cursor.execute(
                    "INSERT INTO outbox (event_id, event_type, payload, created_at, attempts) "
                    "VALUES (%s, 'ops_probe', %s, now(), 0)",
                    (event_id, json.dumps({"event_id": event_id, "event_type": "ops_probe"})),
                )
                connection.commit()  # visible now; the relay polls about once a second
                cursor.execute("SELECT published_at FROM outbox WHERE event_id = %s FOR UPDATE", (event_id,))
                if cursor.fetchone()[0] is None:
                    break
                connection.rollback()  # the relay took it between commit and lock: once more
            else:
                raise AssertionError("the relay published every probe before it could be held")
        yield event_id
    finally:
        connection.rollback()
        connection.close()


def published(env, event_id):
    import psycopg2

    connection = psycopg2.connect(env["OMS_DATABASE_URL"], options="-csearch_path=orders")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT published_at FROM outbox WHERE event_id = %s", (event_id,))
            return cursor.fetchone()[0] is not None
    finally:
        connection.close()


def order_body(payment_method="invoice", email="ops@example.com"):
    return {
        "customer": {"email": email, "first_name": "Otto", "last_name": "Ops", "language": "de"},
        "billing_address": {
            "first_name": "Otto",
            "last_name": "Ops",
            "street": "Gasse 2",
            "postal_code": "4000",
            "city": "Basel",
            "country": "CH",
        },
        "lines": [{"article_number": "OPS-1", "name": "Teapot", "quantity": 1, "unit_price": "30.00"}],
        "shipping_cost": "5.00",
        "payment_method": payment_method,
    }


@pytest.fixture(scope="package")  # stopped (and its database connections freed) after tests/ops
def ops_suite(tmp_path_factory):
    # a vhost of its own: queues the earlier test packages left in the session vhost (parked
    # poison messages, RPC queues) must not show up in the counts asserted here
    tmp = tmp_path_factory.mktemp("ops")
    vhost, session_amqp_uri = create_vhost("oms-ops")
    name, url = create_database("oms_ops")
    psp = FakePSP(stripe_webhook_secret=STRIPE_SECRET)
    psp.start()
    smtp = SmtpSink(tmp / "mail")
    (tmp / "mail").mkdir()
    smtp.start()
    ports = {service: free_port() for service in SERVICES}
    env = suite_environment(
        session_amqp_uri,
        url,
        tmp,
        OMS_BOOTSTRAP_ADMIN_TOKEN=TOKEN,
        OMS_SMTP_HOST="127.0.0.1",
        OMS_SMTP_PORT=smtp.port,
        OMS_STRIPE_API_KEY=psp.stripe_api_key,
        OMS_STRIPE_API_BASE=psp.base_url,
        OMS_STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        OMS_LOG_LEVEL="WARNING",
        OMS_MAX_WORKERS=4,
        **{f"OMS_METRICS_PORT_{service.upper()}": port for service, port in ports.items()},
    )
    psp.stripe_webhook_url = f"http://{env['OMS_WEBHOOK_ADDRESS']}/webhooks/stripe"
    suite = RunningSuite(env)
    try:
        assert suite.wait_for("OMS is up", timeout=120), suite.tail(80)
        yield OpsSuite(suite, env, psp, smtp, ports)
    finally:
        suite.stop()
        smtp.stop()
        psp.stop()
        drop_database(name)
        delete_vhost(vhost)
