"""The bank-statement page of the staff UI over plain HTTP: upload, report, assign a credit."""

import re
import uuid

import pytest

from oms_common.payment_references import qr_reference
from tests.gateway.test_bank_statements_routes import invoice_order  # noqa: F401 - a fixture
from tests.gateway.test_payments_routes import payment_of, payments_running  # noqa: F401 - a fixture
from tests.payments import camt
from tests.support.ui import sign_in

PASSWORD = "a long enough password 42"


@pytest.fixture
def accountant_browser(base_url, database_url):
    from gateway import users
    from gateway.models import infrastructure
    from tests.conftest import sql_source

    username = f"ui-accountant-{uuid.uuid4().hex[:8]}"
    users.create_user(sql_source(database_url, "gateway", infrastructure), username, "accountant", PASSWORD)
    browser, response = sign_in(base_url, username, PASSWORD)
    assert response.status_code == 303, response.text
    return browser


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_staff_upload_a_statement_read_its_report_and_assign_an_unmatched_credit(
    admin, base_url, invoice_order, accountant_browser
):
    paid_by_file, paid_by_hand = invoice_order(), invoice_order()
    page = accountant_browser.get(f"{base_url}/admin/bank-statements")
    assert page.status_code == 200 and 'href="/admin/bank-statements"' in page.text
    data = camt.document(
        [
            camt.credit("16.00", reference=qr_reference(paid_by_file["reference"])),
            camt.credit("16.00", text="<b>Tante Erna</b>", acct_ref=f"UI-{uuid.uuid4().hex[:8]}"),
        ]
    )
    posted = accountant_browser.post(
        f"{base_url}/admin/bank-statements",
        data={"csrf_token": csrf(page.text)},
        files={"file": ("statement.xml", data, "application/xml")},
        headers={"Origin": base_url},
        allow_redirects=False,
    )
    assert posted.status_code == 303 and "/admin/bank-statements?import=" in posted.headers["Location"]
    report = accountant_browser.get(base_url + posted.headers["Location"])
    assert 'id="bank-report"' in report.text and paid_by_file["reference"] in report.text
    assert "&lt;b&gt;Tante Erna&lt;/b&gt;" in report.text and "<b>Tante Erna</b>" not in report.text
    assert payment_of(admin, paid_by_file["reference"])["status"] == "paid"

    entry_id = re.search(r'action="/admin/bank-statements/(\d+)/assign"', report.text).group(1)
    refused = accountant_browser.post(
        f"{base_url}/admin/bank-statements/{entry_id}/assign",
        data={"csrf_token": csrf(report.text), "order_reference": "no-such-order"},
        headers={"Origin": base_url},
        allow_redirects=False,
    )
    assert refused.status_code == 422 and "no-such-order" in refused.text
    assigned = accountant_browser.post(
        f"{base_url}/admin/bank-statements/{entry_id}/assign",
        data={"csrf_token": csrf(report.text), "order_reference": paid_by_hand["reference"]},
        headers={"Origin": base_url},
        allow_redirects=False,
    )
    assert assigned.status_code == 303
    assert payment_of(admin, paid_by_hand["reference"])["status"] == "paid"
    after = accountant_browser.get(f"{base_url}/admin/bank-statements").text
    assert f'action="/admin/bank-statements/{entry_id}/assign"' not in after

    empty = accountant_browser.post(
        f"{base_url}/admin/bank-statements",
        data={"csrf_token": csrf(after)},
        files={"file": ("empty.xml", b"", "application/xml")},
        headers={"Origin": base_url},
        allow_redirects=False,
    )
    assert empty.status_code == 422


def test_the_page_is_for_staff_who_manage_payments(base_url, database_url, payments_running):  # noqa: F811
    from gateway import users
    from gateway.models import infrastructure
    from tests.conftest import sql_source

    username = f"ui-agent-{uuid.uuid4().hex[:8]}"
    users.create_user(sql_source(database_url, "gateway", infrastructure), username, "agent", PASSWORD)
    browser, _ = sign_in(base_url, username, PASSWORD)
    page = browser.get(f"{base_url}/admin/bank-statements")
    assert page.status_code == 403
    assert 'href="/admin/bank-statements"' not in browser.get(f"{base_url}/admin/orders").text


def test_the_order_page_shows_what_is_still_owed_after_a_partial_credit_and_a_reminder_fee(
    admin, base_url, invoice_order, accountant_browser
):
    reference = invoice_order()["reference"]
    credit = camt.document([camt.credit("10.00", reference=qr_reference(reference))])
    imported = admin.post("/api/v1/imports/bank-statements", data=credit, headers={"Content-Type": "application/xml"})
    assert imported.status_code == 201 and imported.json()["counts"]["partial"] == 1, imported.text
    for level in (1, 2):
        dunned = admin.post(f"/api/v1/orders/{reference}/dunning", json={"level": level, "notify": False})
        assert dunned.status_code == 200, dunned.text
    payment = payment_of(admin, reference)
    assert (payment["dunning_fees"], payment["open_amount"]) == ("5.00", "11.00")  # 16.00 − 10.00 + the level 2 fee

    page = accountant_browser.get(f"{base_url}/admin/orders/{reference}").text

    def shown(element_id):
        found = re.search(rf'id="{element_id}">(.*?)</dd>', page, re.S)
        assert found, f"{element_id} is not on the order page"
        return found.group(1)

    assert "5.00" in shown("payment-dunning-fees") and "11.00" in shown("payment-open-amount")
    assert qr_reference(reference) in shown("payment-bank-reference")
