"""The ticked orders' documents as one PDF from the order list, in a real browser against the
running suite: the download, the messages when nothing is ticked or none has documents (in the
staff's language), and the roles that are not offered it."""

import io
import secrets
import time

import pypdf
import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_documents_ui import QR_IBAN, VAT

MESSAGES = {
    "de": (
        "Dokumente herunterladen (PDF)",
        "Zuerst die Bestellungen ankreuzen, deren Dokumente Sie herunterladen möchten.",
        "Keine der angekreuzten Bestellungen hat bisher Dokumente.",
    ),
    "fr": (
        "Télécharger les documents (PDF)",
        "Cochez d’abord les commandes dont vous voulez télécharger les documents.",
        "Aucune des commandes cochées n’a encore de documents.",
    ),
    "it": (
        "Scarica i documenti (PDF)",
        "Spuntate prima gli ordini di cui volete scaricare i documenti.",
        "Nessuno degli ordini spuntati ha ancora documenti.",
    ),
    "en": (
        "Download documents (PDF)",
        "Tick the orders whose documents you want first.",
        "None of the ticked orders has documents yet.",
    ),
}
USER_OF = {"de": "admin_de", "fr": "admin_fr", "it": "admin_it", "en": "accountant"}


def _row(page, reference):
    return page.locator("table.orders tbody tr", has=page.locator(f"a:text-is('{reference}')"))


def _with_profile(api):
    if api.http.get(api.base + "/api/v1/settings/shop-profile", timeout=30).status_code == 404:
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


def _documents(api, reference):
    for _ in range(100):  # issued from the order's event, moments after the 201
        listed = api.http.get(api.base + f"/api/v1/orders/{reference}/documents", timeout=30).json()["items"]
        if listed:
            return listed
        time.sleep(0.2)
    raise AssertionError(f"order {reference} got no document")


def _open_order(api):
    """An open order (a shopper's cart): nothing is issued for it until it is submitted."""
    return api.create_order(submit=False, session_id=f"cart-{secrets.token_hex(6)}")["reference"]


def _page_texts(content):
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def test_an_accountant_downloads_the_ticked_orders_documents_as_one_pdf(page_for, users, api):
    _with_profile(api)
    invoiced = [api.create_order()["reference"] for _ in range(2)]
    stored = {}
    for reference in invoiced:
        [invoice] = _documents(api, reference)
        pdf = api.http.get(api.base + f"/api/v1/orders/{reference}/documents/{invoice['id']}.pdf", timeout=30)
        stored[reference] = pdf.content
    not_submitted = _open_order(api)
    page = page_for(users["accountant"])
    page.goto("/admin/orders?page_size=200&view=0")
    button = page.locator("#download-documents")
    assert button.inner_text() == "Download documents (PDF)"
    for reference in (*invoiced, not_submitted):
        _row(page, reference).locator("input[name=references]").check()
    listed = page.locator("table.orders tbody td.ref a").all_inner_texts()  # the ticks go in the list's order
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == "documents-2.pdf"
    merged = open(download.value.path(), "rb").read()
    expected = [reference for reference in listed if reference in stored]
    assert _page_texts(merged) == [text for reference in expected for text in _page_texts(stored[reference])]
    assert page.dialogs == []  # a download changes nothing: no confirmation asked
    screenshot(page, "orders-documents-download-en")


@pytest.mark.parametrize("language", ["de", "fr", "it", "en"])
def test_nothing_ticked_and_none_with_documents_are_said_in_the_staff_language(page_for, users, api, language):
    label, nothing_ticked, none_issued = MESSAGES[language]
    not_submitted = _open_order(api)
    page = page_for(users[USER_OF[language]])
    page.goto("/admin/orders?page_size=200&view=0")
    button = page.locator("#download-documents")
    assert button.inner_text() == label
    button.click()
    page.wait_for_load_state()
    assert page.locator("#documents-refused").inner_text() == nothing_ticked
    assert page.locator("html").get_attribute("lang") == language
    _row(page, not_submitted).locator("input[name=references]").check()
    page.locator("#download-documents").click()
    page.wait_for_load_state()
    assert page.locator("#documents-refused").inner_text() == none_issued
    # the list as it was asked for, still there to tick others
    assert "page_size=200" in page.url and _row(page, not_submitted).count() == 1
    screenshot(page, f"orders-documents-none-{language}")


def test_roles_without_exports_read_are_not_offered_the_download(page_for, users, api):
    reference = api.create_order()["reference"]
    page = page_for(users["agent"])
    page.goto("/admin/orders?page_size=200&view=0")
    assert page.locator("#download-documents").count() == 0
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post("/admin/orders/documents", form={"csrf_token": csrf, "references": reference})
    assert refused.status == 403 and refused.headers["content-type"].startswith("text/html")
