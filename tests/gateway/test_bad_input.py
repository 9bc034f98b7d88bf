"""Bad input gets the right 4xx problem naming the field, and leaves the data unchanged."""

import pytest

from tests.gateway.orders_data import order_body

PROBLEM = "application/problem+json"


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert field in body["errors"], body
    return body


@pytest.fixture
def order(admin):
    response = admin.post("/api/v1/orders", json=order_body())
    assert response.status_code == 201, response.text
    return response.json()


def snapshot(admin, reference):
    detail = admin.get(f"/api/v1/orders/{reference}").json()
    history = admin.get(f"/api/v1/orders/{reference}/history").json()["items"]
    return detail["status"], detail["version"], len(history)


def total_orders(admin):
    return admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]


@pytest.mark.parametrize(
    "change, field",
    [
        (
            {"lines": [{"article_number": "A-1", "name": "Tee", "quantity": "two", "unit_price": "4.50"}]},
            "lines.0.quantity",
        ),
        (
            {"lines": [{"article_number": "A-1", "name": "Tee", "quantity": 1, "unit_price": "-1"}]},
            "lines.0.unit_price",
        ),
        ({"lines": []}, "lines"),
        ({"payment_method": "bitcoin-ish"}, "payment_method"),
        ({"currency": "chf"}, "currency"),
        (
            {
                "billing_address": {
                    "first_name": "A",
                    "last_name": "B",
                    "street": "S",
                    "postal_code": "1",
                    "city": "C",
                    "country": "Switzerland",
                }
            },
            "billing_address.country",
        ),
        ({"unexpected": True}, "unexpected"),
        ({"shipping_cost": "NaN"}, "shipping_cost"),
    ],
)
def test_invalid_order_is_refused_with_the_field_named_and_nothing_created(admin, change, field):
    before = total_orders(admin)
    assert_problem(admin.post("/api/v1/orders", json=order_body(**change)), 422, field)
    assert total_orders(admin) == before


def test_malformed_json_is_400(admin):
    before = total_orders(admin)
    response = admin.post("/api/v1/orders", data=b'{"customer": ', headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "body")
    assert_problem(admin.post("/api/v1/orders", json=[1, 2]), 400, "body")
    assert total_orders(admin) == before


def test_unknown_status_in_a_change_is_422(admin, order):
    before = snapshot(admin, order["reference"])
    assert_problem(
        admin.post(f"/api/v1/orders/{order['reference']}/status", json={"status": "teleported"}), 422, "status"
    )
    assert snapshot(admin, order["reference"]) == before


def test_illegal_transition_is_409_and_changes_nothing(admin, order):
    reference = order["reference"]
    assert admin.post(f"/api/v1/orders/{reference}/cancel", json={"reason": "test"}).status_code == 200
    before = snapshot(admin, reference)
    body = assert_problem(admin.post(f"/api/v1/orders/{reference}/ship", json={}), 409)
    assert "cancelled" in body["detail"]
    assert snapshot(admin, reference) == before


def test_concurrent_edit_with_a_stale_version_is_409(admin, order):
    reference = order["reference"]
    assert admin.post(f"/api/v1/orders/{reference}/status", json={"status": "in_progress"}).status_code == 200
    before = snapshot(admin, reference)
    stale = admin.post(f"/api/v1/orders/{reference}/ship", json={"version": order["version"]})
    assert_problem(stale, 409, "version")
    by_header = admin.post(f"/api/v1/orders/{reference}/ship", json={}, headers={"If-Match": f'"{order["version"]}"'})
    assert_problem(by_header, 409, "version")
    assert snapshot(admin, reference) == before


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page_size": 100000}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": "abc"}, "page"),
        ({"status": "lost"}, "status.0"),
        ({"payment_status": "maybe"}, "payment_status.0"),
        ({"sort": "-hacked"}, "sort"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"color": "blue"}, "color"),
    ],
)
def test_bad_list_parameters_are_422_with_the_parameter_named(admin, params, field):
    assert_problem(admin.get("/api/v1/orders", params=params), 422, field)


def test_missing_or_bad_credentials_are_401(anonymous, base_url):
    from tests.gateway.conftest import ApiClient

    assert_problem(anonymous.get("/api/v1/orders"), 401)
    assert anonymous.get("/api/v1/orders").headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(ApiClient(base_url, "not-a-token").get("/api/v1/orders"), 401)
    assert_problem(anonymous.post("/api/v1/orders", json=order_body()), 401)


@pytest.mark.parametrize(
    "role, method, path, body",
    [
        ("readonly", "POST", "/api/v1/orders/{ref}/ship", {}),
        ("readonly", "POST", "/api/v1/orders", None),
        ("accountant", "POST", "/api/v1/orders/{ref}/status", {"status": "in_progress"}),
        ("agent", "PUT", "/api/v1/settings/numbering", {"invoice_prefix": "X-"}),
        ("agent", "POST", "/api/v1/orders/{ref}/invoice-number", {"invoice_number": "ERP-1"}),
    ],
)
def test_a_role_that_may_not_act_gets_403_and_nothing_changes(admin, client_for, order, role, method, path, body):
    reference = order["reference"]
    before = snapshot(admin, reference)
    numbering = admin.get("/api/v1/settings/numbering").json()
    count = total_orders(admin)
    response = client_for(role).request(method, path.format(ref=reference), json=body or order_body())
    assert_problem(response, 403)
    assert snapshot(admin, reference) == before
    assert admin.get("/api/v1/settings/numbering").json() == numbering
    assert total_orders(admin) == count


def test_every_role_may_read(client_for, order):
    for role in ("readonly", "agent", "accountant"):
        response = client_for(role).get(f"/api/v1/orders/{order['reference']}")
        assert response.status_code == 200, (role, response.text)


def test_unknown_order_and_path_are_404_and_wrong_method_405(admin):
    assert_problem(admin.get("/api/v1/orders/does-not-exist"), 404)
    assert_problem(admin.get("/api/v1/nothing-here"), 404)
    response = admin.request("DELETE", "/api/v1/orders")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_hostile_text_is_stored_verbatim_and_returned_as_json(admin):
    body = order_body()
    body["customer"]["first_name"] = "<script>alert(1)</script>"
    body["billing_address"]["street"] = "Robert'); DROP TABLE orders;--"
    created = admin.post("/api/v1/orders", json=body)
    assert created.status_code == 201, created.text
    detail = admin.get(f"/api/v1/orders/{created.json()['reference']}").json()
    assert detail["customer"]["name"].startswith("<script>")
    assert detail["billing_address"]["street"] == "Robert'); DROP TABLE orders;--"
    assert admin.get("/api/v1/orders", params={"q": "1'; --"}).json()["items"] == []


def test_control_characters_are_refused(admin):
    body = order_body()
    body["customer"]["last_name"] = "Muster\r\nBcc: x@example.com"
    assert_problem(admin.post("/api/v1/orders", json=body), 422, "customer.last_name")
