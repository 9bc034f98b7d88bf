"""Exports of picked orders: the ``reference`` filter streams exactly those orders (XML and CSV);
more references than it takes are refused naming the field, never cut short."""

import csv
import io

from lxml import etree

from exports import serialize
from oms_contracts.exports import MAX_REFERENCES

from .conftest import order_doc

NS = {"o": serialize.NS}


def test_picked_references_export_exactly_those_orders(feed, fetch, unique):
    docs = feed(*(order_doc(f"R{unique}-{i}") for i in range(4)))
    picked = [docs[0]["reference"], docs[2]["reference"], f"R{unique}-missing"]
    xml = fetch("orders.xml", [("reference", picked[0]), ("reference", f"{picked[1]},{picked[2]}")])
    assert xml.status_code == 200, xml.text
    root = etree.fromstring(xml.content)
    assert sorted(order.get("reference") for order in root.findall("o:order", NS)) == sorted(picked[:2])
    assert root.find("o:end", NS).get("count") == "2"
    text = fetch("orders.csv", {"reference": picked[:2]})
    assert text.status_code == 200, text.text
    rows = list(csv.DictReader(io.StringIO(text.content.decode("utf-8-sig")), delimiter=";"))
    assert {row["reference"] for row in rows} == set(picked[:2])


def test_references_combine_with_the_other_filters(feed, fetch, unique):
    docs = feed(order_doc(f"C{unique}-1", status="new"), order_doc(f"C{unique}-2", status="shipped"))
    response = fetch(
        "orders.xml", [("reference", docs[0]["reference"]), ("reference", docs[1]["reference"]), ("status", "shipped")]
    )
    root = etree.fromstring(response.content)
    assert [order.get("reference") for order in root.findall("o:order", NS)] == [docs[1]["reference"]]


def test_too_many_references_are_refused_naming_the_field(fetch):
    response = fetch("orders.csv", {"reference": ",".join(f"X{i}" for i in range(MAX_REFERENCES + 1))})
    assert response.status_code == 422, response.text[:300]
    assert "reference" in response.json()["errors"]
    bad = fetch("orders.csv", {"reference": "x" * 41})
    assert bad.status_code == 422 and "reference.0" in bad.json()["errors"]
