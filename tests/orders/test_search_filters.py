"""The order list's one search field and its filters, through the real RPC entrypoint.

Every test works on the orders of one fixture, which carry a marker of their own (in names,
e-mails, article and tracking numbers), so other tests' orders never match."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from nameko.standalone.events import event_dispatcher

from oms_common.problems import ValidationFailed
from tests.orders.conftest import order_data
from tests.support.suite import wait_for


def _address(marker, country="CH"):
    return {
        "first_name": "Anna",
        "last_name": f"Lindqvist{marker}",
        "street": "Hauptstrasse 2",
        "postal_code": "8000",
        "city": "Zürich",
        "country": country,
    }


@pytest.fixture(scope="module")
def marked(call, orders_config):
    """Four orders: anna (invoice, CHF, to CH), bruno (prepayment, EUR, to DE, shipped with a
    tracking number), carla (cash on delivery, overdue, disputed) and anna again (paypal, another article)."""
    marker = uuid.uuid4().hex[:10]
    started = datetime.now(timezone.utc) - timedelta(milliseconds=1)

    def make(first, last, email, article, **overrides):
        customer = {"email": email, "first_name": first, "last_name": last, "language": "de"}
        lines = [{"article_number": article, "name": "Teapot", "quantity": 1, "unit_price": "10.00"}]
        return call("create_order", order_data(customer=customer, lines=lines, **overrides))["order"]

    anna = make(
        "Anna", f"Lindqvist{marker}", f"anna.{marker}@example.ch", f"ART-{marker}-A", billing_address=_address(marker)
    )
    bruno = make(
        "Bruno",
        f"Meier{marker}",
        f"b.{marker}@example.de",
        f"ART-{marker}-B",
        currency="EUR",
        payment_method="prepayment",
        billing_address=_address(marker),
        shipping_address=_address(marker, "DE"),
    )
    carla = make(
        "Carla",
        f"Rossi{marker}",
        f"carla.{marker}@example.it",
        f"ART-{marker}-C",
        payment_method="cash_on_delivery",
        billing_address=_address(marker),
    )
    anna_again = call(
        "create_order",
        order_data(
            customer_id=anna["customer"]["id"],
            payment_method="paypal",
            billing_address=_address(marker),
            lines=[{"article_number": f"ZZ-{marker}", "name": "Cup", "quantity": 1, "unit_price": "5.00"}],
        ),
    )["order"]
    call("ship_order", bruno["reference"], {"notify": False, "tracking_number": f"TRK{marker}99"})
    call("change_status", carla["reference"], {"status": "dunning_1"})
    # the dispute arrives as payments announces it
    event_dispatcher(orders_config)(
        "payments",
        "payment_status_changed",
        {
            "event_id": uuid.uuid4().hex,
            "order_reference": carla["reference"],
            "status": "disputed",
            "sequence": 5,
            "actor": {"name": "stripe", "kind": "psp", "origin": "webhook"},
        },
    )
    # up to the last of the four exactly: a test of this module that creates an order of its own
    # right after must not fall into the window
    window = {"created_from": started.isoformat(), "created_to": anna_again["created_at"]}
    return {
        "marker": marker,
        "anna": anna["reference"],
        "bruno": bruno["reference"],
        "carla": carla["reference"],
        "anna_again": anna_again["reference"],
        "window": window,
    }


def found(call, query, psp_references=None):
    page = call("list_orders", {**query, "page_size": 200}, psp_references)
    return {item["reference"] for item in page["items"]}


def test_search_by_surname_email_customer_number_and_reference(call, marked):
    m = marked["marker"]

    assert found(call, {"search": f"lindqvist{m}"}) == {marked["anna"], marked["anna_again"]}
    assert found(call, {"search": f"Anna Lindqvist{m}"}) == {marked["anna"], marked["anna_again"]}
    assert found(call, {"search": f"Meier{m} Bruno"}) == {marked["bruno"]}
    assert found(call, {"search": f"carla.{m}@EXAMPLE"}) == {marked["carla"]}
    customer = call("get_order", marked["bruno"])["customer"]["id"]
    assert marked["bruno"] in found(call, {"search": f"C{customer:06d}"})
    assert found(call, {"search": marked["carla"]}) >= {marked["carla"]}


def test_search_by_article_and_tracking_number(call, marked):
    m = marked["marker"]

    assert found(call, {"search": f"art-{m}-b"}) == {marked["bruno"]}
    assert found(call, {"search": f"ART-{m}"}) == {marked["anna"], marked["bruno"], marked["carla"]}
    assert found(call, {"search": f"ZZ-{m}"}) == {marked["anna_again"]}
    assert found(call, {"search": f"trk{m}"}) == {marked["bruno"]}


def test_search_lists_the_orders_another_service_found(call, marked):
    assert found(call, {"search": "pi_nothing_here_matches"}, [marked["carla"]]) == {marked["carla"]}


def test_search_text_is_never_a_pattern(call, marked):
    assert found(call, {"search": "%"}) == found(call, {"search": "%%%"}) == set()
    assert found(call, {"search": f"Lindqvist{marked['marker'][:4]}_"}) == set()


def test_filters_payment_method_currency_country(call, marked):
    window = marked["window"]

    assert found(call, {**window, "payment_method": ["prepayment", "paypal"]}) == {
        marked["bruno"],
        marked["anna_again"],
    }
    assert found(call, {**window, "currency": ["EUR"]}) == {marked["bruno"]}
    assert found(call, {**window, "country": ["DE"]}) == {marked["bruno"]}
    assert found(call, {**window, "country": ["CH"], "currency": ["CHF"]}) == {
        marked["anna"],
        marked["carla"],
        marked["anna_again"],
    }


def test_filters_overdue_and_disputed(call, marked):
    window = marked["window"]

    assert found(call, {**window, "overdue": True}) == {marked["carla"]}
    assert marked["carla"] not in found(call, {**window, "overdue": False})
    wait_for(
        lambda: found(call, {**window, "disputed": True}) == {marked["carla"]},
        timeout=20,
        interval=0.2,
        message="the disputed payment in the list",
    )
    assert found(call, {**window, "disputed": "false"}) == {marked["anna"], marked["bruno"], marked["anna_again"]}


def test_search_and_filters_combine_and_count(call, marked):
    page = call("list_orders", {"search": f"Lindqvist{marked['marker']}", "payment_method": ["paypal"], "page_size": 1})

    assert [item["reference"] for item in page["items"]] == [marked["anna_again"]]
    assert (page["total"], page["pages"]) == (1, 1)


@pytest.mark.parametrize(
    "field, value",
    [
        ("payment_method", ["bitcoin"]),
        ("currency", ["chf"]),
        ("country", ["Switzerland"]),
        ("disputed", "perhaps"),
        ("overdue", "soon"),
        ("search", "   "),
        ("search", "x" * 101),
        ("search", "a\x00b"),
        ("sort", "-name"),
        ("created_from", "yesterday"),
    ],
)
def test_bad_filter_values_are_refused_naming_the_field(call, marked, field, value):
    with pytest.raises(ValidationFailed) as refused:
        call("list_orders", {field: value})

    assert {name.split(".")[0] for name in refused.value.errors} == {field}


def test_a_search_counts_every_match_on_every_page(call, marked):
    query = {"search": f"Lindqvist{marked['marker']}", "page_size": 1}
    first, second = (call("list_orders", {**query, "page": page}) for page in (1, 2))
    by_cursor = call("list_orders", {**query, "cursor": first["next_cursor"]})

    assert [(p["total"], p["pages"]) for p in (first, second, by_cursor)] == [(2, 2)] * 3
    assert second["items"] == by_cursor["items"] and second["items"] != first["items"]


# ---------------------------------------------------------------- beyond the count limit


@pytest.fixture(scope="module")
def orders_rows(database_url):
    from orders.models import infrastructure
    from tests.conftest import sql_source

    return sql_source(database_url, "orders", infrastructure)


def test_a_search_finding_more_than_the_limit_walks_to_its_newest_matches(orders_rows, marked):
    from orders.reads import list_orders

    query = {"search": f"Lindqvist{marked['marker']}", "page_size": 1}
    first = list_orders(orders_rows, query, "secret", count_limit=1)
    second = list_orders(orders_rows, {**query, "page": 2}, "secret", count_limit=1)
    by_cursor = list_orders(orders_rows, {**query, "cursor": first["next_cursor"]}, "secret", count_limit=1)
    counted = list_orders(orders_rows, query, "secret", count_limit=2)

    assert [item["reference"] for item in first["items"] + second["items"]] == [marked["anna_again"], marked["anna"]]
    assert second["items"] == by_cursor["items"]
    assert (first["total"], first["total_exact"]) == (1, False)
    assert (counted["total"], counted["total_exact"]) == (2, True)


def test_other_filters_beside_a_search_past_the_limit_are_counted_exactly_when_few(orders_rows, marked):
    from orders.reads import list_orders

    # the marker is in every marked order's e-mail: more than the limit, one of them by PayPal
    page = list_orders(orders_rows, {"search": marked["marker"], "payment_method": ["paypal"]}, "s", count_limit=1)

    assert [item["reference"] for item in page["items"]] == [marked["anna_again"]]
    assert (page["total"], page["total_exact"]) == (1, True)


def test_many_matching_lines_of_one_order_count_as_one_order(call, orders_rows):
    from orders.reads import list_orders

    marker = uuid.uuid4().hex[:10]
    lines = [
        {"article_number": f"DUP-{marker}-{n}", "name": "Tea", "quantity": 1, "unit_price": "2.00"} for n in range(8)
    ]
    order = call("create_order", order_data(lines=lines))["order"]

    page = list_orders(orders_rows, {"search": f"DUP-{marker}"}, "secret", count_limit=1)

    assert [item["reference"] for item in page["items"]] == [order["reference"]]
    assert (page["total"], page["total_exact"]) == (1, True)


def test_a_search_within_the_limit_says_its_total_is_exact(call, marked):
    page = call("list_orders", {"search": f"Lindqvist{marked['marker']}"})

    assert (page["total"], page["total_exact"]) == (2, True)
