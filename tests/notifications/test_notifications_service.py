"""The NotificationsService against a real RabbitMQ, PostgreSQL and SMTP server (aiosmtpd)."""

import time

import pytest
from nameko.testing.services import entrypoint_waiter
from sqlalchemy import select

from notifications.handlers import OrderNotKnownYet
from notifications.models import Mail

from .conftest import ACTOR, dunning_event, order_payload, status_event, wait_for
from .test_notifications_templates import SUBJECTS

LANGUAGES = ("de", "fr", "it", "en")


def mail_rows(db, reference):
    with db.read_session() as session:
        return session.execute(select(Mail).where(Mail.order_reference == reference).order_by(Mail.id)).scalars().all()


def wait_sent(db, reference, count, timeout=15):
    return wait_for(
        lambda: (
            (rows := mail_rows(db, reference))
            and len(rows) >= count
            and all(r.status != "queued" for r in rows)
            and rows
        ),
        timeout,
        message=f"{count} mail(s) of order {reference} settled",
    )


def test_each_trigger_in_each_language_reaches_smtp_with_the_right_subject(
    notifications, publish, smtp_sink, notifications_db, settle
):
    expected = {}
    for language in LANGUAGES:
        order = order_payload(
            language=language, reference=f"7{LANGUAGES.index(language)}{int(time.time() * 1000) % 10**7}"
        )
        publish("order_created", {"order": order, "actor": ACTOR})
        events = [
            ("order_submitted", {"order": order, "actor": ACTOR}, "order_confirmation"),
            ("order_shipped", status_event(order, "shipped", tracking_number="TR-1"), "shipping_confirmation"),
            ("order_cancelled", status_event(order, "cancelled", reason="Out of stock"), "cancellation"),
            # the order's dunning status itself asks for no mail: the reminder comes from payments
            ("order_status_changed", status_event(order, "dunning_1"), None),
        ]
        for event_type, payload, kind in events:
            sent = publish(event_type, payload)
            if kind:
                expected[sent["event_id"]] = (kind, language, order)
        for level in (1, 2):
            sent = publish("payment_dunning_changed", dunning_event(order, level), source="payments")
            expected[sent["event_id"]] = (f"dunning_{level}", language, order)
        paid = publish(
            "payment_status_changed",
            {
                "order_reference": order["reference"],
                "status": "paid",
                "sequence": 3,
                "payment_method": "invoice",
                "amount": "55.40",
                "currency": "CHF",
            },
            source="payments",
        )
        expected[paid["event_id"]] = ("payment_received", language, order)

    messages = smtp_sink.wait_for_count(len(expected), timeout=30)
    settle()
    messages = smtp_sink.messages()
    assert len(messages) == len(expected) == 24
    for message, envelope in messages:
        kind, language, order = expected[message["X-OMS-Event-ID"]]
        reference = order["reference"]
        assert message["Subject"] == SUBJECTS[kind, language].replace("100042", reference).replace(
            "Teashop", "Teashop Zürich"
        )
        assert envelope["rcpt_tos"] == [order["customer"]["email"]]
        assert envelope["mail_from"] == "shop@teashop.example"
        assert message["From"].addresses[0].display_name == "Teashop Zürich"
        assert message["Reply-To"].addresses[0].addr_spec == "help@teashop.example"
        text = message.get_body(("plain",)).get_content()
        assert reference in text and "Anna Muster" in text and "Teashop AG, Bahnhofstrasse 1" in text
        html_part = message.get_body(("html",)).get_content()
        assert f'<html lang="{language}">' in html_part
    # the order confirmation carries the lines; the dunning mail the open amount
    for message, _envelope in messages:
        kind, language, _order = expected[message["X-OMS-Event-ID"]]
        text = message.get_body(("plain",)).get_content()
        if kind == "order_confirmation":
            assert "Teapot" in text and "Green tea" in text
        if kind in ("dunning_1", "dunning_2"):
            assert ("55.40" in text) or ("55,40" in text)


def test_shipping_without_notify_and_plain_status_changes_send_nothing(
    notifications, publish, smtp_sink, notifications_db, settle
):
    order = order_payload(language="de")
    with entrypoint_waiter(notifications, "on_order_shipped"):
        publish("order_shipped", status_event(order, "shipped", notify=False))
    with entrypoint_waiter(notifications, "on_order_status_changed"):
        publish("order_status_changed", status_event(order, "in_progress", notify=True))
    with entrypoint_waiter(notifications, "on_order_cancelled"):
        publish("order_cancelled", status_event(order, "cancelled", notify=False))
    settle()
    assert smtp_sink.messages() == []
    assert mail_rows(notifications_db, order["reference"]) == []


