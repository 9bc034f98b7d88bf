"""Version 2's writers and VAT rules without broker or database: currency-correct amounts, valid
documents for any currency, customers in the v2 namespace, orders without VAT data."""

import pytest
from lxml import etree

from exports import serialize, serialize_v2, taxes
from oms_contracts.events import OrderTaxEventSchema

from .conftest import order_doc, taxed_order_doc

V2 = {"o": serialize_v2.NS}


def copied(doc):
    """The record version 2 writes for ``doc``: as the copy stores it, then laid over the document."""
    return taxes.with_copy(doc, taxes.copy_values(OrderTaxEventSchema().load(doc)))


def document(kind, records):
    body = b"".join(serialize_v2.xml_chunks(kind, iter(records), "2026-01-01T00:00:00+00:00", watermark=1))
    root = etree.fromstring(body)
    assert serialize_v2.xml_schema().validate(root), serialize_v2.xml_schema().error_log
    return root


@pytest.mark.parametrize(
    "value,currency,expected",
    [
        ("8.00", "CHF", "8.00"),
        ("8", "EUR", "8.00"),
        ("1000.00", "JPY", "1000"),
        ("1.23", "KWD", "1.230"),
        ("10.50", "JPY", "10.5"),  # never rounded: it keeps the places it really has
        ("-0.26", "CHF", "-0.26"),
        ("abc", "CHF", "abc"),
        (None, "CHF", ""),
    ],
)
def test_amounts_have_their_currencys_decimals_and_are_never_rounded(value, currency, expected):
    assert taxes.amount_text(value, currency) == expected


def test_a_yen_order_is_written_without_decimals_and_validates():
    doc = taxed_order_doc(
        "JPY-1",
        currency="JPY",
        lines=[
            {
                "position": 1,
                "article_number": "A",
                "name": "Tee",
                "quantity": 1,
                "unit_price": "1000.00",
                "line_total": "1000.00",
                "tax_rate": "8.10",
            }
        ],
        subtotal="1000.00",
        shipping_cost="0.00",
        total="1000.00",
        tax_breakdown=[{"rate": "8.10", "net": "925.00", "tax": "75.00", "gross": "1000.00"}],
    )
    [order] = document("orders", [copied(doc)]).findall("o:order", V2)
    assert order.findtext("o:totals/o:total", namespaces=V2) == "1000"
    assert order.findtext("o:tax_breakdown/o:row/o:tax", namespaces=V2) == "75"
    [row] = list(serialize_v2.order_rows(copied(doc)))
    assert row[-4:] == ["8.10", "true", "CH", "8.10:925:75:1000"]


def test_net_prices_and_a_zero_rate_are_written_as_they_are():
    doc = taxed_order_doc(
        "NET-1",
        prices_include_tax=False,
        tax_breakdown=[
            {"rate": "8.10", "net": "116.10", "tax": "9.40", "gross": "125.50"},
            {"rate": "0.00", "net": "10.26", "tax": "0.00", "gross": "10.26"},
        ],
    )
    doc["lines"][1]["tax_rate"] = "0"
    [order] = document("orders", [copied(doc)]).findall("o:order", V2)
    assert order.find("o:tax_breakdown", V2).get("prices_include_tax") == "false"
    assert [line.findtext("o:tax_rate", namespaces=V2) for line in order.iterfind("o:lines/o:line", V2)] == [
        "8.10",
        "0.00",
    ]


def test_orders_without_vat_data_and_customers_validate_in_v2():
    records = [taxes.with_copy(order_doc("OLD-1"), dict.fromkeys(taxes.COLUMNS)), copied(order_doc("OLD-2"))]
    root = document("orders", records)
    assert root.find(".//o:tax_breakdown", V2) is None and root.find(".//o:tax_rate", V2) is None
    customers = document(
        "customers", [{"id": 7, "email": "a@example.com", "name": "A", "updated_at": "2026-01-01T00:00:00+00:00"}]
    )
    assert customers.get("kind") == "customers" and customers.find("o:customer", V2).get("id") == "7"
    assert serialize_v2.CUSTOMER_COLUMNS == serialize.CUSTOMER_COLUMNS


def test_check_exportable_in_v2_refuses_what_its_schema_would_refuse():
    serialize_v2.check_exportable(copied(taxed_order_doc("1")))
    good = copied(taxed_order_doc("1"))
    for bad in (
        {**good, "tax_country": "ch"},
        {**good, "tax_breakdown": [{"rate": "8.10", "net": "x", "tax": "1.00", "gross": "2.00"}]},
        {**good, "lines": [{**good["lines"][0], "tax_rate": "8.1"}, good["lines"][1]]},
        {**good, "total": "1.5.0"},
    ):
        with pytest.raises(serialize.NotExportable):
            serialize_v2.check_exportable(bad)


def test_the_copy_values_of_an_order_of_the_older_shape_are_all_none():
    assert taxes.copy_values(OrderTaxEventSchema().load(order_doc("1"))) == dict.fromkeys(taxes.COLUMNS)
    values = taxes.copy_values(OrderTaxEventSchema().load(taxed_order_doc("1")))
    assert values["line_tax_rates"] == ["8.10", "2.60"] and values["prices_include_tax"] is True
