"""The bank-statement page in a real browser: an accountant uploads a camt file, reads the
report, assigns the credit no order was found for; in German; no serious axe violation."""

import re
import secrets
import sys
from pathlib import Path

from tests.browser.conftest import screenshot
from tests.browser.test_staff_ui import axe_violations

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from oms_common.payment_references import qr_reference  # noqa: E402
from tests.payments import camt  # noqa: E402


def test_an_accountant_imports_a_statement_and_assigns_the_unmatched_credit(page_for, users, api):
    by_file, by_hand = api.create_order(), api.create_order()
    total = by_file["total"]
    unknown = f"Spende {secrets.token_hex(3)}"
    data = camt.document(
        [camt.credit(total, reference=qr_reference(by_file["reference"])), camt.credit(total, text=unknown)],
        kind="054",
        version=8,
    )
    page = page_for(users["accountant"], bypass_csp=True)  # only so that axe can be injected
    page.get_by_role("link", name="Bank statements").click()
    page.wait_for_url("**/admin/bank-statements")
    assert axe_violations(page) == []
    page.get_by_label("camt.053 or camt.054 file").set_input_files(
        {"name": "statement.xml", "mimeType": "application/xml", "buffer": data}
    )
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r".*/admin/bank-statements\?import=\d+"))
    report = page.locator("#bank-report")
    assert "paid: 1" in report.inner_text() and "unmatched: 1" in report.inner_text()
    paid = api.http.get(api.base + f"/api/v1/orders/{by_file['reference']}/payment", timeout=30).json()
    assert paid["status"] == "paid"
    assert axe_violations(page) == []
    screenshot(page, "bank-statements-report")

    row = page.locator("#bank-entries tr", has_text=unknown)
    row.get_by_label("Order reference").fill(by_hand["reference"])
    row.get_by_role("button", name="Assign").click()
    page.wait_for_url("**/admin/bank-statements")
    assert page.locator("#bank-entries tr", has_text=unknown).count() == 0
    payment = api.http.get(api.base + f"/api/v1/orders/{by_hand['reference']}/payment", timeout=30).json()
    assert payment["status"] == "paid"


def test_the_page_speaks_german(page_for, users):
    page = page_for(users["admin_de"])
    page.goto("/admin/bank-statements")
    assert page.locator("h1").inner_text() == "Kontoauszüge"
    assert page.get_by_role("button", name="Importieren").count() == 1
    assert "nicht zugeordnet" in page.locator("nav.tabs").inner_text()
