"""The order list's search, filters and cursors through the gateway (HTTP → RPC → PostgreSQL)."""

import sys
import uuid

import pytest

from payments.service import PaymentsService
from tests.gateway.orders_data import order_body
from tests.support.smtp import wait_for
from tests.support.suite import REPO, free_port

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402

LIST_PARAMETERS = {"search", "cursor", "payment_method", "currency", "country", "disputed", "overdue", "sort"}


@pytest.fixture
def payments_running(runner_factory, service_config):
    psp = FakePSP(stripe_webhook_secret="whsec_gateway_search")
    psp.start()
    config = {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "STRIPE_API_KEY": psp.stripe_api_key,
        "STRIPE_API_BASE": psp.base_url,
        "STRIPE_WEBHOOK_SECRET": "whsec_gateway_search",
        "RECONCILE_INTERVAL_SECONDS": 0,
    }
    runner = runner_factory(config, PaymentsService)
    runner.start()
    yield runner
    psp.stop()


def marked_body(marker, **changes):
    body = order_body(**changes)
    body["customer"] = {**body["customer"], "last_name": f"Keller{marker}", "email": f"k.{marker}@example.ch"}
    return body


def references(response):
    assert response.status_code == 200, response.text
    return [item["reference"] for item in response.json()["items"]]


def test_search_by_psp_id_asks_payments(admin, payments_running):
    reference = admin.post("/api/v1/orders", json=order_body(payment_method="card")).json()["reference"]
    psp_id = wait_for(
        lambda: (
            (p := admin.get(f"/api/v1/orders/{reference}/payment")).status_code == 200 and p.json()["psp_reference"]
        ),
        timeout=20,
        interval=0.2,
        message="the PaymentIntent",
    )

    page = admin.get("/api/v1/orders", params={"search": psp_id})

    assert references(page) == [reference]
    assert page.json()["unavailable"] == []


def test_search_by_psp_id_without_payments_says_what_is_missing(admin):
    marker = uuid.uuid4().hex[:8]
    reference = admin.post("/api/v1/orders", json=marked_body(marker)).json()["reference"]

    by_psp_id = admin.get("/api/v1/orders", params={"search": "pi_3Nq0000000000000000"})
    by_name = admin.get("/api/v1/orders", params={"search": f"keller{marker}"})

    assert by_psp_id.status_code == 200 and by_psp_id.json()["unavailable"] == ["payments"]
    assert references(by_name) == [reference] and by_name.json()["unavailable"] == []


def test_filters_sort_and_cursor_walk_over_http(admin):
    marker = uuid.uuid4().hex[:8]
    made = [
        admin.post("/api/v1/orders", json=marked_body(marker, currency=currency)).json()["reference"]
        for currency in ("CHF", "EUR", "CHF", "EUR", "CHF")
    ]
    query = {"search": f"Keller{marker}", "currency": "CHF,EUR", "country": "CH", "sort": "reference"}

    walked, cursor = [], None
    for _ in range(5):
        page = admin.get("/api/v1/orders", params={**query, "page_size": 2, **({"cursor": cursor} if cursor else {})})
        walked += references(page)
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    eur = admin.get("/api/v1/orders", params={**query, "currency": "EUR"})

    assert walked == sorted(made)
    assert references(eur) == sorted(made[1::2])


def test_bad_cursor_and_bad_filters_are_problems_naming_the_field(admin):
    forged = admin.get("/api/v1/orders", params={"cursor": "eyJzIjoiY3JlYXRlZF9hdCJ9.AAAAAAAAAAAAAAAAAAAAAAAA"})
    country = admin.get("/api/v1/orders", params={"country": "ch"})
    method = admin.get("/api/v1/orders", params={"payment_method": "invoice,barter"})

    assert forged.status_code == 422 and set(forged.json()["errors"]) == {"cursor"}
    assert forged.headers["Content-Type"].startswith("application/problem+json")
    assert country.status_code == 422 and [k.split(".")[0] for k in country.json()["errors"]] == ["country"]
    assert method.status_code == 422 and [k.split(".")[0] for k in method.json()["errors"]] == ["payment_method"]


def test_openapi_documents_the_list_parameters_and_next_cursor(admin):
    document = admin.get("/api/openapi.json").json()
    listed = {parameter["name"] for parameter in document["paths"]["/api/v1/orders"]["get"]["parameters"]}
    history = {
        parameter["name"]
        for parameter in document["paths"]["/api/v1/customers/{customer_id}/orders"]["get"]["parameters"]
    }

    assert LIST_PARAMETERS <= listed and LIST_PARAMETERS <= history
    assert "next_cursor" in document["components"]["schemas"]["OrderPage"]["properties"]


def test_search_by_qr_or_creditor_reference_asks_payments(admin, payments_running):
    from oms_common.payment_references import creditor_reference, qr_reference

    reference = admin.post("/api/v1/orders", json=order_body(payment_method="invoice")).json()["reference"]
    wait_for(
        lambda: admin.get(f"/api/v1/orders/{reference}/payment").status_code == 200,
        timeout=20,
        interval=0.2,
        message="the payment record",
    )
    printed = " ".join(qr_reference(reference)[i : i + 5] for i in range(0, 27, 5))  # as on the slip

    by_qr = admin.get("/api/v1/orders", params={"search": printed})
    by_scor = admin.get("/api/v1/orders", params={"search": creditor_reference(reference)})
    unknown = admin.get("/api/v1/orders", params={"search": qr_reference("987654321987")})

    assert references(by_qr) == [reference] and references(by_scor) == [reference]
    assert references(unknown) == [] and unknown.json()["unavailable"] == []


def test_search_finds_an_internal_note(admin):
    marker = uuid.uuid4().hex[:10]
    noted, other = (admin.post("/api/v1/orders", json=order_body()).json()["reference"] for _ in range(2))
    response = admin.post(f"/api/v1/orders/{noted}/notes", json={"body": f"Customer called\nwants parcel {marker}"})
    assert response.status_code == 201, response.text

    found = admin.get("/api/v1/orders", params={"search": marker})

    assert references(found) == [noted] and other not in references(found)
