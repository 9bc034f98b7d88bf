"""Version 2 of the export format: each line's VAT rate and the order's breakdown per rate, from the
export copy fed by order events; version 1 of the same orders stays as it was; the version is chosen
by ``schema_version`` (422 naming it otherwise); rows without VAT data export in version 2 too."""

import csv
import io
import re

import pytest
from lxml import etree
from marshmallow import ValidationError
from sqlalchemy import select

from exports import handlers, serialize, serialize_v2
from exports.models import ExportOrder
from oms_common.problems import ValidationFailed

from .conftest import order_doc, taxed_order_doc

V1 = {"o": serialize.NS}
V2 = {"o": serialize_v2.NS}
BREAKDOWN = [
    {"rate": "8.10", "net": "107.40", "tax": "8.70", "gross": "116.10"},
    {"rate": "2.60", "net": "10.00", "tax": "0.26", "gross": "10.26"},
]


def served_schema(fetch, version):
    response = fetch("schema.xsd", {"schema_version": version})
    assert response.status_code == 200, response.text
    return etree.XMLSchema(etree.fromstring(response.content))


def valid(body, schema):
    root = etree.fromstring(body)
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
    return root


def breakdown_of(order):
    return [
        {field: row.findtext(f"o:{field}", namespaces=V2) for field in ("rate", "net", "tax", "gross")}
        for row in order.findall("o:tax_breakdown/o:row", V2)
    ]


def csv_records(response):
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_v2_carries_the_rates_and_the_breakdown_of_an_order_with_two_rates(feed, fetch, unique):
    [doc] = feed(taxed_order_doc(f"VAT{unique}"))

    response = fetch("orders.xml", {"q": doc["reference"], "schema_version": 2})

    root = valid(response.content, served_schema(fetch, 2))
    assert root.get("schema_version") == "2" and root.tag == f"{{{serialize_v2.NS}}}export"
    [order] = root.findall("o:order", V2)
    assert [line.findtext("o:tax_rate", namespaces=V2) for line in order.findall("o:lines/o:line", V2)] == [
        "8.10",
        "2.60",
    ]
    taxes = order.find("o:tax_breakdown", V2)
    assert taxes.get("prices_include_tax") == "true" and taxes.get("country") == "CH"
    assert breakdown_of(order) == BREAKDOWN
    assert order.findtext("o:totals/o:total", namespaces=V2) == "126.36"


def test_v1_of_the_same_order_is_unchanged_and_has_no_tax(feed, fetch, unique):
    [doc] = feed(taxed_order_doc(f"VAT1{unique}"))

    default = fetch("orders.xml", {"q": doc["reference"]})
    chosen = fetch("orders.xml", {"q": doc["reference"], "schema_version": 1})

    for response in (default, chosen):
        root = valid(response.content, served_schema(fetch, 1))
        assert root.tag == f"{{{serialize.NS}}}export" and root.get("schema_version") == "1"
        assert not [element for element in root.iter() if "tax" in etree.QName(element).localname]
        # the order element is exactly what the v1 writer makes of the document the event carried
        [element] = re.findall(rb"<order .*?</order>", response.content)
        assert element == serialize.order_xml(doc).encode("utf-8")
    assert fetch("schema.xsd").content == serialize.SCHEMA_PATH.read_bytes()


def test_csv_v2_adds_the_tax_columns_at_the_end_and_keeps_the_v1_columns(feed, fetch, unique):
    [doc] = feed(taxed_order_doc(f"VATC{unique}"))

    v1_header, v1_rows = csv_records(fetch("orders.csv", {"q": doc["reference"]}))
    v2_header, v2_rows = csv_records(fetch("orders.csv", {"q": doc["reference"], "schema_version": "2"}))

    assert tuple(v1_header) == serialize.ORDER_COLUMNS
    assert tuple(v2_header) == serialize.ORDER_COLUMNS + (
        "line_tax_rate",
        "prices_include_tax",
        "tax_country",
        "tax_breakdown",
    )
    assert [{key: row[key] for key in v1_header} for row in v2_rows] == v1_rows
    assert [row["line_tax_rate"] for row in v2_rows] == ["8.10", "2.60"]
    for row in v2_rows:
        assert (row["prices_include_tax"], row["tax_country"]) == ("true", "CH")
        assert row["tax_breakdown"] == "8.10:107.40:8.70:116.10|2.60:10.00:0.26:10.26"


