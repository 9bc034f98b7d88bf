"""Pages and cursors of the order list: every sort walks every order exactly once, a page number
lands on the same rows as the walk, and a cursor that is not the list's own is refused."""

import time
from datetime import datetime, timedelta, timezone

import pytest

from oms_common.problems import ValidationFailed
from oms_contracts.orders.lists import LIST_SORT_FIELDS, ListQuerySchema
from orders import paging
from tests.orders.conftest import order_data

SORTS = [name for field in LIST_SORT_FIELDS for name in (field, "-" + field)]
CURSOR_SECRET = "orders-tests-cursor-secret"


@pytest.fixture(scope="module")
def window(call):
    """Nine orders made in a time window of their own, with repeated totals and statuses (so
    that ties must be broken by the key's last column) and three customers."""
    started = datetime.now(timezone.utc) - timedelta(milliseconds=1)
    references = []
    customers = []
    for index in range(9):
        if index < 3:
            order = call("create_order", order_data())["order"]
            customers.append(order["customer"]["id"])
        else:
            lines = [{"article_number": "P-1", "name": "Plate", "quantity": 1 + index % 3, "unit_price": "10.00"}]
            order = call("create_order", order_data(customer_id=customers[index % 3], lines=lines))["order"]
        references.append(order["reference"])
    for reference in references[1::3]:
        call("change_status", reference, {"status": "in_progress"})
    ended = datetime.now(timezone.utc) + timedelta(milliseconds=1)
    return {"created_from": started.isoformat(), "created_to": ended.isoformat()}, references


def walk(call, query, page_size):
    """Every item of the list, following ``next_cursor`` until it is null."""
    items, cursor, pages = [], None, 0
    while True:
        page = call("list_orders", {**query, "page_size": page_size, **({"cursor": cursor} if cursor else {})})
        items += [item["reference"] for item in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        assert pages <= 20, "the walk ends"
        if cursor is None:
            return items


@pytest.mark.parametrize("sort", SORTS)
def test_cursor_walk_gives_every_order_once_in_page_order(call, window, sort):
    query, references = window
    query = {**query, "sort": sort}
    whole = [item["reference"] for item in call("list_orders", {**query, "page_size": 200})["items"]]

    walked = walk(call, query, page_size=2)

    assert sorted(whole) == sorted(references)
    assert walked == whole


@pytest.mark.parametrize("sort", SORTS)
def test_page_n_is_the_same_slice_as_the_cursor_walk(call, window, sort):
    query, _ = window
    query = {**query, "sort": sort}
    walked = walk(call, query, page_size=2)

    pages = [call("list_orders", {**query, "page": page, "page_size": 2}) for page in range(1, 7)]

    assert [[item["reference"] for item in page["items"]] for page in pages[:5]] == [
        walked[i : i + 2] for i in range(0, 10, 2)
    ]
    assert pages[5]["items"] == [] and pages[5]["next_cursor"] is None
    assert [page["page"] for page in pages] == [1, 2, 3, 4, 5, 6]
    assert all((page["total"], page["pages"]) == (9, 5) for page in pages)


def test_the_sort_orders_by_its_column(call, window):
    query, _ = window
    by_total = call("list_orders", {**query, "sort": "-total", "page_size": 50})["items"]
    totals = [float(item["total"]) for item in by_total]
    by_customer = call("list_orders", {**query, "sort": "customer", "page_size": 50})["items"]

    assert totals == sorted(totals, reverse=True)
    assert [item["customer"]["name"] for item in by_customer] == sorted(
        item["customer"]["name"] for item in by_customer
    )


def test_a_page_number_can_continue_by_cursor(call, window):
    query, _ = window
    second = call("list_orders", {**query, "page": 2, "page_size": 3})
    third = call("list_orders", {**query, "page": 3, "page_size": 3})

    continued = call("list_orders", {**query, "page_size": 3, "cursor": second["next_cursor"]})

    assert continued["items"] == third["items"]
    assert continued["page"] is None and continued["total"] == 9


def _refusal(call, query):
    with pytest.raises(ValidationFailed) as refused:
        call("list_orders", query)
    return refused.value


def _first_cursor(call, query):
    return call("list_orders", {**query, "page_size": 2})["next_cursor"]


def test_a_forged_cursor_is_refused_naming_cursor(call, window):
    query, _ = window
    cursor = _first_cursor(call, query)
    body, _, signature = cursor.partition(".")
    digest = paging.query_digest(_loaded(query))
    key = paging.decode_cursor(CURSOR_SECRET, cursor, paging.Sort("-created_at"), digest)
    # the same key, signed by someone who does not know the secret
    forged = paging.encode_cursor("guessed", paging.Sort("-created_at"), digest, key)
    tampered = ("B" if signature[0] == "A" else "A") + signature[1:]

    for bad in (forged, f"{body}.{tampered}", body, "garbage", "x" * 1001):
        problem = _refusal(call, {**query, "page_size": 2, "cursor": bad})
        assert set(problem.errors) == {"cursor"}, bad


def test_a_cursor_of_another_sort_or_other_filters_is_refused(call, window):
    query, _ = window
    cursor = _first_cursor(call, query)

    other_sort = _refusal(call, {**query, "page_size": 2, "sort": "total", "cursor": cursor})
    other_filter = _refusal(call, {**query, "page_size": 2, "status": ["new"], "cursor": cursor})
    with_page = _refusal(call, {**query, "page": 2, "cursor": cursor})

    assert [set(p.errors) for p in (other_sort, other_filter, with_page)] == [{"cursor"}] * 3


def test_an_expired_cursor_is_refused(call, window):
    query, _ = window
    digest = paging.query_digest(_loaded(query))
    key = paging.decode_cursor(CURSOR_SECRET, _first_cursor(call, query), paging.Sort("-created_at"), digest)
    # signed as the service signed it a lifetime ago
    long_ago = time.time() - paging.CURSOR_LIFETIME_SECONDS - 60
    old = paging.encode_cursor(CURSOR_SECRET, paging.Sort("-created_at"), digest, key, now=long_ago)

    problem = _refusal(call, {**query, "page_size": 2, "cursor": old})

    assert set(problem.errors) == {"cursor"} and "expired" in problem.errors["cursor"][0]


def _loaded(query):
    return ListQuerySchema().load({**query, "page_size": 2})
