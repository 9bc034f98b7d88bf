"""The shop profile page and the order's documents, in a real browser against the running suite."""

import hashlib
import io
import time

from tests.browser.conftest import screenshot

VAT = "CHE-109.322.551 MWST"
QR_IBAN = "CH4431999123000889012"


def _png(tmp_path):
    from PIL import Image

    path = tmp_path / "logo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (60, 30), (10, 80, 30)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _fill_profile(page, **values):
    for field, value in values.items():
        page.locator(f"#{field}").fill(value)


def test_an_admin_sets_the_shop_profile_and_a_bad_vat_number_is_named(page_for, users, api, tmp_path):
    page = page_for(users["admin_de"])
    page.goto("/admin/settings/numbering")
    page.locator("#shop-profile-link").click()
    page.wait_for_url("**/admin/settings/shop-profile")
    _fill_profile(
        page,
        legal_name="Teehaus Bern AG",
        street="Marktgasse",
        house_number="3",
        postal_code="3011",
        city="Bern",
        country="CH",
        vat_number=VAT,
        qr_iban=QR_IBAN,
        iban="",
        payment_term_days="20",
        footer_de="Zahlbar innert 20 Tagen.",
    )
    page.locator("#logo").set_input_files(str(_png(tmp_path)))
    page.get_by_role("button", name="Speichern").click()
    assert page.get_by_role("status").inner_text() == "Shop-Profil gespeichert."
    screenshot(page, "shop-profile-de")
    profile = api.http.get(api.base + "/api/v1/settings/shop-profile", timeout=30).json()
    assert profile["legal_name"] == "Teehaus Bern AG" and profile["qr_iban"] == QR_IBAN
    assert profile["logo"]["content_type"] == "image/png" and profile["payment_term_days"] == 20

    # the form as the page sends it, with a VAT number whose check digit is wrong (a 422 page)
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    fields = {
        "csrf_token": csrf,
        "legal_name": "Anders AG",
        "street": "Marktgasse",
        "house_number": "3",
        "postal_code": "3011",
        "city": "Bern",
        "country": "CH",
        "vat_number": "CHE-123.456.789 MWST",
        "qr_iban": QR_IBAN,
        "payment_term_days": "20",
    }
    refused = page.request.post("/admin/settings/shop-profile", multipart=fields)
    assert refused.status == 422
    assert "Swiss VAT number" in refused.text() and 'value="Anders AG"' in refused.text()
    after = api.http.get(api.base + "/api/v1/settings/shop-profile", timeout=30).json()
    assert after == profile  # nothing stored, the logo kept as it was


def test_staff_download_the_invoice_from_the_order_detail(page_for, users, api, tmp_path):
    test_profile = api.http.get(api.base + "/api/v1/settings/shop-profile", timeout=30)
    if test_profile.status_code == 404:  # this test on its own: the profile the page would set
        body = {
            "legal_name": "Teehaus Bern AG",
            "vat_number": VAT,
            "qr_iban": QR_IBAN,
            "address": {
                "street": "Marktgasse",
                "house_number": "3",
                "postal_code": "3011",
                "city": "Bern",
                "country": "CH",
            },
        }
        assert api.http.put(api.base + "/api/v1/settings/shop-profile", json=body, timeout=30).status_code == 200
    order = api.create_order()
    reference = order["reference"]
    listed = []
    for _ in range(100):  # the invoice is issued from the order's event, moments after the 201
        listed = api.http.get(api.base + f"/api/v1/orders/{reference}/documents", timeout=30).json()["items"]
        if listed:
            break
        time.sleep(0.2)
    [invoice] = listed
    page = page_for(users["agent"])
    page.goto(f"/admin/orders/{reference}")
    link = page.locator("#documents-panel a", has_text=f"Invoice {invoice['number']}")
    assert link.count() == 1
    with page.expect_download() as download:
        link.click()
    content = open(download.value.path(), "rb").read()
    assert hashlib.sha256(content).hexdigest() == invoice["sha256"]
    screenshot(page, "order-documents")


def test_only_admins_reach_the_shop_profile_page(page_for, users):
    page = page_for(users["accountant"])
    assert page.request.get("/admin/settings/shop-profile").status == 403
