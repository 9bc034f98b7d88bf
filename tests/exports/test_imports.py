"""Import of export XML: validated first, all or nothing, safe against XML attacks."""

import base64
import uuid

import pytest
from lxml import etree

from exports import imports, serialize
from exports.imports import ImportRejected
from oms_common.problems import ValidationFailed

from .conftest import ADMIN

NS = {"o": serialize.NS}
LIMIT = 5 * 1024 * 1024


class Spy:
    """A create_order that records calls (and fails on a chosen call)."""

    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def __call__(self, body, actor, key):
        self.calls.append((body, actor, key))
        if self.fail_on == len(self.calls):
            raise ValidationFailed("Invalid input: lines", {"lines": ["No."]})
        return {"order": {"reference": str(1000 + len(self.calls)), "invoice_number": None}, "replayed": False}


def order_xml(reference="1", total="55.40", status="new", name="Anna Muster", line_total="39.90"):
    return f"""
  <order reference="{reference}" version="2">
    <invoice_number external="false">RE-{reference}</invoice_number>
    <status>{status}</status><payment_status>unpaid</payment_status><payment_method>invoice</payment_method>
    <currency>CHF</currency><language>de</language>
    <created_at>2026-01-02T10:00:00+00:00</created_at><updated_at>2026-01-02T10:05:00+00:00</updated_at>
    <customer id="5"><email>anna@example.com</email><name>{name}</name></customer>
    <billing_address><first_name>Anna</first_name><last_name>Muster</last_name><company/>
      <street>Bahnhofstrasse 1</street><postal_code>8001</postal_code><city>Zürich</city><country>CH</country>
      <phone/></billing_address>
    <shipping_address><first_name>Anna</first_name><last_name>Muster</last_name><company/>
      <street>Bahnhofstrasse 1</street><postal_code>8001</postal_code><city>Zürich</city><country>CH</country>
      <phone/></shipping_address>
    <lines>
      <line position="1"><article_number>A-100</article_number><name>Teapot</name><quantity>2</quantity>
        <unit_price>19.95</unit_price><line_total>{line_total}</line_total></line>
      <line position="2"><article_number>B-200</article_number><name>Green tea</name><quantity>1</quantity>
        <unit_price>7.50</unit_price><line_total>7.50</line_total></line>
    </lines>
    <totals><subtotal>47.40</subtotal><shipping_cost>8.00</shipping_cost><total>{total}</total></totals>
  </order>"""


def document(*orders, count=None, prolog="", kind="orders"):
    count = len(orders) if count is None else count
    return (
        f"""<?xml version="1.0" encoding="UTF-8"?>{prolog}
<export xmlns="{serialize.NS}" kind="{kind}" schema_version="1" generated_at="2026-01-03T00:00:00+00:00">"""
        + "".join(orders)
        + f'\n  <end count="{count}"/>\n</export>\n'
    ).encode("utf-8")


def run_import(data, spy=None, max_bytes=LIMIT):
    return imports.import_orders(data, spy or Spy(), max_bytes, 1000)


def test_a_valid_document_creates_one_order_each():
    spy = Spy()
    report = run_import(document(order_xml("1"), order_xml("2", name="Maria de la Cruz")), spy)
    assert report["status"] == "imported" and report["count"] == 2
    body, actor, key = spy.calls[1]
    assert body["customer"] == {
        "email": "anna@example.com",
        "first_name": "Maria de la",
        "last_name": "Cruz",
        "language": "de",
    }
    assert body["lines"][0] == {"article_number": "A-100", "name": "Teapot", "quantity": 2, "unit_price": "19.95"}
    assert body["shipping_cost"] == "8.00" and body["submit"] is True
    assert "reference 2" in actor["origin"]
    assert key.endswith(":2") and len(key) <= 200