def test_a_redelivered_event_sends_nothing_new(notifications, publish, smtp_sink, notifications_db, settle):
    order = order_payload(language="fr")
    first = publish("order_shipped", status_event(order, "shipped", tracking_number="TR-42"))
    smtp_sink.wait_for_count(1)
    for _ in range(2):  # the same event again, as a broker redelivery or an outbox relay replay would
        with entrypoint_waiter(notifications, "on_order_shipped"):
            publish("order_shipped", dict(first))
    settle()
    assert len(smtp_sink.messages()) == 1
    message = smtp_sink.messages()[0][0]
    assert message["Subject"] == f"Votre commande {order['reference']} a été expédiée"
    assert "Numéro de suivi : TR-42" in message.get_body(("plain",)).get_content()
    rows = mail_rows(notifications_db, order["reference"])
    assert [(r.kind, r.status, r.attempts) for r in rows] == [("shipping_confirmation", "sent", 1)]


def test_smtp_down_for_a_while_then_up_every_mail_arrives_exactly_once(
    notifications, publish, smtp_sink, notifications_db, settle
):
    smtp_sink.stop()
    orders = [order_payload(language=language) for language in LANGUAGES]
    event_ids = set()
    for order in orders:
        event_ids.add(publish("order_submitted", {"order": order, "actor": ACTOR})["event_id"])
        event_ids.add(publish("order_shipped", status_event(order, "shipped"))["event_id"])

    def retried_while_down():
        rows = [row for order in orders for row in mail_rows(notifications_db, order["reference"])]
        return len(rows) == 8 and all(r.attempts >= 2 and r.status == "queued" and r.last_error for r in rows)

    wait_for(retried_while_down, timeout=20, message="every mail tried at least twice while SMTP is down")
    smtp_sink.start()
    smtp_sink.wait_for_count(8, timeout=20)
    settle()
    received = [message["X-OMS-Event-ID"] for message, _e in smtp_sink.messages()]
    assert sorted(received) == sorted(event_ids)
    assert len({message["Message-ID"] for message, _e in smtp_sink.messages()}) == 8
    for order in orders:
        rows = mail_rows(notifications_db, order["reference"])
        assert {r.status for r in rows} == {"sent"}
        assert all(r.sent_at and r.attempts >= 3 for r in rows)


def test_header_and_html_injection_are_neutralised(notifications, publish, smtp_sink, notifications_db, settle):
    nasty = 'Müller "Ltd"\r\nBcc: x@y'
    order = order_payload(language="de", name=nasty)
    order["lines"][0]["name"] = '<img src=x onerror="alert(1)">'
    scripted = order_payload(language="en", name="<script>alert(1)</script>")
    scripted["shipping_address"]["company"] = "</p><a href='http://evil'>click</a>"
    first = publish("order_submitted", {"order": order, "actor": ACTOR})
    second = publish("order_shipped", status_event(scripted, "shipped", tracking_number="<b>TR</b>"))
    smtp_sink.wait_for_count(2)
    settle()
    assert len(smtp_sink.messages()) == 2

    (message,) = smtp_sink.for_event(first["event_id"])
    envelope = next(e for m, e in smtp_sink.messages() if m["X-OMS-Event-ID"] == first["event_id"])
    assert envelope["rcpt_tos"] == [order["customer"]["email"]]
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == [order["customer"]["email"]]
    assert message["To"].addresses[0].display_name == 'Müller "Ltd" Bcc: x@y'
    text = message.get_body(("plain",)).get_content()
    assert 'Guten Tag Müller "Ltd" Bcc: x@y,' in text
    body = message.get_body(("html",)).get_content()
    assert "<img" not in body and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in body
    assert "Guten Tag Müller &#34;Ltd&#34; Bcc: x@y," in body

    (message,) = smtp_sink.for_event(second["event_id"])
    body = message.get_body(("html",)).get_content()
    assert "<script" not in body and "<a href='http://evil'" not in body and "<b>TR" not in body
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in body


def test_an_unusable_address_is_a_visible_failure_and_nothing_is_sent(notifications, publish, smtp_sink, rpc, settle):
    order = order_payload(language="it", email_address="anna@example.com\r\nBcc: x@y")
    event = publish("order_submitted", {"order": order, "actor": ACTOR})
    failed = wait_for(
        lambda: [m for m in rpc("failed_mails") if m["event_id"] == event["event_id"]],
        message="the failed mail to be listed",
    )
    assert failed[0]["status"] == "failed" and "Not a usable e-mail address" in failed[0]["error"]
    settle()
    assert smtp_sink.messages() == []


