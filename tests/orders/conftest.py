"""Fixtures of the orders tests: a running OrdersService on the session's vhost and database."""

import socket
import uuid

import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer
from nameko.testing.services import entrypoint_hook

from oms_common.db import SessionSource, make_engine
from oms_common.settings import database_url as resolve_database_url
from orders.models import infrastructure
from orders.service import OrdersService
from tests.support.drain import outbox_rows_about
from tests.support.suite import service_settings
from tests.support.suite import wait_for as wait_until

ADMIN = {"name": "alice", "kind": "user", "role": "admin", "origin": "gateway 10.0.0.7"}


def order_data(**overrides):
    """A valid create_order body for a fresh customer; keyword arguments replace its fields."""
    email = overrides.pop("email", None) or f"buyer-{uuid.uuid4().hex[:12]}@example.com"
    data = {
        "customer": {"email": email, "first_name": "Anna", "last_name": "Muster", "language": "de"},
        "billing_address": {
            "first_name": "Anna",
            "last_name": "Muster",
            "street": "Bahnhofstrasse 1",
            "postal_code": "8001",
            "city": "Zürich",
            "country": "CH",
        },
        "lines": [
            {"article_number": "A-100", "name": "Teapot", "quantity": 2, "unit_price": "19.95"},
            {"article_number": "B-200", "name": "Green tea", "quantity": 1, "unit_price": "7.50"},
        ],
        "shipping_cost": "8.00",
        "currency": "CHF",
        "payment_method": "invoice",
    }
    if "customer_id" in overrides:
        del data["customer"]
    data.update(overrides)
    return data


@pytest.fixture(scope="package")
def orders_config(session_amqp_uri, database_url):
    """What the ``service_config`` fixture gives, for the whole package (it is per test)."""
    return {**service_settings(session_amqp_uri, database_url), "CURSOR_SECRET": "orders-tests-cursor-secret"}


@pytest.fixture(scope="package")
def orders_container(orders_config):
    """One OrdersService for these tests: nameko needs ~2 s to stop a container, per test
    that would be minutes. Tests therefore only touch data they created themselves. It stops
    when tests/orders is done, so that it never answers for another package's tests."""
    container = ServiceContainer(OrdersService, orders_config)
    container.start()
    yield container
    container.stop()


@pytest.fixture(scope="package")
def call(orders_container):
    """Calls an RPC entrypoint of the running service: ``call("get_order", reference)``."""

    def call_entrypoint(method, *args, **kwargs):
        with entrypoint_hook(orders_container, method) as entrypoint:
            return entrypoint(*args, **kwargs)

    return call_entrypoint


@pytest.fixture
def create(call):
    """Creates an order and returns it; keyword arguments override the default body."""

    def create_order(actor=ADMIN, **overrides):
        return call("create_order", order_data(**overrides), actor=actor)["order"]

    return create_order


@pytest.fixture(name="order_data")
def order_data_fixture():
    return order_data


@pytest.fixture(scope="package")
def orders_db(database_url):
    """The orders schema, for assertions on rows the RPC interface does not show."""
    engine = make_engine(resolve_database_url(database_url, "orders"), schema="orders", pool_size=2)
    yield SessionSource(engine, infrastructure)
    engine.dispose()


@pytest.fixture
def order_state(call, orders_db):
    """What a refused change must leave as it was: the order, its history and its events."""

    def state(reference):
        return {
            "order": call("get_order", reference),
            "history": len(call("order_history", reference)),
            "events": outbox_rows_about(orders_db, f'"{reference}"'),
        }

    return state


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]


class EventTap:
    """A private queue bound to every routing key of an event exchange, drained on demand."""

    def __init__(self, amqp_uri, exchange_name):
        self.connection = Connection(amqp_uri)
        exchange = Exchange(exchange_name, type="topic", durable=True)
        queue = Queue(
            f"test-tap-{uuid.uuid4().hex[:8]}", exchange=exchange, routing_key="#", exclusive=True, auto_delete=True
        )
        self.received = []  # (event_type, payload) in arrival order
        self.headers = []  # the AMQP headers of each, in the same order
        self.consumer = self.connection.Consumer([queue], callbacks=[self._on_message], accept=["json"])
        self.consumer.consume()

    def _on_message(self, body, message):
        self.received.append((message.delivery_info["routing_key"], body))
        self.headers.append(dict(message.headers or {}))
        message.ack()

    def headers_of(self, reference):
        return [
            headers
            for (_, payload), headers in zip(self.received, self.headers, strict=True)
            if payload.get("order", {}).get("reference") == reference
        ]

    def drain(self):
        try:
            self.connection.drain_events(timeout=0.05)
        except socket.timeout:
            pass

    def drain_until_quiet(self, quiet=0.2):
        """Takes everything the queue holds now: stops after ``quiet`` seconds without a message."""
        while True:
            before = len(self.received)
            try:
                self.connection.drain_events(timeout=quiet)
            except socket.timeout:
                return
            if len(self.received) == before:
                return

    def wait_for(self, condition, timeout=10.0, message="events"):
        """Drains the queue until ``condition(received)`` holds; fails after ``timeout``."""

        def satisfied():
            self.drain()
            return condition(self.received)

        return wait_until(satisfied, timeout=timeout, interval=0, message=message)

    def close(self):
        self.consumer.cancel()
        self.connection.release()


@pytest.fixture
def order_events(orders_container, orders_config):
    """Every event the orders service publishes from now on."""
    tap = EventTap(orders_config["AMQP_URI"], "orders.events")
    yield tap
    tap.close()