XXE = """
<!DOCTYPE export [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>"""
LAUGHS = """
<!DOCTYPE export [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""
PARAMETER_ENTITY = """
<!DOCTYPE export [
  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">
  %remote;
]>"""


@pytest.mark.parametrize(
    "prolog, entity",
    [(XXE, "&xxe;"), (LAUGHS, "&lol9;"), (PARAMETER_ENTITY, "x")],
    ids=["xxe", "billion-laughs", "parameter-entity"],
)
def test_entity_attacks_are_rejected_with_nothing_written(prolog, entity):
    spy = Spy()
    with pytest.raises(ImportRejected) as raised:
        run_import(document(order_xml("1", name=f"Anna {entity}"), prolog=prolog), spy, max_bytes=LIMIT)
    assert spy.calls == []
    problem = raised.value.as_dict()
    assert problem["status"] == 422
    assert "DTD" in problem["errors"]["document"][0]
    assert "root:" not in str(problem)


def test_a_dtd_hidden_behind_a_long_comment_is_still_rejected():
    filler = "<!--" + "x" * 100_000 + "-->"
    spy = Spy()
    with pytest.raises(ImportRejected) as raised:
        run_import(document(order_xml("1", name="Anna &xxe;"), prolog=filler + XXE), spy)
    assert spy.calls == []
    assert "document" in raised.value.errors


def test_the_same_attacks_in_utf16_are_rejected():
    data = (
        document(order_xml("1", name="Anna &xxe;"), prolog=XXE)
        .decode()
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
        .encode("utf-16")
    )
    spy = Spy()
    with pytest.raises(ImportRejected) as raised:
        run_import(data, spy)
    assert spy.calls == [] and "DTD" in raised.value.errors["document"][0]


def test_huge_and_deep_documents_are_rejected_before_anything_is_written():
    spy = Spy()
    with pytest.raises(ImportRejected) as raised:
        run_import(document(order_xml("1")) + b" " * 2000, spy, max_bytes=2000)
    assert "limit" in raised.value.errors["document"][0]
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    with pytest.raises(ImportRejected) as raised:
        run_import(deep, spy)
    assert "well-formed" in raised.value.detail
    assert spy.calls == []


def test_all_or_nothing_with_a_report_of_each_rejected_order():
    spy = Spy()
    data = document(
        order_xml("1"),
        order_xml("2", total="99.99"),
        order_xml("3", status="lost"),
        order_xml("4", line_total="1.00"),
        order_xml("5"),
    )
    with pytest.raises(ImportRejected) as raised:
        run_import(data, spy)
    errors = raised.value.errors
    assert spy.calls == []
    assert set(errors) == {"order[2] (reference 2)", "order[3] (reference 3)", "order[4] (reference 4)"}
    assert any("totals.total" in message for message in errors["order[2] (reference 2)"])
    assert any("status" in message and "lost" in message for message in errors["order[3] (reference 3)"])
    assert any("lines.1.line_total" in message for message in errors["order[4] (reference 4)"])
    assert "3 of 5 orders rejected" in raised.value.detail


def test_incomplete_documents_are_rejected():
    spy = Spy()
    with pytest.raises(ImportRejected) as raised:
        run_import(document(order_xml("1"), order_xml("2"), count=3), spy)
    assert "incomplete" in raised.value.errors["document"][0]
    truncated = document(order_xml("1"), order_xml("2"))[:-200]
    with pytest.raises(ImportRejected) as raised:
        run_import(truncated, spy)
    assert "well-formed" in raised.value.detail
    with pytest.raises(ImportRejected):
        run_import(document(order_xml("1"), order_xml("1")), spy)  # the same reference twice
    with pytest.raises(ImportRejected) as raised:
        run_import(document(kind="customers"), spy)
    assert "customers" in raised.value.errors["document"][0]
    assert spy.calls == []


def test_a_failure_of_the_orders_service_midway_is_reported_with_what_was_created():
    spy = Spy(fail_on=2)
    with pytest.raises(ValidationFailed) as raised:
        run_import(document(order_xml("1"), order_xml("2"), order_xml("3")), spy)
    assert raised.value.errors["created"] == ["1 -> 1001"]
    assert "Send the same document again" in raised.value.detail
    assert len(spy.calls) == 2


# ---------------------------------------------------------------- through the services


def customer_order(email, **overrides):
    data = {
        "customer": {"email": email, "first_name": "Zoë <b>", "last_name": "O'Brien & Söhne", "language": "fr"},
        "billing_address": {
            "first_name": "Zoë",
            "last_name": "O'Brien",
            "company": ']]> & <Co> "AG"',
            "street": "Rue du Marché 3 – Bâtiment B",
            "postal_code": "1204",
            "city": "Genève",
            "country": "CH",
            "phone": "+41 22 000 00 00",
        },
        "shipping_address": {
            "first_name": "東京",
            "last_name": "太郎",
            "street": "千代田区 1-1",
            "postal_code": "100-0001",
            "city": "東京都",
            "country": "JP",
        },
        "lines": [
            {"article_number": "=1+1", "name": "Tee «Spezial» مرحبا 😀", "quantity": 3, "unit_price": "12.35"},
            {"article_number": "B-2", "name": "Tasse & Untertasse", "quantity": 1, "unit_price": "0.05"},
        ],
        "shipping_cost": "7.90",
        "currency": "EUR",
        "payment_method": "invoice",
    }
    data.update(overrides)
    return data


BUSINESS_FIELDS = (
    "currency",
    "payment_method",
    "language",
    "subtotal",
    "shipping_cost",
    "total",
    "billing_address",
    "shipping_address",
)


def comparable(order):
    return {
        **{key: order[key] for key in BUSINESS_FIELDS},
        "customer": order["customer"],
        "lines": [
            {k: line[k] for k in ("position", "article_number", "name", "quantity", "unit_price", "line_total")}
            for line in order["lines"]
        ],
    }


def test_export_then_import_round_trip_gives_equal_orders(call, call_orders, copied, fetch):
    email = f"roundtrip-{uuid.uuid4().hex[:10]}@example.com"
    originals = [
        call_orders("create_order", customer_order(email, payment_method=method), actor=ADMIN)["order"]
        for method in ("invoice", "prepayment", "card")
    ]
    for order in originals:
        copied(order["reference"])
    customer_id = originals[0]["customer"]["id"]

    exported = fetch("orders.xml", {"customer_id": customer_id})
    assert exported.status_code == 200
    root = etree.fromstring(exported.content)
    assert serialize.xml_schema().validate(root)
    assert len(root.findall("o:order", NS)) == 3

    report = call("import_orders", base64.b64encode(exported.content).decode(), actor=ADMIN)

    assert report["status"] == "imported" and report["count"] == 3
    mapping = {entry["source_reference"]: entry["reference"] for entry in report["orders"]}
    assert set(mapping) == {order["reference"] for order in originals}
    for original in originals:
        imported = call_orders("get_order", mapping[original["reference"]])
        assert comparable(imported) == comparable(original)
        assert imported["reference"] != original["reference"]
        history = call_orders("order_history", imported["reference"])
        assert f"reference {original['reference']}" in history[0]["origin"]

    # the imported orders reach the export copy too, and export to the same content
    for reference in mapping.values():
        copied(reference)
    again = etree.fromstring(fetch("orders.xml", {"customer_id": customer_id}).content)
    by_reference = {element.get("reference"): imports.read_order(element) for element in again.findall("o:order", NS)}
    for source_reference, reference in mapping.items():
        assert comparable(by_reference[reference]) == comparable(by_reference[source_reference])

    # sending the same document again creates nothing new
    replay = call("import_orders", base64.b64encode(exported.content).decode(), actor=ADMIN)
    assert [entry["reference"] for entry in replay["orders"]] == [mapping[o["reference"]] for o in originals]
    assert all(entry["replayed"] for entry in replay["orders"])
    assert call_orders("customer_orders", customer_id)["total"] == 6


def test_hostile_import_through_the_service_writes_nothing(call, call_orders):
    email = f"hostile-{uuid.uuid4().hex[:10]}@example.com"
    data = document(order_xml("1", name="Anna &xxe;").replace("anna@example.com", email), prolog=XXE)
    with pytest.raises(ImportRejected) as raised:
        call("import_orders", base64.b64encode(data).decode(), actor=ADMIN)
    assert "DTD" in raised.value.errors["document"][0]
    assert call_orders("list_customers", {"q": email})["total"] == 0
    with pytest.raises(Exception) as raised:
        call("import_orders", "%%% not base64", actor=ADMIN)
    assert raised.value.errors == {"document": ["Not valid base64."]}


def test_dry_run_validates_without_writing(call, call_orders):
    email = f"dry-run-{uuid.uuid4().hex[:10]}@example.com"
    xml = order_xml("1").replace("anna@example.com", email)
    report = call("import_orders", base64.b64encode(document(xml)).decode(), dry_run=True)
    assert report["status"] == "valid" and report["count"] == 1 and report["orders"] == []
    # the orders service got nothing: no customer of that e-mail, so no order either
    assert call_orders("list_customers", {"q": email})["total"] == 0

    # the same document without dry_run does write, so the check above can see a write
    report = call("import_orders", base64.b64encode(document(xml)).decode())
    assert report["status"] == "imported" and report["count"] == 1
    assert call_orders("list_customers", {"q": email})["total"] == 1


def test_what_the_orders_service_would_refuse_is_caught_before_writing(call):
    """The checks mirror the orders service's rules (here: a language it does not know, a line
    break in a street), so such a document is refused as a whole instead of failing halfway."""
    bad = order_xml("1").replace("<language>de</language>", "<language>xx</language>")
    multiline = order_xml("3").replace("Bahnhofstrasse 1", "Bahnhofstrasse 1&#10;Hinterhaus")
    with pytest.raises(ImportRejected) as raised:
        call("import_orders", base64.b64encode(document(order_xml("2"), bad, multiline)).decode())
    assert set(raised.value.errors) == {"order[2] (reference 1)", "order[3] (reference 3)"}
    assert any("language" in message for message in raised.value.errors["order[2] (reference 1)"])
    assert any("billing_address.street" in message for message in raised.value.errors["order[3] (reference 3)"])
