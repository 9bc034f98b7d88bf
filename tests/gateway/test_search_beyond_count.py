"""A search that finds more orders than it counts (OMS_SEARCH_COUNT_LIMIT, here 2): the API says
so with ``total_exact`` false, the staff list shows "2+", and exporting that list by references
is refused rather than cut short."""

import uuid

import pytest

from tests.gateway.orders_data import order_body
from tests.support.ui import sign_in

PASSWORD = "search-beyond-count-password"


@pytest.fixture
def gateway_config(gateway_config):
    return {**gateway_config, "SEARCH_COUNT_LIMIT": 2}


@pytest.fixture
def three_marked(admin):
    marker = uuid.uuid4().hex[:10]
    made = []
    for _ in range(3):
        body = order_body()
        body["customer"] = {**body["customer"], "last_name": f"Brunner{marker}", "email": f"b.{marker}@example.ch"}
        created = admin.post("/api/v1/orders", json=body)
        assert created.status_code == 201, created.text
        made.append(created.json()["reference"])
    return marker, made


def test_the_api_says_the_total_is_a_lower_bound_and_still_lists_every_match(admin, three_marked):
    marker, made = three_marked
    first = admin.get("/api/v1/orders", params={"search": f"Brunner{marker}", "page_size": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert (page["total"], page["total_exact"], page["pages"]) == (2, False, 1)
    rest = admin.get("/api/v1/orders", params={"search": f"Brunner{marker}", "cursor": page["next_cursor"]}).json()

    walked = [item["reference"] for item in page["items"] + rest["items"]]
    assert walked == list(reversed(made))  # newest first, each once
    assert rest["next_cursor"] is None

    counted = admin.get("/api/v1/orders", params={"search": f"Brunner{marker}", "payment_method": "invoice"}).json()
    assert counted["total_exact"] is False
    plain = admin.get("/api/v1/orders", params={"q": made[0]}).json()
    assert (plain["total"], plain["total_exact"]) == (1, True)


def test_the_staff_list_shows_more_and_refuses_to_export_it_by_references(base_url, database_url, three_marked):
    from gateway import users
    from gateway.models import infrastructure
    from tests.conftest import sql_source

    marker, _ = three_marked
    username = f"ui-admin-{uuid.uuid4().hex[:8]}"
    users.create_user(sql_source(database_url, "gateway", infrastructure), username, "admin", PASSWORD)
    browser, response = sign_in(base_url, username, PASSWORD)
    assert response.status_code == 303, response.text

    listed = browser.get(f"{base_url}/admin/orders", params={"search": f"Brunner{marker}"}, timeout=20)
    assert listed.status_code == 200
    assert '<span class="count">2+ </span>' in listed.text

    exported = browser.get(
        f"{base_url}/admin/orders/export", params={"search": f"Brunner{marker}", "format": "csv"}, timeout=20
    )
    assert exported.status_code == 200 and "text/html" in exported.headers["Content-Type"]
    assert "This list holds 2+ orders" in exported.text
