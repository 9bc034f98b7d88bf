"""Credit notes: after invoicing, a cancellation or a refund is documented by a credit note
with a number of its own range, naming the invoice it corrects; money is never credited twice."""

import uuid
from decimal import Decimal

from nameko.standalone.events import event_dispatcher

from documents.credit_notes import partial_breakdown

from .pdfs import pdf_text
from .test_invoices import download, place  # noqa: F401 - fixture


def _documents(admin, reference):
    return admin.get(f"/api/v1/orders/{reference}/documents").json()["items"]


def _credit_number(document):
    assert document["number"].startswith("CN-")
    return int(document["number"][3:])


def test_a_cancellation_after_invoicing_credits_the_whole_invoice(admin, profile_set, place, wait_until):
    profile_set()
    order, [invoice] = place(language="de")
    invoice_bytes = download(admin, order["reference"], invoice["id"])
    cancelled = admin.post(f"/api/v1/orders/{order['reference']}/cancel", json={"reason": "Kunde storniert"})
    assert cancelled.status_code == 200, cancelled.text
    documents = wait_until(
        lambda: len(_documents(admin, order["reference"])) == 2 and _documents(admin, order["reference"]),
        timeout=30,
        message="the credit note",
    )
    note = documents[1]
    assert note["kind"] == "credit_note" and note["corrects"] == invoice["number"]
    assert note["amount"] == order["total"]
    text = pdf_text(download(admin, order["reference"], note["id"]))
    assert f"Gutschrift {note['number']}" in text
    assert f"Korrigiert Rechnung {invoice['number']}" in text and "Kunde storniert" in text
    assert "Teekanne Gusseisen" in text and f"Total CHF {order['total']}" in text
    # the invoice itself is untouched
    assert download(admin, order["reference"], invoice["id"]) == invoice_bytes


def test_refunds_are_credited_once_each_and_never_beyond_the_invoice(
    admin, profile_set, place, service_config, wait_until, settle
):
    profile_set()
    order, [invoice] = place(language="en")
    reference = order["reference"]
    dispatch = event_dispatcher(service_config)

    def refund_event(status, refunded):
        return {
            "event_id": uuid.uuid4().hex,
            "event_type": "payment_status_changed",
            "order_reference": reference,
            "status": status,
            "previous_status": "paid",
            "sequence": 5,
            "actor": None,
            "reason": "Returned",
            "payment": {"order_reference": reference, "refunded_amount": refunded, "currency": "CHF"},
        }

    partial = refund_event("partially_refunded", "20.00")
    dispatch("payments", "payment_status_changed", partial)
    first = wait_until(
        lambda: len(_documents(admin, reference)) == 2 and _documents(admin, reference)[1],
        timeout=30,
        message="the first credit note",
    )
    assert first["amount"] == "20.00" and first["corrects"] == invoice["number"]
    text = pdf_text(download(admin, reference, first["id"]))
    assert f"Credit note {first['number']}" in text and "Total CHF 20.00" in text

    dispatch("payments", "payment_status_changed", partial)  # the same event again
    dispatch("payments", "payment_status_changed", refund_event("refunded", order["total"]))
    second = wait_until(
        lambda: len(_documents(admin, reference)) == 3 and _documents(admin, reference)[2],
        timeout=30,
        message="the second credit note",
    )
    assert Decimal(second["amount"]) == Decimal(order["total"]) - Decimal("20.00")
    assert _credit_number(second) > _credit_number(first)

    # everything is credited: a cancellation now adds no third note
    assert admin.post(f"/api/v1/orders/{reference}/cancel", json={}).status_code == 200
    settle()
    assert [d["kind"] for d in _documents(admin, reference)] == ["invoice", "credit_note", "credit_note"]


def test_credit_note_numbers_have_no_gaps(admin, profile_set, place, wait_until):
    profile_set()
    numbers = []
    for _ in range(3):
        order, _ = place()
        assert admin.post(f"/api/v1/orders/{order['reference']}/cancel", json={}).status_code == 200
        note = wait_until(
            lambda: len(_documents(admin, order["reference"])) == 2 and _documents(admin, order["reference"])[1],
            timeout=30,
            message="the credit note",
        )
        numbers.append(_credit_number(note))
    assert numbers == list(range(numbers[0], numbers[0] + 3))


def test_a_part_credit_splits_the_tax_by_rate_and_adds_up():
    rows = [
        {"rate": "8.10", "net": "107.40", "tax": "8.70", "gross": "116.10"},
        {"rate": "2.60", "net": "10.00", "tax": "0.26", "gross": "10.26"},
    ]
    split = partial_breakdown(rows, Decimal("20.00"), Decimal("126.36"))
    assert sum(Decimal(row["gross"]) for row in split) == Decimal("20.00")
    assert [row["rate"] for row in split] == ["8.10", "2.60"]
    for row in split:
        assert Decimal(row["net"]) + Decimal(row["tax"]) == Decimal(row["gross"])
