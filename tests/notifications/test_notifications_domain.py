"""Unit tests of the notification rules and the header safety (no broker, no database)."""

from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest

from notifications import domain, mail_headers, settings

ALL = domain.parse_triggers("all")


def order(**overrides):
    data = {
        "reference": "100042",
        "total": "55.40",
        "currency": "CHF",
        "payment_method": "invoice",
        "language": "de",
        "customer": {"email": "anna@example.com", "name": "Anna Muster"},
    }
    data.update(overrides)
    return data


def test_triggers_parse_lists_aliases_and_refuse_unknown_names():
    assert domain.parse_triggers("all") == frozenset(domain.KINDS)
    assert domain.parse_triggers("") == frozenset(domain.KINDS)
    assert domain.parse_triggers("order_confirmation, dunning") == {"order_confirmation", "dunning_1", "dunning_2"}
    assert domain.parse_triggers("none") == frozenset()
    with pytest.raises(ValueError):
        domain.parse_triggers("order_confirmation,typo")


@pytest.mark.parametrize(
    "event_type, extra, kind",
    [
        ("order_submitted", {}, "order_confirmation"),
        ("order_created", {}, None),
        ("order_shipped", {"notify": True, "tracking_number": "TR-1"}, "shipping_confirmation"),
        ("order_shipped", {"notify": False}, None),
        ("order_cancelled", {"notify": True, "reason": "out of stock"}, "cancellation"),
        ("order_cancelled", {"notify": False}, None),
        # the reminders come from payments' payment_dunning_changed (with the open amount), not from here
        ("order_status_changed", {"notify": True, "to_status": "dunning_1"}, None),
        ("order_status_changed", {"notify": True, "to_status": "dunning_2"}, None),
        ("order_status_changed", {"notify": True, "to_status": "shipped"}, None),
        ("order_status_changed", {"notify": True, "to_status": "cancelled"}, None),
    ],
)
def test_which_order_event_asks_for_which_mail(event_type, extra, kind):
    request = domain.mail_for_order_event(event_type, {"order": order(), **extra}, ALL)
    assert (request.kind if request else None) == kind


def test_event_details_reach_the_mail_request():
    shipped = domain.mail_for_order_event(
        "order_shipped", {"order": order(), "notify": True, "tracking_number": "TR-9"}, ALL
    )
    assert shipped.extra["tracking_number"] == "TR-9"
    dunning = domain.mail_for_dunning_event(
        {"level": 2, "notify": True, "fee": "5.00", "dunning_fees": "5.00", "open_amount": "104.95", "amount": "99.95"},
        order(total="99.95"),
        ALL,
    )
    assert dunning.kind == "dunning_2"
    assert dunning.extra == {
        "level": 2,
        "open_amount": "104.95",
        "fee": "5.00",
        "dunning_fees": "5.00",
        "amount": "99.95",
        "received": None,
        "currency": "CHF",
    }


def test_a_reminder_once_per_level_only_when_asked_to_notify():
    event = {"level": 1, "notify": True, "open_amount": "10.00", "invoice_number": "R-9", "language": "it"}
    first = domain.mail_for_dunning_event(event, order(), ALL)
    assert (first.kind, first.order["invoice_number"], first.order["language"]) == ("dunning_1", "R-9", "it")
    assert domain.mail_for_dunning_event(event, order(), ALL, already_sent_kinds={"dunning_1"}) is None
    assert domain.mail_for_dunning_event(dict(event, level=2), order(), ALL, {"dunning_1"}).kind == "dunning_2"
    assert domain.mail_for_dunning_event(dict(event, notify=False), order(), ALL) is None
    assert domain.mail_for_dunning_event(dict(event, open_amount="0.00"), order(), ALL) is None  # paid meanwhile
    assert domain.mail_for_dunning_event(event, order(), domain.parse_triggers("dunning_2")) is None
    # an event written before the amounts: the order's total is what is open
    assert (
        domain.mail_for_dunning_event({"level": 1, "notify": True}, order(total="7.00"), ALL).extra["open_amount"]
        == "7.00"
    )


