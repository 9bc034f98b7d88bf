"""The customers export says what the orders service says about each customer, also after an
order moved to another customer and after two customers were merged."""

import csv
import io
import uuid

from lxml import etree

from exports import serialize

from .conftest import ADMIN, order_doc, wait_until

NS = {"o": serialize.NS}


def new_order(email, first_name, last_name, language="de", **overrides):
    data = {
        "customer": {"email": email, "first_name": first_name, "last_name": last_name, "language": language},
        "billing_address": {
            "first_name": first_name,
            "last_name": last_name,
            "street": "Bahnhofstrasse 1",
            "postal_code": "8001",
            "city": "Zürich",
            "country": "CH",
        },
        "lines": [{"article_number": "TEA-1", "name": "Tee", "quantity": 1, "unit_price": "10.00"}],
        "shipping_cost": "0.00",
        "currency": "CHF",
        "payment_method": "invoice",
    }
    data.update(overrides)
    return data


def customers_csv(fetch, q):
    response = fetch("customers.csv", {"q": q})
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == list(serialize.CUSTOMER_COLUMNS)
    return {int(row[0]): dict(zip(serialize.CUSTOMER_COLUMNS, row, strict=True)) for row in rows[1:]}


def customers_xml(fetch, q):
    response = fetch("customers.xml", {"q": q})
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    schema = serialize.xml_schema()
    assert schema.validate(root), [f"{e.line}: {e.message}" for e in schema.error_log]
    return {
        int(c.get("id")): {
            field: c.findtext(f"o:{field}", namespaces=NS) for field in ("email", "name", "language", "merged_into")
        }
        for c in root.findall("o:customer", NS)
    }


def as_orders_says(call_orders, customer_id):
    """The customer as the orders service keeps it, in the export's columns."""
    customer = call_orders("get_customer", customer_id)
    return {
        "email": customer["email"],
        "name": f"{customer['first_name']} {customer['last_name']}".strip(),
        "language": customer["language"],
        "merged_into": str(customer["merged_into_id"]) if customer["merged_into_id"] else "",
    }


def assert_export_agrees(fetch, call_orders, q, customer_ids):
    by_csv, by_xml = customers_csv(fetch, q), customers_xml(fetch, q)
    assert set(by_csv) == set(by_xml) == set(customer_ids)
    for customer_id in customer_ids:
        expected = as_orders_says(call_orders, customer_id)
        assert {key: by_csv[customer_id][key] for key in expected} == expected
        assert {**by_xml[customer_id], "merged_into": by_xml[customer_id]["merged_into"] or ""} == expected


def test_after_a_reassignment_each_customer_keeps_its_own_email(call, call_orders, copied, fetch):
    tag = uuid.uuid4().hex[:10]
    first = call_orders("create_order", new_order(f"first-{tag}@example.com", "Erika", "Erste"), actor=ADMIN)["order"]
    second = call_orders("create_order", new_order(f"second-{tag}@example.com", "Zoë", "Zweite", "fr"), actor=ADMIN)[
        "order"
    ]
    first_id, second_id = first["customer"]["id"], second["customer"]["id"]

    moved = call_orders("reassign_customer", first["reference"], {"customer_id": second_id}, actor=ADMIN)
    copied(first["reference"], moved["version"])
    copied(second["reference"])

    # the order now names its new customer (as the reassignment answers); the customers keep their own
    assert call("get_order_copy", first["reference"])["document"]["customer"] == {
        "id": second_id,
        "email": f"second-{tag}@example.com",
        "name": "Zoë Zweite",
    }
    by_csv = customers_csv(fetch, tag)
    assert by_csv[second_id]["email"] == f"second-{tag}@example.com"
    assert by_csv[first_id]["email"] == f"first-{tag}@example.com"
    assert_export_agrees(fetch, call_orders, tag, [first_id, second_id])


