"""Fixtures of the notifications tests: a real SMTP server (aiosmtpd, own process), the
NotificationsService on the session's vhost and database, and an event publisher that
speaks as the orders (or payments) service would."""

import uuid

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook

from notifications.models import infrastructure
from notifications.service import NotificationsService
from oms_common.db import SessionSource, make_engine
from oms_common.settings import database_url as resolve_database_url
from tests.support import samples
from tests.support.drain import drain
from tests.support.smtp import SmtpSink, wait_for  # noqa: F401 - wait_for is used by the test modules
from tests.support.suite import create_database, drop_database


@pytest.fixture
def smtp_sink(tmp_path):
    sink = SmtpSink(tmp_path / "smtp")
    sink.outdir.mkdir()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def notifications_database_url():
    """A database of the notifications tests' own (notifications migrations only).

    Mails that services of other test modules left queued in the shared test database would
    otherwise be sent to these tests' SMTP server and spoil every count.
    """
    from oms_common.migrations import upgrade

    from ..conftest import service_dir

    name, url = create_database("oms_test_mail")
    upgrade(service_dir("notifications"), url)
    yield url
    drop_database(name)


def purge_event_queues(container, amqp_uri):
    """Drops events that earlier test modules left in this service's (durable) queues."""
    from kombu import Connection

    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        for entrypoint in container.entrypoints:
            source, event_type = getattr(entrypoint, "source_service", None), getattr(entrypoint, "event_type", None)
            if not source:
                continue
            name = f"evt-{source}-{event_type}--{container.service_name}.{entrypoint.method_name}"
            try:
                channel.queue_purge(name)
            except Exception:  # noqa: BLE001 - the queue does not exist yet: nothing to purge
                channel = connection.channel()


@pytest.fixture
def mail_config(service_config, smtp_sink, notifications_database_url):
    """The service's config for tests: the test SMTP server, fast retries, strict templates."""
    return {
        **service_config,
        "DATABASE_URL": notifications_database_url,
        "EVENT_RETRY_DELAYS": [0.3, 1, 2, 3],
        "SMTP": {"HOST": "127.0.0.1", "PORT": smtp_sink.port, "SECURITY": "none", "TIMEOUT": 5},
        "MAIL": {
            "FROM": "Teashop Zürich <shop@teashop.example>",
            "REPLY_TO": "Support <help@teashop.example>",
            "SHOP_NAME": "Teashop Zürich",
            "FOOTER": "Teashop AG, Bahnhofstrasse 1, 8001 Zürich",
            "LEGAL": "CHE-123.456.789 MWST",
            "FALLBACK_LANGUAGE": "en",
            "TRIGGERS": "all",
            "MAX_ATTEMPTS": 30,
            "RETRY_BASE_SECONDS": 0.1,
            "RETRY_MAX_SECONDS": 0.4,
            "POLL_SECONDS": 0.1,
            "STRICT_TEMPLATES": True,
        },
    }


@pytest.fixture
def start_notifications(container_factory, mail_config, notifications_db):
    """Starts a NotificationsService; keyword arguments override MAIL settings.

    Mails that an earlier test left queued (its SMTP server is gone) are removed first: sent
    to this test's server they would be counted as this test's."""
    from sqlalchemy import delete

    from notifications.models import Mail

    with notifications_db.engine.begin() as connection:
        connection.execute(delete(Mail).where(Mail.status == "queued"))

    def start(**mail_overrides):
        config = {**mail_config, "MAIL": {**mail_config["MAIL"], **mail_overrides}}
        container = container_factory(NotificationsService, config)
        purge_event_queues(container, config["AMQP_URI"])
        container.start()
        return container

    return start


@pytest.fixture
def notifications(start_notifications):
    return start_notifications()


@pytest.fixture
def rpc(notifications):
    def call(method, *args, **kwargs):
        with entrypoint_hook(notifications, method) as entrypoint:
            return entrypoint(*args, **kwargs)

    return call