def test_switched_off_triggers_send_nothing():
    only = domain.parse_triggers("order_confirmation")
    assert domain.mail_for_order_event("order_shipped", {"order": order(), "notify": True}, only) is None
    assert domain.mail_for_order_event("order_submitted", {"order": order()}, only).kind == "order_confirmation"
    assert domain.mail_for_payment_event({"status": "paid"}, order(), only) is None


@pytest.mark.parametrize(
    "status, method, expected",
    [
        ("paid", "invoice", True),
        ("paid", "prepayment", True),
        ("paid", "card", False),
        ("paid", "paypal", False),
        ("announced", "invoice", False),
        ("refunded", "prepayment", False),
    ],
)
def test_payment_received_only_for_invoice_and_prepayment_when_paid(status, method, expected):
    request = domain.mail_for_payment_event(
        {"status": status, "payment_method": method, "amount": "55.40"}, order(payment_method=method), ALL
    )
    assert (request is not None) == expected


def test_payment_received_uses_the_local_copy_and_is_sent_once_per_order():
    request = domain.mail_for_payment_event({"status": "paid", "amount": "10.00", "currency": "EUR"}, order(), ALL)
    assert request.order["customer"]["email"] == "anna@example.com"
    assert request.extra == {"amount": "10.00", "currency": "EUR"}
    assert domain.mail_for_payment_event({"status": "paid"}, order(), ALL, {"payment_received"}) is None


def test_payment_facts_may_come_nested_as_the_payments_service_sends_them():
    event = {"status": "paid", "payment": {"method": "prepayment", "amount": "12.50", "currency": "EUR"}}
    request = domain.mail_for_payment_event(event, order(payment_method=None), ALL)
    assert request.extra == {"amount": "12.50", "currency": "EUR"}
    card = {"status": "paid", "payment": {"method": "card", "amount": "12.50", "currency": "EUR"}}
    assert domain.mail_for_payment_event(card, order(payment_method=None), ALL) is None
    assert not domain.wants_payment_mail(card, None, ALL)
    assert domain.wants_payment_mail({"status": "paid"}, None, ALL)  # method unknown until the order is known
    assert not domain.wants_payment_mail({"status": "announced"}, None, ALL)


def test_language_falls_back_to_the_configured_one():
    assert domain.choose_language("fr", "en") == "fr"
    assert domain.choose_language("IT", "en") == "it"
    assert domain.choose_language("xx", "de") == "de"
    assert domain.choose_language(None, "fr") == "fr"


@pytest.mark.parametrize(
    "raw, clean",
    [
        ('Müller "Ltd"\r\nBcc: x@y', 'Müller "Ltd" Bcc: x@y'),
        ("a\nb\rc\x00d\u2028e", "a b c d e"),
        ("  plenty   of\t\tspace ", "plenty of space"),
    ],
)
def test_header_text_has_no_line_breaks_or_control_characters(raw, clean):
    assert mail_headers.header_text(raw) == clean


@pytest.mark.parametrize(
    "address",
    [
        "anna@example.com\r\nBcc: x@y",
        "anna@example.com, eve@example.com",
        "Anna <anna@example.com>",
        "no-at-sign",
        "",
        "a@b\nc",
    ],
)
def test_recipient_must_be_one_plain_mailbox(address):
    with pytest.raises(mail_headers.NotificationError):
        mail_headers.recipient_address(address, "Anna")


def test_built_message_cannot_carry_injected_headers():
    mail = {
        "recipient": "anna@example.com",
        "recipient_name": 'Müller "Ltd"\r\nBcc: x@y',
        "subject": "Order 1\r\nBcc: evil@example.com",
        "body_text": "Hello",
        "body_html": "<p>Hello</p>",
        "event_id": "ev-1\r\nX-Evil: 1",
        "kind": "order_confirmation",
        "created_at": datetime(2026, 11, 27, 9, tzinfo=timezone.utc),
    }
    settings_ = domain.MailSettings(sender="Shop <shop@example.com>", reply_to="help@example.com")
    raw = bytes(domain.build_message(mail, settings_))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["anna@example.com"]
    assert parsed["To"].addresses[0].display_name == 'Müller "Ltd" Bcc: x@y'
    assert parsed["Subject"] == "Order 1 Bcc: evil@example.com"
    assert parsed["Message-ID"] == "<oms.ev-1X-Evil1@example.com>"
    assert parsed["Reply-To"].addresses[0].addr_spec == "help@example.com"
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hello</p>"


