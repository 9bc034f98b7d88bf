"""The versioned events: what a consumer accepts, ignores and refuses."""

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from oms_contracts.events import (
    VERSIONS,
    CustomersMergedEventSchema,
    OrderEventSchema,
    OrderTaxEventSchema,
    PaymentStatusEventSchema,
    stamp,
)

ORDER_EVENT = {
    "event_id": "e1",
    "event_type": "order_shipped",
    "order": {"reference": "R-1", "status": "shipped"},
    "tracking_number": "99-1",
}
PAYMENT_EVENT = {"event_id": "e2", "order_reference": "R-1", "status": "paid", "sequence": 3}
MERGED_EVENT = {"event_id": "e3", "customer_id": 7, "into": 3}
SCHEMAS = [
    (OrderEventSchema, ORDER_EVENT),
    (PaymentStatusEventSchema, PAYMENT_EVENT),
    (CustomersMergedEventSchema, MERGED_EVENT),
]


@pytest.mark.parametrize("schema,event", SCHEMAS)
def test_an_event_written_before_versions_existed_is_read_as_version_1(schema, event):
    assert schema().load(event)["schema_version"] == 1


@pytest.mark.parametrize("schema,event", SCHEMAS)
def test_fields_a_producer_added_within_a_version_are_ignored(schema, event):
    loaded = schema().load({**event, "schema_version": 1, "loyalty_points": 12})

    assert "loyalty_points" not in loaded


@pytest.mark.parametrize("schema,event", SCHEMAS)
def test_a_newer_version_is_refused_naming_the_upgrade(schema, event):
    with pytest.raises(ValidationError) as raised:
        schema().load({**event, "schema_version": 2})

    message = raised.value.messages["schema_version"][0]
    assert "Version 2" in message and "upgrade" in message


def test_a_producer_stamps_the_version_of_the_event_it_writes():
    assert stamp("order_shipped", {"order": {}}) == {"order": {}, "schema_version": VERSIONS["order_shipped"]}
    with pytest.raises(KeyError):
        stamp("order_teleported", {})


def test_a_payment_event_names_a_status_every_service_knows():
    with pytest.raises(ValidationError) as raised:
        PaymentStatusEventSchema().load({**PAYMENT_EVENT, "status": "kinda_paid"})

    assert "status" in raised.value.messages


def test_the_customer_record_in_an_order_event_without_an_offset_is_utc():
    loaded = OrderEventSchema().load(
        {
            **ORDER_EVENT,
            "customer": {"id": 7, "email": "a@example.org", "name": "A", "updated_at": "2026-12-01T10:00:00"},
        }
    )

    assert loaded["customer"]["updated_at"].utcoffset().total_seconds() == 0


def test_the_vat_of_an_order_in_an_older_event_shape_loads_as_not_known():
    assert OrderTaxEventSchema().load(ORDER_EVENT["order"]) == {
        "tax_country": None,
        "prices_include_tax": None,
        "shipping_tax_rate": None,
        "tax_breakdown": None,
        "lines": [],
    }
    lines = OrderTaxEventSchema().load({"lines": [{"position": 1}, {"tax_rate": None}, {"tax_rate": "8.10"}]})["lines"]
    assert [line["tax_rate"] for line in lines] == [None, None, Decimal("8.10")]


def test_the_vat_of_an_order_event_loads_as_the_orders_service_writes_it():
    loaded = OrderTaxEventSchema().load(
        {
            "tax_country": "CH",
            "prices_include_tax": True,
            "shipping_tax_rate": "8.10",
            "tax_breakdown": [{"rate": "8.10", "net": "107.40", "tax": "8.70", "gross": "116.10"}],
            "lines": [{"tax_rate": "8.10", "name": "ignored"}],
            "loyalty_points": 3,
        }
    )
    assert loaded["tax_breakdown"][0]["tax"] == Decimal("8.70") and loaded["lines"][0]["tax_rate"] == Decimal("8.1")


@pytest.mark.parametrize(
    "order,field",
    [
        ({"lines": [{"tax_rate": "8.125"}]}, "lines"),
        ({"lines": [{"tax_rate": "100"}]}, "lines"),
        ({"lines": [{"tax_rate": "-1"}]}, "lines"),
        ({"tax_country": "Schweiz"}, "tax_country"),
        ({"tax_breakdown": [{"rate": "8.10", "net": "1.00", "tax": "0.10", "gross": "1.20"}]}, "tax_breakdown"),
        ({"tax_breakdown": [{"rate": "8.10", "net": "NaN", "tax": "0", "gross": "0"}]}, "tax_breakdown"),
        ({"tax_breakdown": [{"rate": "8.10", "net": "1.00"}]}, "tax_breakdown"),
    ],
)
def test_vat_an_order_event_cannot_mean_is_refused_by_field(order, field):
    with pytest.raises(ValidationError) as raised:
        OrderTaxEventSchema().load(order)

    assert list(raised.value.messages) == [field]
