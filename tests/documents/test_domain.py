"""The documents' rules without a database: who gets a QR-bill, numbers, what reaches the PDF."""

import pytest

from documents import domain, qr, rendering

from .conftest import IBAN, QR_IBAN


@pytest.mark.parametrize(
    "method, currency, profile, expected",
    [
        ("invoice", "CHF", {"qr_iban": QR_IBAN, "iban": IBAN}, (QR_IBAN, True)),
        ("prepayment", "EUR", {"iban": IBAN}, (IBAN, False)),
        ("invoice", "USD", {"qr_iban": QR_IBAN}, None),
        ("card", "CHF", {"qr_iban": QR_IBAN}, None),
        ("paypal", "CHF", {"iban": IBAN}, None),
        ("invoice", "EUR", {"iban": "DE89370400440532013000"}, None),  # not a Swiss account
    ],
)
def test_who_gets_a_qr_bill(method, currency, profile, expected):
    assert domain.qr_bill_account(profile, method, currency) == expected


def test_nothing_to_pay_or_too_much_for_the_guidelines_gets_no_qr_bill():
    profile = {"qr_iban": QR_IBAN}
    assert domain.qr_bill_account(profile, "invoice", "CHF", "0.00") is None
    assert domain.qr_bill_account(profile, "invoice", "CHF", "1000000000.00") is None
    assert domain.qr_bill_account(profile, "invoice", "CHF", "999999999.99") == (QR_IBAN, True)


def test_credit_note_numbers_follow_each_other():
    assert domain.next_number("CN-", 0) == ("CN-1", 1)
    assert domain.next_number("CN-", 41) == ("CN-42", 42)


def test_text_the_qr_bill_cannot_carry_is_transliterated():
    assert qr.latin_text("Łódź € Zürich ☃") == "Lódz € Zürich ?"  # ó is Windows-1252, Ł and ź are not


def test_template_values_cannot_make_lines_of_their_own():
    assert rendering._finalize("a|b\nTOTAL|0\u202e") == "a/b TOTAL/0"


def test_the_staff_pages_words_are_in_every_language():
    import re

    from gateway.ui.documents import TEXTS
    from tests.support.suite import REPO

    used = set()
    for name in ("documents_panel.html", "shop_profile.html"):
        used |= set(re.findall(r'dt\("([^"]+)"\)', (REPO / "gateway/gateway/ui/templates" / name).read_text()))
    used |= {
        "invoice",
        "credit_note",
        "reminder",
        "Street",
        "House number",
        "Postal code",
        "City",
        "Country",
        "E-mail",
        "Phone",
        "Website",
    }  # given to dt() through a loop or a document's kind
    for language in ("de", "fr", "it"):
        assert used - set(TEXTS[language]) == set(), language
