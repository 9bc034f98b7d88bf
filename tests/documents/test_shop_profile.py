"""The shop profile over HTTP: admin only, every value checked, nothing stored on a refusal."""

import base64

import pytest

from .conftest import IBAN, QR_IBAN, VALID_CH_VAT, png_bytes, shop_profile

PATH = "/api/v1/settings/shop-profile"


def test_admin_sets_and_reads_the_profile_with_normalised_numbers(admin, profile_set):
    stored = profile_set(vat_number="che109322551mwst", iban="CH93 0076 2011 6238 5295 7")
    assert stored["vat_number"] == VALID_CH_VAT
    assert stored["iban"] == IBAN and stored["qr_iban"] == QR_IBAN
    read = admin.get(PATH).json()
    assert read["legal_name"] == "Teehaus Zürich AG"
    assert read["address"]["city"] == "Zürich" and read["address"]["country"] == "CH"
    assert read["footer"]["it"] == "Pagabile entro 30 giorni."
    assert read["logo"]["content_type"] == "image/png" and base64.b64decode(read["logo"]["data"]) == png_bytes()
    assert read["version"] == stored["version"] and read["updated_by"] == "admin"


def test_contact_details_may_stay_empty(profile_set):
    assert profile_set(contact={"email": "", "phone": "", "website": ""})["contact"]["email"] == ""


def test_a_german_vat_number_is_accepted(profile_set):
    assert (
        profile_set(vat_number="DE 136 695 976", iban="DE89370400440532013000", qr_iban=None)["vat_number"]
        == "DE136695976"
    )


@pytest.mark.parametrize("role", ["agent", "accountant", "readonly"])
def test_only_admins_see_or_change_it(client_for, profile_set, role):
    profile_set()
    client = client_for(role)
    assert client.get(PATH).status_code == 403
    assert client.put(PATH, json=shop_profile(legal_name="Someone else")).status_code == 403


@pytest.mark.parametrize(
    "change, field",
    [
        ({"vat_number": "CHE-123.456.789 MWST"}, "vat_number"),
        ({"vat_number": "DE136695977"}, "vat_number"),
        ({"vat_number": "FR40303265045"}, "vat_number"),
        ({"iban": "CH9300762011623852958"}, "iban"),
        ({"iban": QR_IBAN}, "iban"),
        ({"qr_iban": IBAN}, "qr_iban"),
        ({"payment_term_days": -1}, "payment_term_days"),
        ({"logo": {"data": base64.b64encode(b"GIF89a not an image").decode()}}, "logo.data"),
        ({"logo": {"data": "%%% not base64"}}, "logo.data"),
        ({"logo": {"data": base64.b64encode(png_bytes(3000, 10)).decode()}}, "logo.data"),
        ({"footer": {"de": "ok", "xx": "unknown language"}}, "footer.xx"),
        (
            {"address": {"street": "Bahnhofstrasse", "postal_code": "8001", "city": "Zürich\nEvil", "country": "CH"}},
            "address.city",
        ),
        ({"legal_name": ""}, "legal_name"),
        ({"contact": {"email": "not-an-address"}}, "contact.email"),
        (
            {"address": {"street": "Bahnhofstrasse", "postal_code": "8001", "city": "Zürich", "country": "XX"}},
            "address.country",
        ),
    ],
)
def test_a_bad_value_is_refused_by_name_and_nothing_is_stored(admin, profile_set, change, field):
    before = profile_set()
    answer = admin.put(PATH, json=shop_profile(**{"legal_name": "Changed AG", **change}))
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert field in answer.json()["errors"]
    assert admin.get(PATH).json() == before


def test_an_oversize_logo_is_refused(admin, profile_set):
    before = profile_set()
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 300_000).decode()
    answer = admin.put(PATH, json=shop_profile(logo={"data": big}))
    assert answer.status_code == 422 and "logo.data" in answer.json()["errors"]
    assert "at most" in answer.json()["errors"]["logo.data"][0]
    assert admin.get(PATH).json() == before


def test_a_stale_version_is_a_conflict(admin, profile_set):
    current = profile_set()
    answer = admin.put(PATH, json=shop_profile(legal_name="Late AG", version=current["version"] - 1))
    assert answer.status_code == 409 and "version" in answer.json()["errors"]
    assert admin.get(PATH).json()["legal_name"] == "Teehaus Zürich AG"