def test_a_refused_mail_finally_fails_visibly_and_can_be_retried(notifications, publish, smtp_sink, rpc):
    order = order_payload(language="en", email_address="reject-me@example.com")
    event = publish("order_submitted", {"order": order, "actor": ACTOR})
    log = wait_for(
        lambda: [m for m in rpc("mails_for_order", order["reference"]) if m["status"] == "failed"],
        message="the refused mail to fail",
    )
    assert log[0]["kind"] == "order_confirmation" and log[0]["attempts"] == 1
    assert "550" in log[0]["error"]
    assert event["event_id"] in {m["event_id"] for m in rpc("failed_mails")}
    assert rpc("retry_mail", event["event_id"])["status"] == "queued"
    wait_for(
        lambda: (
            rpc("mails_for_order", order["reference"])[0]["attempts"] == 1
            and rpc("mails_for_order", order["reference"])[0]["status"] == "failed"
        ),
        message="the retry to fail again",
    )
    assert smtp_sink.messages() == []


def test_the_mail_log_per_order(notifications, publish, smtp_sink, rpc):
    order = order_payload(language="de")
    submitted = publish("order_submitted", {"order": order, "actor": ACTOR})
    shipped = publish("order_shipped", status_event(order, "shipped"))
    smtp_sink.wait_for_count(2)
    log = wait_for(
        lambda: (
            (entries := rpc("mails_for_order", order["reference"]))
            and len(entries) == 2
            and all(e["status"] == "sent" for e in entries)
            and entries
        ),
        message="two sent mails in the log",
    )
    assert {e["event_id"] for e in log} == {submitted["event_id"], shipped["event_id"]}
    for entry in log:
        assert set(entry) >= {
            "kind",
            "recipient",
            "subject",
            "status",
            "created_at",
            "sent_at",
            "attempts",
            "error",
            "event_id",
        }
        assert entry["recipient"] == order["customer"]["email"] and entry["error"] is None
        assert entry["sent_at"] >= entry["created_at"]
    assert sorted(e["kind"] for e in log) == ["order_confirmation", "shipping_confirmation"]
    assert rpc("mails_for_order", "no-such-order") == []


def test_payment_received_uses_the_remembered_order_even_when_its_event_comes_late(
    notifications, publish, smtp_sink, rpc, settle
):
    order = order_payload(language="it", payment_method="prepayment")
    with entrypoint_waiter(notifications, "on_payment_status_changed") as result:
        # shaped as the payments service sends it: method and amount inside "payment"
        paid = publish(
            "payment_status_changed",
            {
                "order_reference": order["reference"],
                "status": "paid",
                "previous_status": "unpaid",
                "sequence": 2,
                "actor": ACTOR,
                "reason": None,
                "payment": {
                    "order_reference": order["reference"],
                    "method": "prepayment",
                    "provider": "manual",
                    "status": "paid",
                    "currency": "CHF",
                    "amount": "55.40",
                    "captured_amount": "55.40",
                },
            },
            source="payments",
        )
    with pytest.raises(OrderNotKnownYet):  # not yet: the handler is retried with backoff
        result.get()
    publish("order_created", {"order": order, "actor": ACTOR})  # arrives after the payment event
    smtp_sink.wait_for_count(1, timeout=20)
    settle()
    ((message, envelope),) = smtp_sink.messages()
    assert message["X-OMS-Event-ID"] == paid["event_id"]
    assert message["Subject"] == f"Pagamento ricevuto per l'ordine {order['reference']}"
    assert envelope["rcpt_tos"] == [order["customer"]["email"]]
    assert "abbiamo ricevuto il suo pagamento di CHF\xa055.40" in message.get_body(("plain",)).get_content()
    # a card payment, and a second 'paid' for the same order, send nothing
    card = order_payload(language="de", payment_method="card")
    publish("order_created", {"order": card, "actor": ACTOR})
    with entrypoint_waiter(notifications, "on_payment_status_changed"):
        publish(
            "payment_status_changed",
            {
                "order_reference": card["reference"],
                "status": "paid",
                "sequence": 2,
                "payment_method": "card",
                "amount": "55.40",
            },
            source="payments",
        )
    with entrypoint_waiter(notifications, "on_payment_status_changed"):
        publish(
            "payment_status_changed",
            {"order_reference": order["reference"], "status": "paid", "sequence": 4, "amount": "55.40"},
            source="payments",
        )
    settle()
    assert len(smtp_sink.messages()) == 1


def test_triggers_and_fallback_language_are_configurable(start_notifications, publish, smtp_sink, settle):
    container = start_notifications(TRIGGERS="order_confirmation", FALLBACK_LANGUAGE="fr")
    order = order_payload(language="es")
    with entrypoint_waiter(container, "on_order_shipped"):
        publish("order_shipped", status_event(order, "shipped"))
    submitted = publish("order_submitted", {"order": order, "actor": ACTOR})
    smtp_sink.wait_for_count(1)
    settle()
    ((message, _envelope),) = smtp_sink.messages()
    assert message["X-OMS-Event-ID"] == submitted["event_id"]
    assert message["Subject"] == f"Confirmation de commande {order['reference']} – Teashop Zürich"


