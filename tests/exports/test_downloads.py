"""Streamed XML and CSV downloads from the export copy, over the service's own HTTP listener."""

import csv
import io
from datetime import datetime, timedelta, timezone

from lxml import etree
from sqlalchemy import select

from exports import serialize
from exports.models import infrastructure
from tests.support.drain import drain

from .conftest import SYNTHETIC, address, order_doc, wait_until

NS = {"o": serialize.NS}

HOSTILE = [
    "<script>alert('x')</script> & \"quotes\" 'apostrophes'",
    "]]> <![CDATA[ not cdata ]]> &amp; &lt; &#0; &#x1F;",
    "Zürich – Genève – Mühlebachstraße",
    "東京都千代田区 北京市 서울특별시",
    "مرحبا بالعالم שלום עולם",  # right-to-left scripts
    "😀 👩‍👩‍👧 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u200b zero width",
    "line one\r\nline two\ttabbed\rcarriage",
    '=HYPERLINK("http://evil.example")',
    "@SUM(1+1)",
    "ctrl \x00 nul \x01 \x08 \x0b \x0c \x1b esc \x1f \ufffe \uffff end",
]
CONTROLS = "\x00\x01\x08\x0b\x0c\x1b\x1f\ufffe\uffff"


def expected_xml_text(value):
    return "".join("\ufffd" if ch in CONTROLS else ch for ch in value)


def hostile_order(reference, index, text, **overrides):
    return order_doc(
        reference,
        customer_id=SYNTHETIC + 900000 + index,
        customer={"id": SYNTHETIC + 900000 + index, "email": f"h{index}@example.com", "name": text[:201]},
        billing_address=address(first_name=text[:100], company=text[:150], street=text[:200], city=text[:100]),
        shipping_address=address(last_name=text[:100], phone=text[:40]),
        lines=[
            {
                "position": 1,
                "article_number": text[:64],
                "name": text[:255],
                "quantity": 1,
                "unit_price": "10.00",
                "line_total": "10.00",
            }
        ],
        subtotal="10.00",
        shipping_cost="0.00",
        total="10.00",
        tracking_number=text[:100],
        **overrides,
    )


def parse_and_validate(body):
    root = etree.fromstring(body)
    schema = serialize.xml_schema()
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
    return root


def test_xml_export_of_hostile_text_is_valid_and_faithful(feed, fetch, unique):
    docs = [hostile_order(f"H{unique}-{i}", i, text) for i, text in enumerate(HOSTILE)]
    feed(*docs)

    response = fetch("orders.xml", {"q": f"H{unique}-"})

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.headers.get("Transfer-Encoding") == "chunked"  # streamed, not buffered
    root = parse_and_validate(response.content)
    assert root.get("kind") == "orders"
    orders = root.findall("o:order", NS)
    assert len(orders) == len(HOSTILE)
    assert root.find("o:end", NS).get("count") == str(len(HOSTILE))
    by_reference = {order.get("reference"): order for order in orders}
    for doc, text in zip(docs, HOSTILE, strict=True):
        order = by_reference[doc["reference"]]
        assert order.findtext("o:customer/o:name", namespaces=NS) == expected_xml_text(text[:201])
        assert order.findtext("o:billing_address/o:street", namespaces=NS) == expected_xml_text(text[:200])
        assert order.findtext("o:lines/o:line/o:name", namespaces=NS) == expected_xml_text(text[:255])
        assert order.findtext("o:shipping_address/o:phone", namespaces=NS) == expected_xml_text(text[:40])
        assert order.findtext("o:totals/o:total", namespaces=NS) == "10.00"
        assert order.findtext("o:invoice_number", namespaces=NS) == doc["invoice_number"]


def test_csv_export_is_what_spreadsheets_expect(feed, fetch, unique):
    docs = [hostile_order(f"C{unique}-{i}", i, text) for i, text in enumerate(HOSTILE)]
    feed(*docs)

    response = fetch("orders.csv", {"q": f"C{unique}-"})

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["X-OMS-CSV-Delimiter"] == ";"
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert tuple(rows[0]) == serialize.ORDER_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(records) == len(HOSTILE)  # one line each
    by_reference = {record["reference"]: record for record in records}
    for doc, raw in zip(docs, HOSTILE, strict=True):
        record = by_reference[doc["reference"]]
        expected = expected_xml_text(raw[:255])
        if expected.startswith(("=", "+", "-", "@")):
            expected = "'" + expected  # opens as text, not as a formula
        assert record["line_name"] == expected
        assert record["total"] == "10.00" and record["line_unit_price"] == "10.00"
        assert record["customer_id"] == str(doc["customer"]["id"])


