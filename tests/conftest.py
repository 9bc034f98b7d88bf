"""Test-session infrastructure: a private RabbitMQ vhost and a private PostgreSQL database.

Nothing here is mocked: every test that needs a broker or a database talks to the real
RabbitMQ and PostgreSQL of the machine, isolated by name so runs never see each other.
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402 - must precede every import that touches sockets

import os  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

import psycopg2  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SERVICES_WITH_TABLES = ["orders", "payments", "notifications", "exports", "gateway"]
PG_ADMIN_URL = os.environ.get("OMS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("OMS_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def service_dir(name):
    return REPO / "gateway" if name == "gateway" else REPO / "services" / name


def _rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def amqp_vhost():
    vhost = f"oms-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    user = urlparse(AMQP_BASE).username or "guest"
    _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    yield vhost
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def session_amqp_uri(amqp_vhost):
    parts = urlparse(AMQP_BASE)
    return f"{parts.scheme}://{parts.netloc}/{amqp_vhost}"


@pytest.fixture
def rabbit_config(session_amqp_uri):
    """Overrides nameko's fixture (which needs the management plugin) with our vhost."""
    return {"AMQP_URI": session_amqp_uri}


def _admin_connection():
    connection = psycopg2.connect(PG_ADMIN_URL)
    connection.autocommit = True
    return connection


@pytest.fixture(scope="session")
def database_url():
    """A fresh PostgreSQL database with every service's migrations applied."""
    name = f"oms_test_{uuid.uuid4().hex[:10]}"
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    parts = urlparse(PG_ADMIN_URL)
    url = f"postgresql://{parts.netloc}/{name}"
    from oms_common.migrations import upgrade

    for service in SERVICES_WITH_TABLES:
        if (service_dir(service) / "alembic.ini").exists():
            upgrade(service_dir(service), url)
    yield url
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    connection.close()


@pytest.fixture
def service_config(rabbit_config, database_url):
    """The nameko config a service gets in tests: private vhost, private database, fast retries."""
    return {
        **rabbit_config,
        "DATABASE_URL": database_url,
        "OUTBOX_POLL_SECONDS": 0.2,
        "EVENT_RETRY_DELAYS": [0.2, 0.5],
        "max_workers": 10,
    }


def sql_source(database_url, service_name, infrastructure):
    """A SessionSource on a service's schema, for tests that look at rows directly."""
    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import database_url as resolve

    engine = make_engine(resolve(database_url, service_name), schema=service_name, pool_size=2)
    return SessionSource(engine, infrastructure)
