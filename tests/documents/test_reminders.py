"""Payment reminders: each dunning level of an invoice order gets a reminder document
``<invoice number>-M<level>`` with the open amount (invoice amount + dunning fees) and a fresh
QR-bill for it; the invoice's due date reaches payments with its document_issued."""

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from oms_common.payment_references import qr_reference
from tests.support.suite import free_port

from .conftest import QR_IBAN
from .pdfs import pdf_text, qr_payloads
from .test_invoices import download, place  # noqa: F401 - fixture


@pytest.fixture
def payments_running(runner_factory, service_config):
    """Payments beside the suite (invoice payments need no PSP): it dunns, documents reminds."""
    from payments.service import PaymentsService

    config = {**service_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}", "RECONCILE_INTERVAL_SECONDS": 0}
    runner = runner_factory(config, PaymentsService)
    runner.start()
    return runner


def _documents(admin, reference):
    return admin.get(f"/api/v1/orders/{reference}/documents").json()["items"]


def test_each_dunning_level_gets_a_reminder_with_the_open_amount_and_a_fresh_qr_bill(
    admin, profile_set, place, wait_until, settle, payments_running
):
    profile_set()  # payment term 30 days; the suite's fees: level 1 0.00, level 2 5.00
    order, [invoice] = place(language="de")
    reference = order["reference"]
    issued_on = datetime.now(ZoneInfo("Europe/Zurich")).date()
    payment = wait_until(
        lambda: (answer := admin.get(f"/api/v1/orders/{reference}/payment").json()).get("due_date") and answer,
        timeout=30,
        message="the invoice's due date on the payment",
    )
    assert payment["due_date"] in {(issued_on + timedelta(days=30)).isoformat()}

    invoice_bytes = download(admin, reference, invoice["id"])
    for level in (1, 2):
        answer = admin.post(f"/api/v1/orders/{reference}/dunning", json={"level": level, "notify": False})
        assert answer.status_code == 200, answer.text
    open_amount = f"{Decimal(order['total']) + Decimal('5.00'):.2f}"
    assert answer.json()["open_amount"] == open_amount and answer.json()["dunning_fees"] == "5.00"

    documents = wait_until(
        lambda: len(_documents(admin, reference)) == 3 and _documents(admin, reference),
        timeout=30,
        message="the two reminders",
    )
    reminders = [d for d in documents if d["kind"] == "reminder"]
    number = invoice["number"]
    assert [(d["number"], d["amount"], d["corrects"]) for d in reminders] == [
        (f"{number}-M1", order["total"], number),
        (f"{number}-M2", open_amount, number),
    ]
    second = reminders[1]
    content = download(admin, reference, second["id"])
    assert hashlib.sha256(content).hexdigest() == second["sha256"]
    text = pdf_text(content)
    assert f"2. Mahnung {number}-M2" in text
    assert f"Rechnungsbetrag {order['total']}" in text and "Mahngebühren 5.00" in text
    assert f"Offener Betrag CHF {open_amount}" in text
    [payload] = qr_payloads(content)
    fields = payload.split("\r\n")
    assert fields[3] == QR_IBAN
    assert fields[18:20] == [open_amount, "CHF"]
    assert fields[27:30] == ["QRR", qr_reference(reference), f"{number}-M2"]
    # the invoice itself is untouched, and nothing more is issued
    assert download(admin, reference, invoice["id"]) == invoice_bytes
    settle()
    assert len(_documents(admin, reference)) == 3