@pytest.fixture
def publish(mail_config):
    """Publishes an event as ``source`` (default: the orders service) would."""
    dispatchers = {}

    def dispatch(event_type, payload, source="orders"):
        if source not in dispatchers:
            dispatchers[source] = event_dispatcher(mail_config)
        payload = dict(payload)
        payload.setdefault("event_id", uuid.uuid4().hex)
        payload.setdefault("event_type", event_type)
        payload.setdefault("occurred_at", "2026-11-27T09:00:00+00:00")
        dispatchers[source](source, event_type, payload)
        return payload

    return dispatch


@pytest.fixture
def settle(amqp_vhost, notifications_db):
    """Waits until no further mail can reach SMTP: the notifications handlers' queues are empty
    (nothing waiting, in a handler or in a retry) and no mail is queued for sending soon (mails
    that other tests left leased far ahead are not this test's)."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from notifications.models import Mail
    from oms_common.db import utcnow

    def nothing_queued():
        soon = utcnow() + timedelta(seconds=5)
        with notifications_db.read_session() as session:
            return (
                session.execute(
                    select(func.count()).select_from(Mail).where(Mail.status == "queued", Mail.next_attempt_at <= soon)
                ).scalar()
                == 0
            )

    return lambda: drain(amqp_vhost, ("notifications",), nothing_queued)


@pytest.fixture(scope="session")
def notifications_db(notifications_database_url):
    engine = make_engine(
        resolve_database_url(notifications_database_url, "notifications"), schema="notifications", pool_size=6
    )
    yield SessionSource(engine, infrastructure)
    engine.dispose()


def order_payload(language="de", name="Anna Muster", email_address=None, reference=None, **overrides):
    """An order as the orders service's OrderSchema dumps it into its events."""
    reference = reference or str(uuid.uuid4().int % 10**9)
    email_address = email_address or f"buyer-{uuid.uuid4().hex[:10]}@example.com"
    first, _, last = name.partition(" ")
    address = samples.address(first_name=first, last_name=last)
    order = {
        "reference": reference,
        "invoice_number": f"RE-{reference}",
        "invoice_number_external": False,
        "status": "new",
        "payment_status": "unpaid",
        **samples.teapot_and_tea_totals(),
        "customer": {"id": 7, "email": email_address, "name": name},
        "language": language,
        "billing_address": address,
        "shipping_address": dict(address),
        "lines": samples.teapot_and_tea(),
        "session_id": None,
        "paused": False,
        "tracking_number": None,
        "created_at": "2026-11-27T08:00:00+00:00",
        "updated_at": "2026-11-27T08:00:00+00:00",
        "submitted_at": "2026-11-27T08:00:00+00:00",
        "version": 1,
    }
    order.update(overrides)
    return order


ACTOR = {"name": "alice", "kind": "user", "role": "admin", "origin": "gateway"}


def status_event(order, to_status, notify=True, reason=None, **extra):
    return {
        "order": dict(order, status=to_status),
        "actor": ACTOR,
        "from_status": order.get("status", "new"),
        "to_status": to_status,
        "notify": notify,
        "reason": reason,
        **extra,
    }


def dunning_event(order, level, notify=True, fee="0.00", dunning_fees="0.00", open_amount=None, **extra):
    """``payment_dunning_changed`` as payments announces it."""
    return {
        "order_reference": order["reference"],
        "level": level,
        "previous_level": level - 1,
        "notify": notify,
        "actor": ACTOR,
        "reason": None,
        "fee": fee,
        "dunning_fees": dunning_fees,
        "open_amount": open_amount or order["total"],
        "amount": order["total"],
        "received": "0.00",
        "currency": order.get("currency") or "CHF",
        "invoice_number": order.get("invoice_number"),
        "language": order.get("language"),
        "schema_version": 1,
        **extra,
    }
