"""The sender on its own: claiming with a lease, the crash window, several replicas."""

import threading
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from notifications import delivery, handlers, settings, smtp
from notifications.models import Mail
from notifications.rendering import Renderer
from oms_common.db import utcnow

from .conftest import order_payload, status_event


@pytest.fixture
def mail_api(mail_config):
    return SimpleNamespace(
        settings=settings.mail_settings(mail_config), renderer=Renderer(strict=True), wake=lambda: None
    )


@pytest.fixture
def transport(mail_config):
    return smtp.SmtpTransport(settings.smtp_settings(mail_config))


def queue(db, mail_api, count=1, language="de"):
    order = order_payload(language=language)
    for _ in range(count):
        event = {
            "event_id": uuid.uuid4().hex,
            "occurred_at": "2026-11-27T09:00:00+00:00",
            **status_event(order, "shipped"),
        }
        assert handlers.handle_order_event(db, mail_api, "order_shipped", event) == "shipping_confirmation"
    return order


def rows_of(db, reference):
    with db.read_session() as session:
        return session.execute(select(Mail).where(Mail.order_reference == reference)).scalars().all()


def test_killed_between_send_and_bookkeeping_resends_once_with_the_same_message_id(
    notifications_db, mail_api, transport, smtp_sink, monkeypatch
):
    order = queue(notifications_db, mail_api)

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt("killed after the SMTP server accepted the message")

    with monkeypatch.context() as patch:
        patch.setattr(delivery, "record_sent", crash)
        with pytest.raises(KeyboardInterrupt):
            delivery.deliver_due(notifications_db, transport, mail_api.settings, lease=timedelta(seconds=60))
    assert len(smtp_sink.messages()) == 1
    (row,) = rows_of(notifications_db, order["reference"])
    assert row.status == "queued" and row.attempts == 1  # not lost: still owed, leased for 60 s

    # within the lease nobody touches it
    assert delivery.deliver_due(notifications_db, transport, mail_api.settings).claimed == 0
    # the lease runs out (as if 60 s had passed): it is sent again, recognisably the same mail
    with notifications_db.unit_of_work() as uow:
        uow.session.execute(update(Mail).where(Mail.id == row.id).values(next_attempt_at=utcnow()))
        uow.commit()
    report = delivery.deliver_due(notifications_db, transport, mail_api.settings)
    assert (report.claimed, report.sent) == (1, 1)
    first, second = [m for m, _e in smtp_sink.messages()]
    assert first["Message-ID"].strip() == second["Message-ID"].strip() == row.message_id
    assert first["X-OMS-Event-ID"] == second["X-OMS-Event-ID"] == row.event_id
    (row,) = rows_of(notifications_db, order["reference"])
    assert row.status == "sent" and row.attempts == 2
    assert delivery.deliver_due(notifications_db, transport, mail_api.settings).claimed == 0


def test_a_claimed_mail_is_not_claimed_again_by_another_sender(notifications_db, mail_api):
    order = queue(notifications_db, mail_api, count=3)
    first = delivery.claim_due(notifications_db, 2, timedelta(minutes=5))
    second = delivery.claim_due(notifications_db, 10, timedelta(minutes=5))
    mine = {
        m["id"]
        for m in first + second
        if m["event_id"] in {r.event_id for r in rows_of(notifications_db, order["reference"])}
    }
    assert len(mine) == 3
    assert not {m["id"] for m in first} & {m["id"] for m in second}


def test_concurrent_senders_send_every_mail_exactly_once(notifications_db, mail_api, transport, smtp_sink):
    order = queue(notifications_db, mail_api, count=30, language="en")
    reports = []

    def sender():
        while True:
            report = delivery.deliver_due(notifications_db, transport, mail_api.settings, batch_size=4)
            reports.append(report)
            if report.claimed == 0:
                return

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.sent for r in reports) == 30
    received = [m["X-OMS-Event-ID"] for m, _e in smtp_sink.messages()]
    assert len(received) == len(set(received)) == 30
    assert {r.status for r in rows_of(notifications_db, order["reference"])} == {"sent"}


def test_smtp_login_and_starttls_settings_are_used(mail_config, smtp_sink):
    """The sink offers neither STARTTLS nor AUTH: asking for them must fail loudly, not send."""
    import smtplib

    for asked in ({"SECURITY": "starttls"}, {"USER": "shop", "PASSWORD": "secret"}):
        config = {**mail_config, "SMTP": {**mail_config["SMTP"], **asked}}
        with pytest.raises(smtplib.SMTPException):
            smtp.SmtpTransport(settings.smtp_settings(config)).connect()


def test_a_stopping_sender_finishes_the_mail_in_flight_and_releases_the_rest(
    notifications_db, mail_api, transport, smtp_sink
):
    order = queue(notifications_db, mail_api, count=3, language="it")
    answers = iter([True, False])
    report = delivery.deliver_due(
        notifications_db,
        transport,
        mail_api.settings,
        batch_size=10,
        lease=timedelta(minutes=30),
        keep_going=lambda: next(answers),
    )
    assert (report.claimed, report.sent) == (3, 1)
    rows = rows_of(notifications_db, order["reference"])
    assert sorted((r.status, r.attempts) for r in rows) == [("queued", 0), ("queued", 0), ("sent", 1)]
    # released, not leased for 30 minutes: the next round sends them
    assert delivery.deliver_due(notifications_db, transport, mail_api.settings).sent == 2
    assert len(smtp_sink.messages()) == 3


def test_lanes_send_at_once_over_kept_connections_and_replace_dropped_ones(
    notifications_db, mail_api, transport, smtp_sink, monkeypatch
):
    opened = []
    connect = transport.connect

    def counted_connect():
        opened.append(True)
        return connect()

    monkeypatch.setattr(transport, "connect", counted_connect)
    first = queue(notifications_db, mail_api, count=8, language="en")
    report = delivery.deliver_due(notifications_db, transport, mail_api.settings, batch_size=8, parallel=4)
    assert (report.claimed, report.sent, len(opened)) == (8, 8, 4)  # four lanes, a connection each

    second = queue(notifications_db, mail_api, count=8, language="fr")
    report = delivery.deliver_due(notifications_db, transport, mail_api.settings, batch_size=8, parallel=4)
    assert (report.sent, len(opened)) == (8, 4)  # the next round reused the kept connections

    # the server restarts: each kept connection fails at its first command and is replaced,
    # before the mail is handed over; nothing is retried later, lost or sent twice
    smtp_sink.stop()
    smtp_sink.start()
    third = queue(notifications_db, mail_api, count=8, language="de")
    report = delivery.deliver_due(notifications_db, transport, mail_api.settings, batch_size=8, parallel=4)
    assert (report.sent, report.retried, report.failed, len(opened)) == (8, 0, 0, 8)

    received = [m["X-OMS-Event-ID"] for m, _e in smtp_sink.messages()]
    assert len(received) == len(set(received)) == 24
    for order in (first, second, third):
        assert {(r.status, r.attempts) for r in rows_of(notifications_db, order["reference"])} == {("sent", 1)}
    assert delivery.deliver_due(notifications_db, transport, mail_api.settings, parallel=4).claimed == 0
    transport.close_idle()
