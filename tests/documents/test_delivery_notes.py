"""Delivery notes: issued once when an order ships, numbered DN-<n> without gaps, naming the shop,
the customer and the delivery address, the order, its invoice and tracking numbers and the goods
with their quantities, and never a price."""

import hashlib
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from nameko.standalone.events import event_dispatcher
from sqlalchemy import select

from tests.conftest import sql_source

from .conftest import VALID_CH_VAT
from .pdfs import pdf_text, qr_payloads
from .test_invoices import _claimed, _forget_shop_profile, download, order_body, place  # noqa: F401 - fixture

TRACKING = "99.00.123456.12345678"
DELIVERY_ADDRESS = {
    "first_name": "Anna",
    "last_name": "Muster",
    "company": "Muster Design GmbH",
    "street": "Hauptgasse 12",
    "postal_code": "3011",
    "city": "Bern",
    "country": "CH",
}


def _documents(admin, reference):
    return admin.get(f"/api/v1/orders/{reference}/documents").json()["items"]


def _delivery_notes(admin, reference):
    return [item for item in _documents(admin, reference) if item["kind"] == "delivery_note"]


def _ship(admin, reference, **body):
    shipped = admin.post(f"/api/v1/orders/{reference}/ship", json=body)
    assert shipped.status_code == 200, shipped.text
    return shipped.json()


def _delivery_note(admin, wait_until, reference):
    [note] = wait_until(lambda: _delivery_notes(admin, reference) or None, timeout=30, message="the delivery note")
    return note


def _dn_number(document):
    assert document["number"].startswith("DN-")
    return int(document["number"][3:])


@pytest.fixture
def ship(admin, wait_until):
    """Ships an order and answers its delivery note (as the documents list shows it)."""

    def ship_order(reference, **body):
        _ship(admin, reference, **body)
        return _delivery_note(admin, wait_until, reference)

    return ship_order


def _outbox(config, service, infrastructure, event_type):
    source = sql_source(config["DATABASE_URL"], service, infrastructure)
    try:
        with source.read_session() as session:
            table = infrastructure.outbox
            return [
                row.payload
                for row in session.execute(select(table.c.payload).where(table.c.event_type == event_type)).all()
            ]
    finally:
        source.engine.dispose()


def _issued_events(config, reference):
    from documents.models import infrastructure

    return [
        event
        for event in _outbox(config, "documents", infrastructure, "document_issued")
        if event["order_reference"] == reference and event["kind"] == "delivery_note"
    ]


def test_a_delivery_note_names_shop_customer_order_and_goods_and_no_price(
    admin, profile_set, place, ship, service_config
):
    profile_set()
    order, [invoice] = place(language="de", shipping_address=DELIVERY_ADDRESS)
    reference = order["reference"]
    note = ship(reference, tracking_number=TRACKING)

    assert note["kind"] == "delivery_note" and note["amount"] is None and note["language"] == "de"
    content = download(admin, reference, note["id"])
    assert hashlib.sha256(content).hexdigest() == note["sha256"]
    text = pdf_text(content)
    # the shop (its profile)
    for expected in ("Teehaus Zürich AG", "Bahnhofstrasse 1", "CH-8001 Zürich", f"MWST-Nr. {VALID_CH_VAT}"):
        assert expected in text
    # the customer and where the goods go (the delivery address, not the billing address)
    for expected in ("Muster Design GmbH", "Anna Muster", "Hauptgasse 12", "CH-3011 Bern"):
        assert expected in text
    assert "Seestrasse 5" not in text
    # number, date of issue, order, invoice and tracking numbers
    issued_on = datetime.fromisoformat(note["created_at"]).astimezone(ZoneInfo("Europe/Zurich")).date()
    assert f"Lieferschein {note['number']}" in text and f"Lieferscheinnummer {note['number']}" in text
    assert f"Datum {issued_on:%d.%m.%Y}" in text
    assert f"Bestellung {reference}" in text
    assert f"Rechnungsnummer {invoice['number']}" in text
    assert f"Sendungsnummer {TRACKING}" in text
    # the goods: position, SKU, name, quantity
    assert "Pos. Artikel Bezeichnung Menge" in text
    assert "1 T-100 Teekanne Gusseisen 2" in text and "2 B-200 Grüntee Sencha 3" in text
    # no price, no total, no QR-bill
    for price in ("54.05", "3.42", "108.10", "10.26", "8.00", order["total"], "CHF", "Total", "Preis", "Betrag"):
        assert price not in text
    assert qr_payloads(content) == []
    assert "Zahlteil" not in text and "Empfangsschein" not in text
    # announced like every document, and the same bytes on every download
    [issued] = _issued_events(service_config, reference)
    assert (issued["document_id"], issued["number"], issued["sha256"]) == (note["id"], note["number"], note["sha256"])
    assert download(admin, reference, note["id"]) == content


