"""The staff UI's four languages: every message and enum translated, dates and money per locale."""

import re
import string
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.ui.catalogs import CATALOGS, ENGLISH, MESSAGES
from gateway.ui.documents import TEXTS as DOCUMENT_TEXTS
from gateway.ui.i18n import (
    LANGUAGES,
    date_pattern,
    format_money,
    format_when,
    parse_date_input,
    shop_zone,
    translate_reason,
    translator,
)
from notifications.domain import KINDS
from oms_contracts.values import DOCUMENT_KINDS, ORDER_STATUSES, PAYMENT_METHODS, PAYMENT_STATUSES, ROLES
from payments.domain import PROVIDERS
from tests.support.suite import REPO

UI = REPO / "gateway" / "gateway" / "ui"
# t("literal") / t('literal') in templates and views; a literal is what a catalog must hold
LITERAL = re.compile(r"""\bt\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+|'(?:[^'\\]|\\.)*')""")
ENUMS = (
    set(ORDER_STATUSES)
    | set(PAYMENT_STATUSES)
    | set(PAYMENT_METHODS)
    | set(KINDS)
    | set(ROLES)
    | set(PROVIDERS)
    | {"orders", "customers", "running", "succeeded", "failed", "sent", "queued"}
    | {
        "created",
        "status_changed",
        "submitted",
        "lines_replaced",
        "paused",
        "assigned",
        "invoice_number_set",
        "payment_status_changed",
        "payment_status_stale",
        "customer_reassigned",
        "customer_merged",
        "email_sent",
        "email_queued",
        "email_failed",
        "note",
    }
)


def literals():
    found = set()
    files = list((UI / "templates").glob("*.html")) + sorted(UI.glob("*.py"))
    for path in files:
        text = path.read_text()
        for literal in LITERAL.findall(text):  # adjacent literals are one message, as Python joins them
            found.add(
                "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', literal))
                if literal.startswith('"')
                else literal[1:-1].replace("\\'", "'")
            )
    # the views hand whole messages to t() through a conditional: "a" if mailed else "b"
    for path in sorted(UI.glob("*.py")):
        found.update(re.findall(r'"((?:Order|Payment status|Refund) [^"]*\{reference\}[^"]*)"', path.read_text()))
    return found


def placeholders(text):
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_of_templates_and_views_is_in_every_language():
    missing = sorted(message for message in literals() if message not in MESSAGES)
    assert missing == []
    assert len(literals()) > 150  # the scan found the UI's messages at all


@pytest.mark.parametrize("value", sorted(ENUMS))
def test_every_enum_value_has_a_word_in_every_language(value):
    assert value in MESSAGES, value
    assert all(MESSAGES[value]), value
    if "_" in value:  # never shown to English staff as an identifier either
        assert "_" not in ENGLISH.get(value, value)


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_every_document_kind_has_a_name_in_every_language(kind):
    names = [DOCUMENT_TEXTS[language].get(kind) for language in LANGUAGES]
    assert all(names), (kind, names)
    assert len(set(names)) == len(names), f"{kind} reads the same in two languages: {names}"


def test_every_problem_title_has_a_word_in_every_language():
    from gateway.router import MethodNotAllowedProblem
    from oms_common import problems

    titles = {
        cls.title for cls in vars(problems).values() if isinstance(cls, type) and issubclass(cls, problems.Problem)
    }
    titles.add(MethodNotAllowedProblem.title)
    assert sorted(title for title in titles if title not in MESSAGES) == []


def test_every_row_has_three_translations_with_the_same_placeholders():
    for key, row in MESSAGES.items():
        assert len(row) == 3 and all(text.strip() for text in row), key
        for text in row:
            assert placeholders(text) == placeholders(key), (key, text)
    assert set(LANGUAGES) == set(CATALOGS) == {"de", "fr", "it", "en"}


def test_german_von_bis_and_filled_messages():
    de, fr, it = (translator(language) for language in ("de", "fr", "it"))
    assert (de("From"), de("To")) == ("Von", "Bis")
    assert (
        fr("Cancel order {reference} and e-mail {email}?", reference="100021", email="anna@example.ch")
        == "Annuler la commande 100021 et écrire à anna@example.ch ?"
    )
    assert translate_reason("Dunning level 1.", it) == "Sollecito di livello 1."
    assert translate_reason("Customer asked by phone.", it) == "Customer asked by phone."


def test_times_are_in_the_shop_zone_with_four_digit_years():
    winter = datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)  # already 1 January in Zurich
    zurich = ZoneInfo("Europe/Zurich")
    assert format_when(winter, "de", zurich) == "01.01.2027 00:30"
    assert format_when(winter.isoformat(), "fr", zurich) == "01.01.2027 00:30"
    assert format_when(winter, "it", zurich) == "01/01/2027 00:30"
    assert format_when(winter, "en", ZoneInfo("America/New_York")) == "31.12.2026 18:30"
    assert shop_zone({}).key == "Europe/Zurich"
    assert shop_zone({"SHOP_TIMEZONE": "Asia/Tokyo"}).key == "Asia/Tokyo"
    assert shop_zone({"SHOP_TIMEZONE": "Mars/Olympus"}).key == "Europe/Zurich"


def test_money_per_locale():
    nbsp = "\u00a0"  # Babel keeps amount and currency together
    assert format_money("1234.50", "CHF", "de") == f"CHF{nbsp}1'234.50"
    assert format_money("24.90", "CHF", "en") == f"CHF{nbsp}24.90"  # not CHF24.90
    assert format_money("24.90", "CHF", "fr") == f"24,90{nbsp}CHF"
    assert format_money("24.90", "EUR", "it") == f"€{nbsp}24.90"


def test_dates_are_typed_in_the_locale_order():
    assert [date_pattern(language) for language in ("de", "fr", "it", "en")] == [
        "TT.MM.JJJJ",
        "JJ.MM.AAAA",
        "GG/MM/AAAA",
        "DD.MM.YYYY",
    ]
    assert parse_date_input("31.12.2026", "de") == "2026-12-31"
    assert parse_date_input("31/12/2026", "it") == "2026-12-31"
    assert parse_date_input("2026-12-31", "fr") == "2026-12-31"
    for wrong in ("12/31/2026", "31.12.26", "32.12.2026", "soon", ""):
        assert parse_date_input(wrong, "de") is None, wrong
