"""Invoices: issued once from the order's event, every legal field on the page, the QR-bill's
payload as the guidelines want it, the same bytes on every download."""

import hashlib
import json
import uuid

import pytest
from nameko.standalone.events import event_dispatcher

from oms_common.payment_references import creditor_reference, qr_reference

from .conftest import IBAN, QR_IBAN, VALID_CH_VAT
from .pdfs import pdf_text, qr_payloads


def order_body(language="de", payment_method="invoice", currency="CHF", last_name="Muster", **extra):
    return {
        "customer": {
            "email": f"doc-{uuid.uuid4().hex[:10]}@example.com",
            "first_name": "Anna",
            "last_name": last_name,
            "language": language,
        },
        "billing_address": {
            "first_name": "Anna",
            "last_name": last_name,
            "street": "Seestrasse 5",
            "postal_code": "8002",
            "city": "Zürich",
            "country": "CH",
        },
        "lines": [
            {"article_number": "T-100", "name": "Teekanne Gusseisen", "quantity": 2, "unit_price": "54.05"},
            {
                "article_number": "B-200",
                "name": "Grüntee Sencha",
                "quantity": 3,
                "unit_price": "3.42",
                "tax_rate": "2.6",
            },
        ],
        "shipping_cost": "8.00",
        "currency": currency,
        "payment_method": payment_method,
        **extra,
    }


@pytest.fixture
def place(admin, wait_until):
    def place_order(**options):
        created = admin.post("/api/v1/orders", json=order_body(**options))
        assert created.status_code == 201, created.text
        order = created.json()

        def issued():
            items = admin.get(f"/api/v1/orders/{order['reference']}/documents").json()["items"]
            return items or None

        documents = wait_until(issued, timeout=30, message="the invoice")
        return order, documents

    return place_order