@pytest.mark.parametrize(
    "language, title, tracking_label",
    [
        ("fr", "Bulletin de livraison", "Numéro de suivi"),
        ("it", "Bollettino di consegna", "Numero di tracciamento"),
        ("en", "Delivery note", "Tracking number"),
    ],
)
def test_the_delivery_note_speaks_the_customers_language(
    admin, profile_set, place, ship, language, title, tracking_label
):
    profile_set()
    order, _ = place(language=language)
    note = ship(order["reference"], tracking_number=TRACKING)
    text = pdf_text(download(admin, order["reference"], note["id"]))
    assert f"{title} {note['number']}" in text and f"{tracking_label} {TRACKING}" in text


def test_an_order_without_invoice_or_tracking_number_shows_neither(admin, profile_set, ship):
    profile_set()
    # with invoice numbering off the order gets no invoice number (an ERP invoices it)
    switched = admin.put("/api/v1/settings/numbering", json={"invoice_numbers_enabled": False})
    assert switched.status_code == 200, switched.text
    try:
        created = admin.post("/api/v1/orders", json=order_body(language="en"))
        assert created.status_code == 201, created.text
    finally:
        restored = admin.put("/api/v1/settings/numbering", json={"invoice_numbers_enabled": True})
        assert restored.status_code == 200, restored.text
    order = created.json()
    assert order["invoice_number"] is None
    note = ship(order["reference"])
    assert [item["kind"] for item in _documents(admin, order["reference"])] == ["delivery_note"]
    text = pdf_text(download(admin, order["reference"], note["id"]))
    assert f"Delivery note {note['number']}" in text and f"Order {order['reference']}" in text
    assert "Invoice number" not in text and "Tracking number" not in text


def test_a_redelivered_order_shipped_issues_nothing_more(admin, profile_set, place, ship, service_config, wait_until):
    from orders.models import infrastructure as orders_infrastructure

    profile_set()
    order, _ = place()
    reference = order["reference"]
    note = ship(reference, tracking_number=TRACKING)
    [shipped] = [
        event
        for event in _outbox(service_config, "orders", orders_infrastructure, "order_shipped")
        if event["order"]["reference"] == reference
    ]
    dispatch = event_dispatcher(service_config)
    dispatch("orders", "order_shipped", shipped)  # the same event delivered again
    replay = {**shipped, "event_id": uuid.uuid4().hex}  # and another shipment event of the order
    dispatch("orders", "order_shipped", replay)
    wait_until(lambda: _claimed(service_config, replay["event_id"]), timeout=30, message="the replay handled")

    assert _delivery_notes(admin, reference) == [note]
    assert len(_issued_events(service_config, reference)) == 1
    # the range gave no number away: the next shipment gets the next one
    following, _ = place()
    assert _dn_number(ship(following["reference"])) == _dn_number(note) + 1


def test_two_shipped_orders_get_consecutive_numbers(profile_set, place, ship):
    profile_set()
    first, _ = place()
    second, _ = place()
    numbers = [_dn_number(ship(first["reference"])), _dn_number(ship(second["reference"]))]
    assert numbers == [numbers[0], numbers[0] + 1]


def test_an_order_shipped_before_the_shop_profile_gets_its_delivery_note_once_the_profile_is_saved(
    admin, profile_set, settle, wait_until, service_config
):
    from documents.models import DeliveryNoteAwaitingProfile, infrastructure

    _forget_shop_profile(service_config)  # a shop that has not set it up yet
    created = admin.post("/api/v1/orders", json=order_body(language="en"))
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    _ship(admin, reference, tracking_number=TRACKING)
    settle()  # the shipment has reached documents: nobody to issue the delivery note yet

    assert _documents(admin, reference) == []
    source = sql_source(service_config["DATABASE_URL"], "documents", infrastructure)
    try:
        with source.read_session() as session:
            assert session.get(DeliveryNoteAwaitingProfile, reference) is not None  # waiting, not failed
    finally:
        source.engine.dispose()

    profile_set()
    documents = wait_until(
        lambda: len(_documents(admin, reference)) == 2 and _documents(admin, reference),
        timeout=30,
        message="the waiting invoice and delivery note",
    )
    settle()

    assert [item["kind"] for item in documents] == ["invoice", "delivery_note"]
    assert _documents(admin, reference) == documents
    note = documents[1]
    text = pdf_text(download(admin, reference, note["id"]))
    assert f"Delivery note {note['number']}" in text and f"Tracking number {TRACKING}" in text
    assert "Teehaus Zürich AG" in text and "1 T-100 Teekanne Gusseisen 2" in text
    assert len(_issued_events(service_config, reference)) == 1


@pytest.mark.parametrize("last_name", ["Παπαδόπουλος", "Иванова"])
def test_a_customer_named_in_another_script_is_printed_as_written(admin, profile_set, place, ship, last_name):
    profile_set()
    order, _ = place(last_name=last_name)
    note = ship(order["reference"])
    assert f"Anna {last_name}" in pdf_text(download(admin, order["reference"], note["id"]))