def test_after_a_merge_the_retired_customer_is_marked_as_the_orders_service_says(call, call_orders, copied, fetch):
    tag = uuid.uuid4().hex[:10]
    kept = call_orders("create_order", new_order(f"kept-{tag}@example.com", "Karl", "Kept"), actor=ADMIN)["order"]
    duplicate = call_orders("create_order", new_order(f"dupe-{tag}@example.com", "Karl", "Doppelt", "it"), actor=ADMIN)[
        "order"
    ]
    kept_id, duplicate_id = kept["customer"]["id"], duplicate["customer"]["id"]
    copied(duplicate["reference"])

    call_orders("merge_customers", duplicate_id, {"into": kept_id}, actor=ADMIN)
    copied(duplicate["reference"], duplicate["version"] + 1)
    wait_until(
        lambda: customers_csv(fetch, tag).get(duplicate_id, {}).get("merged_into") == str(kept_id),
        message="the merge in the customers export",
    )

    by_csv = customers_csv(fetch, tag)
    assert by_csv[duplicate_id]["email"] == f"dupe-{tag}@example.com"
    assert by_csv[kept_id]["email"] == f"kept-{tag}@example.com" and by_csv[kept_id]["merged_into"] == ""
    assert call("get_order_copy", duplicate["reference"])["document"]["customer"]["id"] == kept_id
    assert_export_agrees(fetch, call_orders, tag, [kept_id, duplicate_id])


def test_an_order_snapshot_does_not_overwrite_the_customer_record(call, call_orders, copied, dispatch, fetch):
    """An order event without the customer record (as sent before events carried it) arriving
    late changes nothing once the orders service's record is in the copy."""
    tag = uuid.uuid4().hex[:10]
    order = call_orders("create_order", new_order(f"rec-{tag}@example.com", "Rita", "Record"), actor=ADMIN)["order"]
    copied(order["reference"])
    before = customers_csv(fetch, tag)
    customer_id = order["customer"]["id"]

    stale = order_doc(
        f"S{tag}",
        customer_id=customer_id,
        customer={"id": customer_id, "email": f"other-{tag}@example.com", "name": "Someone Else"},
    )
    dispatch(stale, "order_created")
    copied(f"S{tag}")

    assert customers_csv(fetch, tag) == before
    assert_export_agrees(fetch, call_orders, tag, [customer_id])


def test_an_older_order_event_still_brings_its_customer(call, copied, dispatch, exports_db, fetch):
    """Events of one order come through several queues: the reassignment (version 2) may be applied
    before the creation (version 1). The order stays at version 2; the first customer still arrives."""
    from .conftest import SYNTHETIC
    from .test_downloads import handled

    tag = uuid.uuid4().hex[:10]
    first_id, second_id = SYNTHETIC + 700000 + int(tag[:4], 16), SYNTHETIC + 770000 + int(tag[:4], 16)
    reference = f"R{tag}"

    def record(customer_id, email):
        return {
            "id": customer_id,
            "email": email,
            "name": "Rea Record",
            "language": "de",
            "merged_into": None,
            "updated_at": "2026-01-01T00:00:00+00:00",
        }

    def doc(version, customer_id):  # the order keeps the e-mail it was placed with
        return order_doc(
            reference,
            version=version,
            customer_id=customer_id,
            customer={"id": customer_id, "email": f"first-{tag}@example.com", "name": "Rea Record"},
        )

    dispatch(doc(2, second_id), "order_updated", customer=record(second_id, f"second-{tag}@example.com"))
    copied(reference, 2)
    late = dispatch(doc(1, first_id), "order_created", customer=record(first_id, f"first-{tag}@example.com"))
    wait_until(lambda: handled(exports_db, late), message="the late creation handled")

    row = call("get_order_copy", reference)
    assert row["version"] == 2 and row["document"]["customer"]["id"] == second_id
    by_csv = customers_csv(fetch, tag)
    assert {customer_id: row["email"] for customer_id, row in by_csv.items()} == {
        first_id: f"first-{tag}@example.com",
        second_id: f"second-{tag}@example.com",
    }