def test_ping(rpc):
    assert rpc("ping") == {"service": "notifications", "status": "ok", "database": "ok"}


def test_the_order_copy_follows_the_newest_order_event(notifications, publish, smtp_sink, settle):
    order = order_payload(language="de", email_address="first@example.com")
    moved = dict(order, language="en", customer={"id": 8, "email": "second@example.com", "name": "Ben Neu"})
    stale = dict(order, customer={"id": 9, "email": "stale@example.com", "name": "Old"})
    with entrypoint_waiter(notifications, "on_order_created"):
        publish("order_created", {"order": order, "actor": ACTOR, "occurred_at": "2026-11-27T09:00:00+00:00"})
    with entrypoint_waiter(notifications, "on_order_updated"):  # a newer version of the order
        publish("order_updated", {"order": moved, "actor": ACTOR, "occurred_at": "2026-11-27T10:00:00+00:00"})
    with entrypoint_waiter(notifications, "on_order_updated"):  # an older event, late: ignored
        publish("order_updated", {"order": stale, "actor": ACTOR, "occurred_at": "2026-11-27T09:30:00+00:00"})
    publish(
        "payment_status_changed",
        {
            "order_reference": order["reference"],
            "status": "paid",
            "sequence": 5,
            "payment": {"method": "invoice", "amount": "55.40", "currency": "CHF"},
        },
        source="payments",
    )
    smtp_sink.wait_for_count(1)
    settle()
    ((message, envelope),) = smtp_sink.messages()
    assert envelope["rcpt_tos"] == ["second@example.com"]
    assert message["Subject"] == f"Payment received for order {order['reference']}"
    assert "Hello Ben Neu," in message.get_body(("plain",)).get_content()


def test_rpc_input_is_checked(rpc):
    from oms_common.problems import NotFound, ValidationFailed

    with pytest.raises(ValidationFailed):
        rpc("mails_for_order", "")
    with pytest.raises(NotFound):
        rpc("retry_mail", "no-such-event")


def test_a_reminder_carries_fee_and_open_amount_once_even_when_its_event_comes_again(
    notifications, publish, smtp_sink, notifications_db, settle
):
    order = order_payload(language="de")
    publish("order_created", {"order": order, "actor": ACTOR})
    with entrypoint_waiter(notifications, "on_order_status_changed"):
        publish("order_status_changed", status_event(order, "dunning_2"))  # the order's status: no mail
    event = dunning_event(order, 2, fee="7.50", dunning_fees="10.50", open_amount="65.90")
    first = publish("payment_dunning_changed", event, source="payments")
    smtp_sink.wait_for_count(1)
    with entrypoint_waiter(notifications, "on_payment_dunning_changed"):
        publish("payment_dunning_changed", dict(first), source="payments")  # redelivered
    with entrypoint_waiter(notifications, "on_payment_dunning_changed"):
        publish("payment_dunning_changed", dict(event), source="payments")  # another event of the same level
    settle()

    messages = [m for m, _e in smtp_sink.messages() if m["X-OMS-Event-ID"] == first["event_id"]]
    assert len(smtp_sink.messages()) == 1 and len(messages) == 1
    text = messages[0].get_body(("plain",)).get_content()
    assert text.count("Offener Betrag: CHF\xa065.90") == 1
    assert text.count("Mahngebühren: CHF\xa010.50") == 1
    assert text.count("Rechnungsbetrag: CHF\xa055.40") == 1
    assert f"Rechnungsnummer: RE-{order['reference']}" in text
    rows = mail_rows(notifications_db, order["reference"])
    assert [(r.kind, r.event_type, r.status) for r in rows] == [("dunning_2", "payment_dunning_changed", "sent")]


def test_a_reminder_waits_for_the_order_to_be_known(notifications, publish, smtp_sink, notifications_db, settle):
    order = order_payload(language="en")
    with entrypoint_waiter(notifications, "on_payment_dunning_changed") as result:
        publish("payment_dunning_changed", dunning_event(order, 1, open_amount="55.40"), source="payments")
    with pytest.raises(OrderNotKnownYet):  # not yet: the handler is retried with backoff
        result.get()
    assert mail_rows(notifications_db, order["reference"]) == []
    publish("order_created", {"order": order, "actor": ACTOR})
    smtp_sink.wait_for_count(1, timeout=30)
    settle()
    [(message, _envelope)] = smtp_sink.messages()
    assert "Amount due: CHF\xa055.40" in message.get_body(("plain",)).get_content()