def test_message_id_is_stable_per_event():
    assert domain.message_id("abc", "dunning_1", "shop.ch") == domain.message_id("abc", "dunning_1", "shop.ch")
    assert domain.message_id("abc", "dunning_1", "shop.ch") != domain.message_id("abd", "dunning_1", "shop.ch")


def test_backoff_grows_exponentially_up_to_its_limit_then_fails():
    s = domain.MailSettings(max_attempts=5, retry_base_seconds=10, retry_max_seconds=60)
    assert [domain.retry_delay(n, 10, 60).total_seconds() for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert domain.after_failure(1, False, s) == ("queued", timedelta(seconds=10))
    assert domain.after_failure(5, False, s) == ("failed", None)
    assert domain.after_failure(1, True, s) == ("failed", None)


def test_settings_come_from_config_with_defaults():
    assert settings.mail_settings({}).fallback_language == "en"
    assert settings.smtp_settings({}).port == 1025
    assert settings.smtp_settings({"SMTP": {"SECURITY": "ssl"}}).port == 465
    configured = settings.mail_settings({"MAIL": {"TRIGGERS": False, "FOOTER": "a\\nb", "MAX_ATTEMPTS": "3"}})
    assert configured.triggers == frozenset() and configured.footer == "a\nb" and configured.max_attempts == 3
    with pytest.raises(ValueError):
        settings.smtp_settings({"SMTP": {"SECURITY": "tls13"}})
    with pytest.raises(ValueError):
        settings.mail_settings({"MAIL": {"FALLBACK_LANGUAGE": "es"}})


def test_only_the_confirmation_of_an_order_oms_invoices_waits_for_its_invoice_and_only_when_asked():
    on = domain.MailSettings(attach_invoice=True)
    numbered = order(invoice_number="2026-17")
    assert domain.waits_for_invoice(domain.ORDER_CONFIRMATION, numbered, on)
    assert not domain.waits_for_invoice(domain.ORDER_CONFIRMATION, numbered, domain.MailSettings())
    assert not domain.waits_for_invoice(domain.SHIPPING_CONFIRMATION, numbered, on)
    assert not domain.waits_for_invoice(domain.ORDER_CONFIRMATION, order(), on)
    external = order(invoice_number="ERP-9", invoice_number_external=True)
    assert not domain.waits_for_invoice(domain.ORDER_CONFIRMATION, external, on)


def test_the_invoice_file_name_is_in_the_customers_language_and_safe_as_a_header():
    assert domain.invoice_file_name("de", "2026-17") == "Rechnung-2026-17.pdf"
    assert domain.invoice_file_name("it", 5) == "Fattura-5.pdf"
    assert domain.invoice_file_name("xx", "7") == "Invoice-7.pdf"
    assert domain.invoice_file_name("fr", 'A/1\r\nBcc: x@y"') == "Facture-A-1-Bcc-x-y.pdf"


def test_a_mail_with_its_invoice_is_mixed_text_html_and_the_pdf_bytes_unchanged():
    pdf = b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF"
    mail = {
        "recipient": "anna@example.com",
        "subject": "Order 1",
        "body_text": "Hello",
        "body_html": "<p>Hello</p>",
        "event_id": "ev-2",
        "attachment_name": "Rechnung-17.pdf",
        "attachment_content": pdf,
    }
    parsed = message_from_bytes(bytes(domain.build_message(mail, domain.MailSettings())), policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hello</p>"
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Rechnung-17.pdf"
    assert attachment.get_content() == pdf
