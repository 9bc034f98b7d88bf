"""The issue's acceptance checks, with the real OrdersService producing the events."""

import uuid

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook, entrypoint_waiter
from sqlalchemy import select

from oms_common.db import SessionSource, make_engine
from oms_common.settings import database_url as resolve_database_url
from orders.models import infrastructure as orders_infrastructure
from orders.service import OrdersService

from .conftest import wait_for

ADMIN = {"name": "alice", "kind": "user", "role": "admin", "origin": "gateway 10.0.0.7"}


@pytest.fixture
def orders(container_factory, service_config):
    container = container_factory(OrdersService, service_config)
    container.start()

    def call(method, *args, **kwargs):
        with entrypoint_hook(container, method) as entrypoint:
            return entrypoint(*args, **kwargs)

    return call


@pytest.fixture
def orders_outbox(database_url):
    engine = make_engine(resolve_database_url(database_url, "orders"), schema="orders", pool_size=2)
    yield SessionSource(engine, orders_infrastructure)
    engine.dispose()


def new_order(orders, language):
    body = {
        "customer": {
            "email": f"kunde-{uuid.uuid4().hex[:10]}@example.com",
            "first_name": "Chloé",
            "last_name": "Dupont",
            "language": language,
        },
        "billing_address": {
            "first_name": "Chloé",
            "last_name": "Dupont",
            "street": "Rue du Rhône 1",
            "postal_code": "1204",
            "city": "Genève",
            "country": "CH",
        },
        "lines": [{"article_number": "A-100", "name": "Théière", "quantity": 1, "unit_price": "39.90"}],
        "shipping_cost": "8.00",
        "currency": "CHF",
        "payment_method": "invoice",
    }
    return orders("create_order", body, actor=ADMIN)["order"]


def kinds_sent_to(smtp_sink, address):
    return [m for m, envelope in smtp_sink.messages() if envelope["rcpt_tos"] == [address]]


def test_shipping_with_notify_sends_one_mail_in_the_customers_language_and_the_log_lists_it(
    orders, notifications, rpc, smtp_sink, orders_outbox, mail_config, settle
):
    order = new_order(orders, "fr")
    address = order["customer"]["email"]
    wait_for(lambda: len(kinds_sent_to(smtp_sink, address)) == 1, message="the order confirmation")

    orders("ship_order", order["reference"], {"notify": True, "tracking_number": "99.00.123456.78"}, actor=ADMIN)
    wait_for(lambda: len(kinds_sent_to(smtp_sink, address)) == 2, message="the shipping mail")
    settle()
    shipping = [m for m in kinds_sent_to(smtp_sink, address) if "expédiée" in m["Subject"]]
    assert len(shipping) == 1
    assert shipping[0]["Subject"] == f"Votre commande {order['reference']} a été expédiée"
    text = shipping[0].get_body(("plain",)).get_content()
    assert "Bonjour Chloé Dupont," in text and "Numéro de suivi : 99.00.123456.78" in text

    # the orders service's own order_shipped event, delivered again: nothing new goes out
    with orders_outbox.read_session() as session:
        payload = next(
            row.payload
            for row in session.execute(
                select(orders_infrastructure.outbox).where(orders_infrastructure.outbox.c.event_type == "order_shipped")
            )
            if row.payload["order"]["reference"] == order["reference"]
        )
    with entrypoint_waiter(notifications, "on_order_shipped"):
        event_dispatcher(mail_config)("orders", "order_shipped", payload)
    settle()
    assert len(kinds_sent_to(smtp_sink, address)) == 2

    log = wait_for(
        lambda: (
            (entries := rpc("mails_for_order", order["reference"]))
            and all(e["status"] == "sent" for e in entries)
            and entries
        ),
        message="a settled mail log",
    )
    assert [(e["kind"], e["recipient"], e["status"]) for e in log] == [
        ("order_confirmation", address, "sent"),
        ("shipping_confirmation", address, "sent"),
    ]
    assert log[1]["event_id"] == payload["event_id"] and log[1]["subject"] == shipping[0]["Subject"]


def test_shipping_without_notify_sends_no_mail(orders, notifications, rpc, smtp_sink, settle):
    order = new_order(orders, "de")
    address = order["customer"]["email"]
    wait_for(lambda: len(kinds_sent_to(smtp_sink, address)) == 1, message="the order confirmation")
    with entrypoint_waiter(notifications, "on_order_shipped"):
        orders("ship_order", order["reference"], {"notify": False}, actor=ADMIN)
    settle()
    (only,) = kinds_sent_to(smtp_sink, address)
    assert only["Subject"].startswith(f"Bestellbestätigung {order['reference']}")
    assert [e["kind"] for e in rpc("mails_for_order", order["reference"])] == ["order_confirmation"]