def test_filters_of_the_order_list_apply(feed, dispatch, copied, fetch, unique):
    base = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)
    docs = [
        order_doc(f"F{unique}-1", customer_id=SYNTHETIC + 7001, status="new", created_at=base),
        order_doc(f"F{unique}-2", customer_id=SYNTHETIC + 7001, status="shipped", created_at=base + timedelta(days=1)),
        order_doc(f"F{unique}-3", customer_id=SYNTHETIC + 7002, status="shipped", created_at=base + timedelta(days=5)),
        order_doc(
            f"F{unique}-4", customer_id=SYNTHETIC + 7002, status="cancelled", created_at=base + timedelta(days=9)
        ),
    ]
    feed(*docs)
    dispatch(
        None, "payment_status_changed", source="payments", order_reference=f"F{unique}-3", status="paid", sequence=5
    )

    def copied_paid():
        return fetch("orders.xml", {"q": f"F{unique}-", "payment_status": "paid"})

    def references(params):
        response = fetch("orders.xml", {"q": f"F{unique}-", **params})
        assert response.status_code == 200, response.text
        root = parse_and_validate(response.content)
        return sorted(order.get("reference") for order in root.findall("o:order", NS))

    wait_until(lambda: b"F" + unique.encode() + b"-3" in copied_paid().content, message="payment status applied")

    assert references({}) == [f"F{unique}-{i}" for i in (1, 2, 3, 4)]
    assert references({"status": "shipped"}) == [f"F{unique}-2", f"F{unique}-3"]
    assert references({"status": ["new", "cancelled"]}) == [f"F{unique}-1", f"F{unique}-4"]
    assert references({"payment_status": "paid"}) == [f"F{unique}-3"]
    assert references({"customer_id": SYNTHETIC + 7002}) == [f"F{unique}-3", f"F{unique}-4"]
    assert references({"created_from": "2024-03-11", "created_to": "2024-03-15"}) == [f"F{unique}-2", f"F{unique}-3"]
    assert references({"q": f"F{unique}-4"}) == [f"F{unique}-4"]
    assert references({"q": f"RE-F{unique}-2"}) == [f"F{unique}-2"]  # invoice number prefix


def test_a_bad_filter_is_a_problem_before_any_byte(fetch):
    response = fetch("orders.xml", {"status": "lost", "created_from": "yesterday"})
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body["errors"]) >= {"status.0", "created_from"}
    assert fetch("orders.xml", {"colour": "red"}).json()["errors"] == {"colour": ["Unknown field."]}
    assert fetch("invoices.xml").status_code == 404


def test_since_seq_gives_each_change_once(feed, fetch, unique):
    first = feed(order_doc(f"S{unique}-1"), order_doc(f"S{unique}-2"))
    response = fetch("orders.xml", {"q": f"S{unique}-", "since_seq": 0})
    root = parse_and_validate(response.content)
    watermark = int(response.headers["X-OMS-Watermark"])
    assert int(root.get("watermark")) == watermark
    assert sorted(o.get("reference") for o in root.findall("o:order", NS)) == [d["reference"] for d in first]

    feed(order_doc(f"S{unique}-2", version=2, status="shipped"), order_doc(f"S{unique}-3"))
    response = fetch("orders.xml", {"q": f"S{unique}-", "since_seq": watermark})
    root = parse_and_validate(response.content)
    changed = {o.get("reference"): o.findtext("o:status", namespaces=NS) for o in root.findall("o:order", NS)}
    assert changed == {f"S{unique}-2": "shipped", f"S{unique}-3": "new"}

    again = fetch("orders.xml", {"q": f"S{unique}-", "since_seq": int(response.headers["X-OMS-Watermark"])})
    assert parse_and_validate(again.content).findall("o:order", NS) == []


def test_changed_since_filters_by_update_time(feed, fetch, unique):
    old = datetime(2020, 1, 1, tzinfo=timezone.utc)
    feed(order_doc(f"T{unique}-old", created_at=old), order_doc(f"T{unique}-new"))
    response = fetch("orders.xml", {"q": f"T{unique}-", "changed_since": "2021-01-01T00:00:00+00:00"})
    root = parse_and_validate(response.content)
    assert [o.get("reference") for o in root.findall("o:order", NS)] == [f"T{unique}-new"]


def test_newest_version_wins_and_redelivery_changes_nothing(dispatch, copied, call, exports_db, unique, amqp_vhost):
    reference = f"V{unique}"
    dispatch(order_doc(reference, version=3, status="shipped"), "order_shipped")
    copied(reference, 3)
    seq = call("get_order_copy", reference)["change_seq"]
    older = dispatch(order_doc(reference, version=2, status="in_progress"), "order_status_changed")
    oldest = dispatch(order_doc(reference, version=1, status="new"), "order_created")
    wait_until(lambda: handled(exports_db, older, oldest), message="late events handled")
    dispatch(order_doc(reference, version=4, status="completed"), "order_status_changed", event_id=older)  # redelivery
    drain(amqp_vhost, ("exports",))  # the redelivery was consumed: had it applied, it shows now
    row = call("get_order_copy", reference)
    assert row["version"] == 3 and row["document"]["status"] == "shipped"
    assert row["change_seq"] == seq


def handled(source, *event_ids):
    table = infrastructure.processed_events
    with source.read_session() as session:
        found = session.execute(select(table.c.event_id).where(table.c.event_id.in_(event_ids))).scalars().all()
    return len(found) == len(event_ids)


def test_customers_export_xml_and_csv(feed, fetch, unique):
    customer_id = SYNTHETIC + 800000 + int(unique[:5], 16) % 100000
    feed(
        order_doc(
            f"K{unique}-1",
            customer_id=customer_id,
            customer={"id": customer_id, "email": f"k{unique.lower()}@example.com", "name": "Zoë <O'Brien> & Co"},
        )
    )
    response = fetch("customers.xml", {"q": f"k{unique.lower()}@"})
    root = parse_and_validate(response.content)
    customers = root.findall("o:customer", NS)
    assert [(c.get("id"), c.findtext("o:name", namespaces=NS)) for c in customers] == [
        (str(customer_id), "Zoë <O'Brien> & Co")
    ]
    csv_body = fetch("customers.csv", {"q": f"k{unique.lower()}@"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_body, newline=""), delimiter=";"))
    assert rows[0] == list(serialize.CUSTOMER_COLUMNS)
    assert rows[1][:4] == [str(customer_id), f"k{unique.lower()}@example.com", "Zoë <O'Brien> & Co", "de"]


def test_schema_is_served(fetch, call):
    response = fetch("schema.xsd")
    assert response.status_code == 200
    etree.XMLSchema(etree.fromstring(response.content))
    assert call("get_schema")["text"].encode() == response.content
