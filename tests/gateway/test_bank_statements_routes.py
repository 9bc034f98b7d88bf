"""Bank statements through the gateway: upload by staff, the report, the unmatched list and
assigning a credit, refusals with nothing written, and the order list following the payment."""

import pytest

from oms_common.payment_references import creditor_reference, qr_reference
from tests.gateway.orders_data import order_body
from tests.gateway.test_payments_routes import payment_of, payments_running  # noqa: F401 - a fixture
from tests.payments import camt
from tests.support.smtp import wait_for

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def invoice_order(admin, payments_running):  # noqa: F811 - the fixture imported above
    def create():
        order = admin.post("/api/v1/orders", json=order_body()).json()
        wait_for(lambda: payment_of(admin, order["reference"]), timeout=20, interval=0.2, message="the payment record")
        return order

    return create


@pytest.fixture
def invoice_prefix(admin):
    """Invoice numbers as shops print them (``RE-2026-…``), for this test only."""
    before = admin.get("/api/v1/settings/numbering").json()["invoice_prefix"]
    assert admin.put("/api/v1/settings/numbering", json={"invoice_prefix": "RE-2026-"}).status_code == 200
    yield "RE-2026-"
    admin.put("/api/v1/settings/numbering", json={"invoice_prefix": before or ""})


def upload(client, data):
    return client.post("/api/v1/imports/bank-statements", data=data, headers=XML)


def test_an_accountant_imports_a_statement_that_pays_by_invoice_number_and_qr_reference(
    admin, client_for, invoice_order, invoice_prefix
):
    by_invoice, by_qrr = invoice_order(), invoice_order()
    assert by_invoice["invoice_number"].startswith(invoice_prefix) and by_invoice["total"] == "16.00"
    references = admin.get(f"/api/v1/orders/{by_qrr['reference']}/payment-references").json()
    assert references["qr_reference"] == qr_reference(by_qrr["reference"])
    assert references["creditor_reference"] == creditor_reference(by_qrr["reference"])
    data = camt.document(
        [
            camt.credit("16.00", text=f"Rechnung {by_invoice['invoice_number']} Danke"),
            camt.credit("16.00", reference=references["qr_reference"]),
        ],
        kind="054",
        version=6,
    )
    accountant = client_for("accountant")
    response = upload(accountant, data)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["counts"]["matched"] == 2, report
    assert [e["order_reference"] for e in report["entries"]] == [by_invoice["reference"], by_qrr["reference"]]
    assert accountant.get(f"/api/v1/imports/bank-statements/{report['id']}").json() == report
    for order in (by_invoice, by_qrr):
        assert payment_of(admin, order["reference"])["status"] == "paid"
        wait_for(
            lambda: admin.get(f"/api/v1/orders/{order['reference']}").json()["payment_status"] == "paid",
            timeout=20,
            interval=0.2,
            message="the order's payment status",
        )
    history = admin.get(f"/api/v1/orders/{by_qrr['reference']}/payment/history").json()["items"]
    assert [(h["action"], h["origin"]) for h in history if h["action"] == "bank_credit"] == [
        ("bank_credit", "bank statement")
    ]
    again = upload(accountant, data).json()
    assert again["changed"] is False and again["counts"]["duplicates"] == 2


def test_unmatched_credits_are_listed_and_assigned_by_staff(admin, client_for, invoice_order):
    order = invoice_order()
    accountant = client_for("accountant")
    report = upload(accountant, camt.document([camt.credit("16.00", text="Geschenk von Tante Erna 2026")])).json()
    assert report["counts"]["unmatched"] == 1
    listed = accountant.get("/api/v1/bank-statements/unmatched").json()["items"]
    waiting = next(item for item in listed if item["entry_reference"] == report["entries"][0]["entry_reference"])
    assert waiting["remittance_text"] == "Geschenk von Tante Erna 2026" and waiting["amount"] == "16.00"
    missing = accountant.post(f"/api/v1/bank-statements/unmatched/{waiting['id']}/assign", json={})
    assert missing.status_code == 422 and "order_reference" in missing.json()["errors"]
    assigned = accountant.post(
        f"/api/v1/bank-statements/unmatched/{waiting['id']}/assign", json={"order_reference": order["reference"]}
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["payment"]["status"] == "paid"
    assert payment_of(admin, order["reference"])["status"] == "paid"
    again = accountant.post(
        f"/api/v1/bank-statements/unmatched/{waiting['id']}/assign", json={"order_reference": order["reference"]}
    )
    assert again.status_code == 409
    assert (
        accountant.post("/api/v1/bank-statements/unmatched/x1/assign", json={"order_reference": "1"}).status_code == 404
    )


def test_refusals_name_the_problem_and_write_nothing(admin, client_for, invoice_order):
    order = invoice_order()
    good = camt.credit("16.00", reference=qr_reference(order["reference"]))
    readonly = client_for("readonly")
    assert upload(readonly, camt.document([good])).status_code == 403
    assert readonly.get("/api/v1/bank-statements/unmatched").status_code == 403
    accountant = client_for("accountant")
    before = accountant.get("/api/v1/bank-statements/unmatched", params={"limit": 500}).json()["items"]
    bad = upload(accountant, camt.document([good, camt.credit("16.00", currency="EURO")]))
    assert bad.status_code == 422 and "Ntfctn[1]/Ntry[2]/Amt" in bad.json()["errors"]
    xxe = upload(
        accountant,
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">&x;</Document>',
    )
    assert xxe.status_code == 422 and "document" in xxe.json()["errors"]
    assert upload(accountant, b"").status_code == 400
    assert payment_of(admin, order["reference"])["status"] == "unpaid"
    assert accountant.get("/api/v1/bank-statements/unmatched", params={"limit": 500}).json()["items"] == before
    assert accountant.get("/api/v1/imports/bank-statements/999999999").status_code == 404