def test_an_invalid_schema_version_is_a_problem_naming_it(fetch, call):
    for name, value in (("orders.xml", "3"), ("orders.csv", "two"), ("customers.xml", "0"), ("schema.xsd", "1.5")):
        response = fetch(name, {"schema_version": value})
        assert response.status_code == 422, (name, value, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert list(response.json()["errors"]) == ["schema_version"]
        assert "Use 1 or 2" in response.json()["errors"]["schema_version"][0]
    with pytest.raises(ValidationFailed) as raised:
        call("get_schema", 7)
    assert list(raised.value.errors) == ["schema_version"]
    assert call("get_schema", 2)["namespace"] == serialize_v2.NS == "https://oms.example/ns/export/2"
    assert call("get_schema")["text"] == serialize.schema_text()
    assert fetch("oms-export-2.xsd").content == serialize_v2.SCHEMA_PATH.read_bytes()


def test_an_order_event_of_the_older_shape_exports_in_v2_without_tax(feed, fetch, call, exports_db, unique):
    [doc] = feed(order_doc(f"OLD{unique}"))  # no tax_rate, basis, country or breakdown at all

    with exports_db.read_session() as session:
        row = session.get(ExportOrder, doc["reference"])
        assert (row.prices_include_tax, row.tax_country, row.line_tax_rates, row.tax_breakdown) == (None,) * 4
    root = valid(fetch("orders.xml", {"q": doc["reference"], "schema_version": 2}).content, serialize_v2.xml_schema())
    [order] = root.findall("o:order", V2)
    assert order.find("o:tax_breakdown", V2) is None
    assert [line.find("o:tax_rate", V2) for line in order.findall("o:lines/o:line", V2)] == [None, None]
    _, rows = csv_records(fetch("orders.csv", {"q": doc["reference"], "schema_version": 2}))
    assert [(r["line_tax_rate"], r["prices_include_tax"], r["tax_country"], r["tax_breakdown"]) for r in rows] == [
        ("", "", "", "")
    ] * 2


def test_a_row_copied_before_the_tax_columns_exports_in_v2_with_what_the_copy_knows(feed, fetch, exports_db, unique):
    """A row as migration 0003 leaves it when the backfill found nothing usable in its document: the
    document may say more, version 2 writes only what the copy's columns know."""
    [doc] = feed(taxed_order_doc(f"PRE{unique}"))
    with exports_db.unit_of_work() as uow:
        row = uow.session.get(ExportOrder, doc["reference"])
        row.prices_include_tax = row.tax_country = row.line_tax_rates = row.tax_breakdown = None
        uow.commit()

    root = valid(fetch("orders.xml", {"q": doc["reference"], "schema_version": 2}).content, serialize_v2.xml_schema())
    [order] = root.findall("o:order", V2)
    assert order.find("o:tax_breakdown", V2) is None and order.find(".//o:tax_rate", V2) is None


def test_an_order_event_with_malformed_tax_data_is_refused_and_nothing_is_stored(exports_db, unique):
    reference = f"BAD{unique}"
    bad_rate = taxed_order_doc(reference)
    bad_rate["lines"][1]["tax_rate"] = "2.625"
    unbalanced = taxed_order_doc(reference, tax_breakdown=[{**BREAKDOWN[0], "tax": "8.71"}, BREAKDOWN[1]])
    for doc in (bad_rate, unbalanced):
        with pytest.raises(ValidationError):
            handlers.apply_order_event(exports_db, {"event_id": f"e-{reference}", "order": doc})
    with exports_db.read_session() as session:
        assert session.execute(select(ExportOrder).where(ExportOrder.reference == reference)).first() is None


def test_the_copy_keeps_the_tax_data_and_a_newer_version_replaces_it(feed, exports_db, unique):
    reference = f"NEW{unique}"
    feed(taxed_order_doc(reference))
    feed(
        taxed_order_doc(
            reference,
            version=2,
            prices_include_tax=False,
            tax_breakdown=[{"rate": "8.10", "net": "116.10", "tax": "9.40", "gross": "125.50"}, BREAKDOWN[1]],
        )
    )
    with exports_db.read_session() as session:
        row = session.get(ExportOrder, reference)
        assert row.version == 2 and row.prices_include_tax is False and row.tax_country == "CH"
        assert row.line_tax_rates == ["8.10", "2.60"]
        assert row.tax_breakdown[0] == {"rate": "8.10", "net": "116.10", "tax": "9.40", "gross": "125.50"}
