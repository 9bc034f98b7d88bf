"""Through the API as a client sees it: amounts in the currency's places, submit twice, reassign and
merge by customer number, customer search by full name. Each refusal also leaves everything as it was."""

import uuid

from tests.gateway.orders_data import order_body, order_state


def customer_body(first="Maria", last=None):
    return {
        "email": f"{uuid.uuid4().hex[:10]}@example.com",
        "first_name": first,
        "last_name": last or f"Keller{uuid.uuid4().hex[:6]}",
        "language": "de",
    }


def test_a_price_with_more_decimals_than_the_currency_is_422_naming_the_field(admin):
    before = admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]
    for changes, field in (
        (
            {"lines": [{"article_number": "A", "name": "Pen", "quantity": 1, "unit_price": "5.001"}]},
            "lines.0.unit_price",
        ),
        ({"shipping_cost": "1.001"}, "shipping_cost"),
        ({"currency": "JPY", "shipping_cost": "0.5"}, "shipping_cost"),
    ):
        body = order_body(**changes)
        refused = admin.post("/api/v1/orders", json=body)
        assert refused.status_code == 422, refused.text
        assert field in refused.json()["errors"]
        assert admin.get("/api/v1/customers", params={"q": body["customer"]["email"]}).json()["total"] == 0
    assert admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"] == before


def test_submitting_twice_says_already_submitted(admin):
    session = f"sess-{uuid.uuid4().hex[:8]}"
    reference = admin.post("/api/v1/orders", json=order_body(submit=False, session_id=session)).json()["reference"]
    first = admin.post(f"/api/v1/orders/{reference}/submit", json={"session_id": session})
    assert first.status_code == 200, first.text
    before = order_state(admin, reference)
    again = admin.post(f"/api/v1/orders/{reference}/submit", json={"session_id": session})
    assert again.status_code == 409
    assert "already submitted" in again.json()["detail"]
    assert admin.get(f"/api/v1/orders/{reference}").json()["version"] == first.json()["version"]
    assert order_state(admin, reference) == before


def test_reassign_and_merge_take_the_customer_number_and_refuse_bad_ones_naming_the_field(admin):
    order = admin.post("/api/v1/orders", json=order_body()).json()
    target = admin.post("/api/v1/orders", json=order_body(customer=customer_body())).json()["customer"]
    number = f"C{target['id']:06d}"

    before = order_state(admin, order["reference"])
    bad = admin.post(f"/api/v1/orders/{order['reference']}/customer", json={"customer_id": "X000001"})
    assert bad.status_code == 422 and "customer_id" in bad.json()["errors"]
    assert admin.get(f"/api/v1/orders/{order['reference']}").json()["version"] == order["version"]
    assert order_state(admin, order["reference"]) == before

    moved = admin.post(f"/api/v1/orders/{order['reference']}/customer", json={"customer_id": number})
    assert moved.status_code == 200, moved.text
    assert moved.json()["customer"]["email"] == target["email"]
    entry = admin.get(f"/api/v1/orders/{order['reference']}/history").json()["items"][-1]
    assert (entry["details"]["from_customer"]["email"], entry["details"]["to_customer"]["email"]) == (
        order["customer"]["email"],
        target["email"],
    )

    duplicate = admin.post("/api/v1/orders", json=order_body()).json()["customer"]["id"]
    bad_into = admin.post(f"/api/v1/customers/C{duplicate:06d}/merge", json={"into": "C-1"})
    assert bad_into.status_code == 422 and "into" in bad_into.json()["errors"]
    assert admin.get(f"/api/v1/customers/{duplicate}").json()["merged_into_id"] is None
    merged = admin.post(f"/api/v1/customers/C{duplicate:06d}/merge", json={"into": number})
    assert merged.status_code == 200, merged.text
    assert admin.get(f"/api/v1/customers/{number}").json()["order_count"] == 3


def test_customer_search_finds_full_names(admin):
    customer = customer_body()
    found_id = admin.post("/api/v1/orders", json=order_body(customer=customer)).json()["customer"]["id"]
    for q in (f"Maria {customer['last_name']}", f"{customer['last_name']} Maria", customer["last_name"].lower()):
        items = admin.get("/api/v1/customers", params={"q": q}).json()["items"]
        assert found_id in [item["id"] for item in items], q
