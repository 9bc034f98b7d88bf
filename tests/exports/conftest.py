"""Fixtures of the exports tests: a running ExportsService (and an OrdersService for imports)
on the session's vhost and database, alive for this package only (other packages' tests wait
for their own containers to consume events and calls), its HTTP listener on a free port, and helpers to feed
the export copy with orders events exactly as the orders service publishes them."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from nameko.containers import ServiceContainer
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook
from sqlalchemy import delete

from exports.models import ExportJob, ExportRun, infrastructure
from exports.service import ExportsService
from exports.settings import ExportSettings
from oms_common.db import SessionSource, make_engine
from oms_common.settings import database_url as resolve_database_url
from orders.service import OrdersService
from tests.support.samples import address, line, teapot_and_tea, teapot_and_tea_totals
from tests.support.suite import (
    free_port,  # noqa: F401 - used by the test modules
    service_settings,
)
from tests.support.suite import wait_for as wait_until

ADMIN = {"name": "alice", "kind": "user", "role": "admin", "origin": "gateway 10.0.0.7"}
INTERNAL_TOKEN = "exports-tests-internal-token"


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="package")
def base_config(session_amqp_uri, database_url, export_dir):
    return {
        **service_settings(session_amqp_uri, database_url),
        "EXPORT_DIR": str(export_dir),
        "CSV_DELIMITER": ";",
        "EXPORT_FETCH_SIZE": 7,  # small on purpose: many round trips through the server-side cursor
        "ORDERS_RPC_TIMEOUT": 20,
        "EXPORTS_INTERNAL_TOKEN": INTERNAL_TOKEN,
    }


@pytest.fixture(scope="package")
def exports_config(base_config):
    # its timer never fires during the session: job tests drive runs themselves or start replicas
    return {**base_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}", "JOB_TIMER_SECONDS": 3600}


@pytest.fixture(scope="package")
def exports_container(exports_config):
    container = ServiceContainer(ExportsService, exports_config)
    container.start()
    yield container
    container.stop()


@pytest.fixture(scope="package")
def orders_service(base_config):
    container = ServiceContainer(OrdersService, base_config)
    container.start()
    yield container
    container.stop()


@pytest.fixture(scope="package")
def settings(exports_config):
    return ExportSettings.from_config(exports_config)


@pytest.fixture(scope="package")
def http_base(exports_container, exports_config):
    return f"http://{exports_config['WEB_SERVER_ADDRESS']}/exports"


@pytest.fixture(scope="package")
def fetch(http_base):
    def get(name, params=None, **kwargs):
        headers = {"X-OMS-Internal-Token": INTERNAL_TOKEN, **kwargs.pop("headers", {})}
        return requests.get(f"{http_base}/{name}", params=params, timeout=30, headers=headers, **kwargs)

    return get


@pytest.fixture(scope="package")
def call(exports_container):
    """Calls an RPC entrypoint of the running exports service."""

    def call_entrypoint(method, *args, **kwargs):
        with entrypoint_hook(exports_container, method) as entrypoint:
            return entrypoint(*args, **kwargs)

    return call_entrypoint


@pytest.fixture(scope="package")
def call_orders(orders_service):
    def call_entrypoint(method, *args, **kwargs):
        with entrypoint_hook(orders_service, method) as entrypoint:
            return entrypoint(*args, **kwargs)

    return call_entrypoint


@pytest.fixture(scope="session")
def exports_db(database_url):
    engine = make_engine(resolve_database_url(database_url, "exports"), schema="exports", pool_size=4)
    yield SessionSource(engine, infrastructure)
    engine.dispose()


@pytest.fixture
def clean_jobs(exports_db):
    """Job tests start without jobs of other tests (a replica's timer would run those too)."""
    with exports_db.unit_of_work() as uow:
        uow.session.execute(delete(ExportRun))
        uow.session.execute(delete(ExportJob))
        uow.commit()


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:8].upper()


# ---------------------------------------------------------------- feeding the copy


SYNTHETIC = 10**9  # customer ids of synthetic events: far above what the orders service issues in tests


def order_doc(
    reference,
    version=1,
    customer_id=SYNTHETIC + 1,
    status="new",
    payment_status="unpaid",
    created_at=None,
    lines=None,
    **overrides,
):
    """An order as the orders service's OrderSchema dumps it into its events."""
    created_at = created_at or datetime.now(timezone.utc)
    lines = lines or teapot_and_tea()
    doc = {
        "reference": reference,
        "invoice_number": f"RE-{reference}",
        "invoice_number_external": False,
        "status": status,
        "payment_status": payment_status,
        **teapot_and_tea_totals(),
        "customer": {"id": customer_id, "email": f"c{customer_id}@example.com", "name": "Anna Muster"},
        "language": "de",
        "billing_address": address(),
        "shipping_address": address(),
        "lines": lines,
        "tracking_number": None,
        "session_id": None,
        "paused": False,
        "created_at": created_at.isoformat(),
        "updated_at": (created_at + timedelta(seconds=version)).isoformat(),
        "submitted_at": created_at.isoformat(),
        "version": version,
    }
    doc.update(overrides)
    return doc


@pytest.fixture(scope="package")
def dispatch(exports_container, exports_config):
    """Publishes an orders event (as the orders service's outbox relay would) and returns its id."""
    send = event_dispatcher({"AMQP_URI": exports_config["AMQP_URI"]})

    def dispatch_event(order, event_type="order_updated", source="orders", event_id=None, **extra):
        event_id = event_id or uuid.uuid4().hex
        payload = {
            "event_id": event_id,
            "event_type": event_type,
            "occurred_at": datetime.now(timezone.utc).isoformat(),
            **extra,
        }
        if order is not None:
            payload["order"] = order
        send(source, event_type, payload)
        return event_id

    return dispatch_event


@pytest.fixture(scope="package")
def copied(call):
    """Waits until the export copy holds ``reference`` at ``version`` (or newer); returns it."""

    def wait(reference, version=1, timeout=15.0):
        def ready():
            row = call("get_order_copy", reference)
            return row if row and row["version"] >= version else None

        return wait_until(ready, timeout=timeout, message=f"order {reference} v{version} in the export copy")

    return wait


@pytest.fixture(scope="package")
def feed(dispatch, copied):
    """Sends order documents as events and waits until the copy has them all."""

    def feed_orders(*docs, event_type="order_updated"):
        for doc in docs:
            dispatch(doc, event_type)
        for doc in docs:
            copied(doc["reference"], doc["version"])
        return docs

    return feed_orders


def taxed_order_doc(reference, **overrides):
    """An order with two VAT rates as the orders service now dumps it (gross CHF prices): each line's
    rate, the basis and the breakdown per rate (shipping at the standard rate)."""
    lines = [
        line(1, "T-1", "Teekanne", 2, "54.05", "108.10", tax_rate="8.10"),
        line(2, "B-1", "Grüntee", 1, "10.26", "10.26", tax_rate="2.60"),
    ]
    taxes = {
        "subtotal": "118.36",
        "shipping_cost": "8.00",
        "total": "126.36",
        "tax_country": "CH",
        "prices_include_tax": True,
        "shipping_tax_rate": "8.10",
        "tax_breakdown": [
            {"rate": "8.10", "net": "107.40", "tax": "8.70", "gross": "116.10"},
            {"rate": "2.60", "net": "10.00", "tax": "0.26", "gross": "10.26"},
        ],
    }
    return order_doc(reference, **{"lines": lines, **taxes, **overrides})