def download(admin, reference, document_id):
    answer = admin.get(f"/api/v1/orders/{reference}/documents/{document_id}.pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/pdf"
    return answer.content


def test_an_invoice_names_every_legal_field(admin, profile_set, place):
    profile_set()
    order, documents = place()
    [invoice] = documents
    assert invoice["kind"] == "invoice" and invoice["number"] == order["invoice_number"]
    text = pdf_text(download(admin, order["reference"], invoice["id"]))
    # the supplier: name, address, VAT number
    for expected in ("Teehaus Zürich AG", "Bahnhofstrasse 1", "CH-8001 Zürich", f"MWST-Nr. {VALID_CH_VAT}"):
        assert expected in text
    # the recipient: name and address
    for expected in ("Anna Muster", "Seestrasse 5", "CH-8002 Zürich"):
        assert expected in text
    # sequential number, date of issue, date of supply
    assert f"Rechnung {order['invoice_number']}" in text and f"Rechnungsnummer {order['invoice_number']}" in text
    assert "Rechnungsdatum" in text and "Lieferdatum" in text and "Zahlbar bis" in text
    # goods and quantities
    assert "Teekanne Gusseisen" in text and "Grüntee Sencha" in text
    assert "T-100" in text and "B-200" in text
    # net per rate, rate and tax amount, as the order's breakdown has them
    detail = admin.get(f"/api/v1/orders/{order['reference']}").json()
    for row in detail["tax_breakdown"]:
        assert f"{row['rate']} % {row['net']} {row['tax']} {row['gross']}" in text
    assert f"Total CHF {detail['total']}" in text
    assert "Zahlbar innert 30 Tagen." in text  # the shop's terms in the customer's language


def test_the_qr_bill_carries_the_qr_reference_and_the_amount(admin, profile_set, place):
    profile_set()
    order, [invoice] = place()
    [payload] = qr_payloads(download(admin, order["reference"], invoice["id"]))
    expected = "\r\n".join(
        [
            "SPC",
            "0200",
            "1",
            QR_IBAN,
            "S",
            "Teehaus Zürich AG",
            "Bahnhofstrasse",
            "1",
            "8001",
            "Zürich",
            "CH",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            order["total"],
            "CHF",
            "S",
            "Anna Muster",
            "Seestrasse 5",
            "",
            "8002",
            "Zürich",
            "CH",
            "QRR",
            qr_reference(order["reference"]),
            order["invoice_number"],
            "EPD",
        ]
    )
    assert payload == expected


@pytest.mark.parametrize("last_name", ["مرحبا", "Παπαδόπουλος", "王"])
def test_a_customer_named_in_another_script_is_invoiced_with_a_blank_debtor_field(admin, profile_set, place, last_name):
    # the PDF's core font and the QR payload take Latin letters only: the payer fills the field in
    profile_set()
    order, [invoice] = place(last_name=last_name)
    [payload] = qr_payloads(download(admin, order["reference"], invoice["id"]))
    fields = payload.split("\r\n")
    assert fields[18:20] == [order["total"], "CHF"]
    assert fields[20:27] == [""] * 7
    assert fields[27:29] == ["QRR", qr_reference(order["reference"])]


def test_an_ordinary_iban_gets_a_creditor_reference(admin, profile_set, place):
    profile_set(qr_iban=None)
    order, [invoice] = place(payment_method="prepayment", currency="EUR", language="fr")
    content = download(admin, order["reference"], invoice["id"])
    [payload] = qr_payloads(content)
    fields = payload.split("\r\n")
    assert fields[3] == IBAN and fields[18:20] == [order["total"], "EUR"]
    assert fields[27:29] == ["SCOR", creditor_reference(order["reference"])]
    assert "Facture" in pdf_text(content) and "Section paiement" in pdf_text(content)


def test_an_order_in_another_currency_gets_an_invoice_without_a_qr_bill(admin, profile_set, place):
    profile_set()
    order, [invoice] = place(currency="USD", language="it")
    content = download(admin, order["reference"], invoice["id"])
    assert qr_payloads(content) == []
    assert f"Fattura {order['invoice_number']}" in pdf_text(content)


@pytest.mark.parametrize("language, title", [("en", "Invoice"), ("fr", "Facture"), ("it", "Fattura")])
def test_the_invoice_speaks_the_customers_language(admin, profile_set, place, language, title):
    profile_set()
    order, [invoice] = place(language=language)
    text = pdf_text(download(admin, order["reference"], invoice["id"]))
    assert f"{title} {order['invoice_number']}" in text


def test_every_download_is_the_same_bytes_and_a_redelivery_issues_nothing(
    admin, profile_set, place, service_config, wait_until
):
    profile_set()
    order, [invoice] = place()
    first = download(admin, order["reference"], invoice["id"])
    assert hashlib.sha256(first).hexdigest() == invoice["sha256"]
    # the shop changes its profile: the issued invoice does not change
    profile_set(legal_name="Teehaus Neu AG")
    # the same event again, and another submission event of the order (a replay)
    detail = admin.get(f"/api/v1/orders/{order['reference']}").json()
    dispatch = event_dispatcher(service_config)
    marker = {"event_id": uuid.uuid4().hex, "event_type": "order_submitted", "order": detail, "actor": None}
    dispatch("orders", "order_submitted", marker)
    wait_until(lambda: _claimed(service_config, marker["event_id"]), timeout=30, message="the replay handled")
    assert admin.get(f"/api/v1/orders/{order['reference']}/documents").json()["items"] == [invoice]
    assert download(admin, order["reference"], invoice["id"]) == first
    assert "Teehaus Neu AG" not in pdf_text(first)


def _claimed(config, event_id):
    from sqlalchemy import select

    from documents.models import infrastructure
    from tests.conftest import sql_source

    source = sql_source(config["DATABASE_URL"], "documents", infrastructure)
    try:
        with source.read_session() as session:
            table = infrastructure.processed_events
            return session.execute(select(table.c.event_id).where(table.c.event_id == event_id)).first() is not None
    finally:
        source.engine.dispose()


def test_customer_text_cannot_add_lines_or_break_the_pdf(admin, profile_set, place):
    profile_set()
    evil = "Muster|TOTAL|CHF 0.00) Tj (x"
    order, [invoice] = place(last_name=evil)
    text = pdf_text(download(admin, order["reference"], invoice["id"]))
    assert "Anna Muster/TOTAL/CHF 0.00) Tj (x" in text
    assert text.count("Total CHF") == 1


def test_documents_of_an_unknown_order_or_id(admin, profile_set, place):
    profile_set()
    order, [invoice] = place()
    assert admin.get("/api/v1/orders/999999999/documents").json()["items"] == []
    assert admin.get(f"/api/v1/orders/999999999/documents/{invoice['id']}.pdf").status_code == 404
    assert admin.get(f"/api/v1/orders/{order['reference']}/documents/abc.pdf").status_code == 404


def test_an_order_before_the_shop_profile_is_invoiced_once_the_profile_is_saved(
    admin, profile_set, settle, wait_until, amqp_vhost, service_config
):
    from oms_common.events import parked_messages
    from tests.support.drain import queue_depths

    _forget_shop_profile(service_config)  # a shop that has not set it up yet
    created = admin.post("/api/v1/orders", json=order_body())
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    settle()  # the order's event has reached documents: nobody to issue the invoice yet

    assert admin.get(f"/api/v1/orders/{reference}/documents").json()["items"] == []
    parked = [
        json.loads(message["body"])
        for queue, count in queue_depths(amqp_vhost).items()
        if count and "--documents." in queue and queue.endswith(".parked")
        for message in parked_messages(service_config["AMQP_URI"], queue.removesuffix(".parked"))
    ]
    assert not [event for event in parked if (event.get("order") or {}).get("reference") == reference], (
        parked
    )  # waiting, not failed

    profile_set()
    invoices = wait_until(
        lambda: admin.get(f"/api/v1/orders/{reference}/documents").json()["items"] or None,
        timeout=30,
        message="the waiting invoice",
    )
    settle()

    assert [(item["kind"], item["number"]) for item in invoices] == [("invoice", created.json()["invoice_number"])]
    assert admin.get(f"/api/v1/orders/{reference}/documents").json()["items"] == invoices


def _forget_shop_profile(config):
    from sqlalchemy import delete

    from documents.models import ShopProfile, infrastructure
    from tests.conftest import sql_source

    source = sql_source(config["DATABASE_URL"], "documents", infrastructure)
    try:
        with source.engine.begin() as connection:
            connection.execute(delete(ShopProfile.__table__))
    finally:
        source.engine.dispose()


@pytest.mark.parametrize("last_name", ["Παπαδόπουλος", "Иванова"])
def test_a_customer_named_in_greek_or_cyrillic_letters_is_printed_as_written(admin, profile_set, place, last_name):
    profile_set()
    order, [invoice] = place(last_name=last_name)
    assert f"Anna {last_name}" in pdf_text(download(admin, order["reference"], invoice["id"]))
