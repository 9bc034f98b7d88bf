"""Test-session infrastructure: a private RabbitMQ vhost and a private PostgreSQL database.

Nothing here is mocked: every test that needs a broker or a database talks to the real
RabbitMQ and PostgreSQL of the machine, isolated by name so runs never see each other.
"""

import os
import pathlib

import eventlet

eventlet.monkey_patch()  # noqa: E402 - must precede every import that touches sockets

import pytest  # noqa: E402

from tests.support.suite import (  # noqa: E402
    AMQP_BASE,
    PG_ADMIN_URL,
    REPO,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    service_settings,
    wait_for,
)

SERVICES_WITH_TABLES = ["orders", "payments", "notifications", "exports", "documents", "gateway"]
__all__ = ["AMQP_BASE", "PG_ADMIN_URL", "REPO"]


# `make test-unit` runs only the tests that need neither broker nor database (OMS_TEST_UNIT=1);
# a test needs them when one of these fixtures is in its closure or its area starts a suite
INFRASTRUCTURE_FIXTURES = {"amqp_vhost_and_uri", "database_url", "notifications_database_url"}
SUITE_AREAS = {"e2e", "security", "fuzz", "ops", "faults", "browser"}
UNIT_ONLY = os.environ.get("OMS_TEST_UNIT") == "1"


def service_dir(name):
    return REPO / "gateway" if name == "gateway" else REPO / "services" / name


def needs_infrastructure(item):
    area = pathlib.Path(item.fspath).relative_to(REPO / "tests").parts[0]
    return (
        area in SUITE_AREAS
        or bool(INFRASTRUCTURE_FIXTURES & set(item.fixturenames))
        or item.get_closest_marker("infrastructure") is not None
    )


def pytest_collection_modifyitems(config, items):
    if not UNIT_ONLY:
        return
    deselected = [item for item in items if needs_infrastructure(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not needs_infrastructure(item)]


def refuse_in_unit_run(what):
    if UNIT_ONLY:
        pytest.fail(f"a unit test asked for {what}; mark it @pytest.mark.infrastructure")


@pytest.fixture(scope="session")
def amqp_vhost_and_uri():
    refuse_in_unit_run("the broker")
    vhost, uri = create_vhost()
    yield vhost, uri
    delete_vhost(vhost)


@pytest.fixture(scope="session")
def amqp_vhost(amqp_vhost_and_uri):
    return amqp_vhost_and_uri[0]


@pytest.fixture(scope="session")
def session_amqp_uri(amqp_vhost_and_uri):
    return amqp_vhost_and_uri[1]


@pytest.fixture(name="wait_until")
def wait_until_fixture():
    """Polls a condition until it holds (see tests.support.suite.wait_for)."""
    return wait_for


@pytest.fixture
def rabbit_config(session_amqp_uri):
    """Overrides nameko's fixture (which needs the management plugin) with our vhost."""
    return {"AMQP_URI": session_amqp_uri}


@pytest.fixture(scope="session")
def database_url():
    """A fresh PostgreSQL database with every service's migrations applied."""
    from oms_common.migrations import upgrade

    refuse_in_unit_run("the database")
    name, url = create_database()
    for service in SERVICES_WITH_TABLES:
        if (service_dir(service) / "alembic.ini").exists():
            upgrade(service_dir(service), url)
    yield url
    drop_database(name)


@pytest.fixture
def service_config(rabbit_config, database_url):
    """The nameko config a service gets in tests: private vhost, private database, fast retries."""
    return service_settings(rabbit_config["AMQP_URI"], database_url)


def sql_source(database_url, service_name, infrastructure):
    """A SessionSource on a service's schema, for tests that look at rows directly."""
    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import database_url as resolve

    engine = make_engine(resolve(database_url, service_name), schema=service_name, pool_size=2)
    return SessionSource(engine, infrastructure)


collect_ignore = ["browser"]  # run by its own pytest process (no eventlet there): see the Makefile
