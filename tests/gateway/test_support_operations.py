"""Support operations through the gateway, with the real orders service, RabbitMQ and PostgreSQL:
pause and hand-over of open orders (S14), their cleanup when the session expired, reassigning
orders and merging customers (S15), and the article-order report (S12)."""

import csv
import io
import time
import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from gateway.service import GatewayService
from orders.models import Order, OrderCount
from orders.models import infrastructure as orders_infrastructure
from orders.service import OrdersService
from tests.conftest import sql_source
from tests.gateway.conftest import ADMIN_TOKEN, ApiClient
from tests.gateway.orders_data import ADDRESS, order_body
from tests.support.suite import free_port

AGENT = "agent-user"  # the user client_for("agent") signs in as


def wait_until(check, timeout=30.0, interval=0.1, what="condition"):
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def unique():
    return uuid.uuid4().hex[:10]


def lines(*items):
    return [
        {"article_number": number, "name": f"Item {number}", "quantity": quantity, "unit_price": price}
        for number, quantity, price in items
    ]


def created(api, **changes):
    response = api.post("/api/v1/orders", json=order_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()


def for_customer(api, customer_id, **changes):
    body = order_body(**changes)
    del body["customer"]
    body["customer_id"] = customer_id
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def history(api, reference):
    """The order's audit entries (orders service only: no notifications service runs here)."""
    return [
        entry
        for entry in ok(api.get(f"/api/v1/orders/{reference}/history"))["items"]
        if not entry["action"].startswith("email_")
    ]


# ---------------------------------------------------------------- pause and hand-over (S14)


def test_agent_takes_over_an_open_order_changes_it_and_gives_it_back_for_checkout(admin, client_for):
    agent = client_for("agent")
    customer_session, agent_session = f"shop-{unique()}", f"support-{unique()}"
    cart = created(
        admin, submit=False, session_id=customer_session, lines=lines(("TEA-1", 1, "4.50")), shipping_cost="7.00"
    )
    reference = cart["reference"]
    assert (cart["status"], cart["session_id"], cart["paused"], cart["invoice_number"]) == (
        "open",
        customer_session,
        False,
        None,
    )

    paused = ok(agent.post(f"/api/v1/orders/{reference}/pause", json={}))
    assert (paused["paused"], paused["session_id"]) == (True, None)
    # the customer's session no longer holds the order
    assert (
        agent.put(
            f"/api/v1/orders/{reference}/lines", json={"session_id": customer_session, "lines": lines(("X", 1, "1.00"))}
        ).status_code
        == 409
    )

    assigned = ok(agent.post(f"/api/v1/orders/{reference}/assign", json={"session_id": agent_session}))
    assert (assigned["paused"], assigned["session_id"]) == (False, agent_session)
    agent_lines = lines(("TEA-1", 3, "4.50"), ("CUP-9", 2, "12.00"))
    changed = ok(
        agent.put(f"/api/v1/orders/{reference}/lines", json={"session_id": agent_session, "lines": agent_lines})
    )
    assert [(line["article_number"], line["quantity"]) for line in changed["lines"]] == [("TEA-1", 3), ("CUP-9", 2)]
    assert (changed["subtotal"], changed["total"]) == ("37.50", "44.50")
    # while the agent holds it, the customer's (now stale) session can neither change nor submit it
    stale = admin.put(
        f"/api/v1/orders/{reference}/lines", json={"session_id": customer_session, "lines": lines(("X", 1, "1.00"))}
    )
    assert stale.status_code == 409
    assert stale.headers["Content-Type"].startswith("application/problem+json")
    assert admin.post(f"/api/v1/orders/{reference}/submit", json={"session_id": customer_session}).status_code == 409

    ok(agent.post(f"/api/v1/orders/{reference}/pause", json={}))
    back = ok(agent.post(f"/api/v1/orders/{reference}/assign", json={"session_id": customer_session}))
    assert (back["paused"], back["session_id"]) == (False, customer_session)
    # given back: the agent's session has no say any more
    assert (
        agent.put(
            f"/api/v1/orders/{reference}/lines", json={"session_id": agent_session, "lines": lines(("X", 1, "1.00"))}
        ).status_code
        == 409
    )

    submitted = ok(admin.post(f"/api/v1/orders/{reference}/submit", json={"session_id": customer_session}))
    assert submitted["status"] == "new" and submitted["invoice_number"]
    detail = ok(admin.get(f"/api/v1/orders/{reference}"))
    assert [(line["article_number"], line["quantity"], line["line_total"]) for line in detail["lines"]] == [
        ("TEA-1", 3, "13.50"),
        ("CUP-9", 2, "24.00"),
    ]
    assert detail["total"] == "44.50"

    moves = [
        (entry["action"], entry["actor"], (entry.get("details") or {}).get("session_id"))
        for entry in history(admin, reference)
    ]
    assert moves == [
        ("created", "admin", None),
        ("paused", AGENT, customer_session),
        ("assigned", AGENT, agent_session),
        ("lines_replaced", AGENT, agent_session),
        ("paused", AGENT, agent_session),
        ("assigned", AGENT, customer_session),
        ("submitted", "admin", None),
    ]


def test_an_agent_cannot_change_an_open_order_not_assigned_to_their_session(admin, client_for):
    agent = client_for("agent")
    customer_session, other_agent_session = f"shop-{unique()}", f"support-{unique()}"
    cart = created(admin, submit=False, session_id=customer_session, lines=lines(("TEA-1", 1, "4.50")))
    reference = cart["reference"]

    refused = agent.put(
        f"/api/v1/orders/{reference}/lines",
        json={"session_id": other_agent_session, "lines": lines(("TEA-1", 9, "4.50"))},
    )
    assert refused.status_code == 409
    assert agent.post(f"/api/v1/orders/{reference}/submit", json={"session_id": other_agent_session}).status_code == 409
    # nor can it take the order without pausing it first
    assert agent.post(f"/api/v1/orders/{reference}/assign", json={"session_id": other_agent_session}).status_code == 409

    detail = ok(admin.get(f"/api/v1/orders/{reference}"))
    assert (
        [(line["article_number"], line["quantity"]) for line in detail["lines"]],
        detail["session_id"],
        detail["version"],
    ) == ([("TEA-1", 1)], customer_session, cart["version"])
    assert [entry["action"] for entry in history(admin, reference)] == ["created"]


# ---------------------------------------------------------------- reassign and merge (S15)

ORDER_OWN_DATA = (
    "reference",
    "invoice_number",
    "billing_address",
    "shipping_address",
    "lines",
    "subtotal",
    "shipping_cost",
    "total",
    "currency",
    "payment_method",
    "status",
    "created_at",
    "language",
)


def own_data(order):
    return {key: order[key] for key in ORDER_OWN_DATA}


def test_reassigning_an_order_keeps_its_data_and_both_customers_follow(admin, client_for):
    agent = client_for("agent")
    shipping = dict(ADDRESS, first_name="Beat", street="Lagerstrasse 9", city="Bern", postal_code="3000")
    order = created(admin, shipping_address=shipping, lines=lines(("TEA-1", 2, "10.00")), shipping_cost="5.00")
    reference, old_owner = order["reference"], order["customer"]["id"]
    other = created(admin, lines=lines(("CUP-1", 1, "3.00")), shipping_cost="0.00")
    new_owner = other["customer"]["id"]
    before = ok(admin.get(f"/api/v1/orders/{reference}"))
    assert before["invoice_number"] and before["shipping_address"]["street"] == "Lagerstrasse 9"

    moved = ok(
        agent.post(
            f"/api/v1/orders/{reference}/customer",
            json={"customer_id": new_owner, "reason": "ordered on the wrong account"},
        )
    )

    assert moved["customer"]["id"] == new_owner
    after = ok(admin.get(f"/api/v1/orders/{reference}"))
    assert own_data(after) == own_data(before)
    # the answer and the order name the new customer; the history names both
    assert moved["customer"] == after["customer"] == other["customer"]
    last = history(admin, reference)[-1]
    assert (last["action"], last["actor"], last["reason"], last["details"]["from"], last["details"]["to"]) == (
        "customer_reassigned",
        AGENT,
        "ordered on the wrong account",
        old_owner,
        new_owner,
    )
    assert (last["details"]["from_customer"]["email"], last["details"]["to_customer"]["email"]) == (
        before["customer"]["email"],
        other["customer"]["email"],
    )

    old_view = ok(admin.get(f"/api/v1/customers/{old_owner}"))
    new_view = ok(admin.get(f"/api/v1/customers/{new_owner}"))
    assert (old_view["order_count"], old_view["totals"]) == (0, [])
    assert (new_view["order_count"], new_view["totals"]) == (2, [{"currency": "CHF", "orders": 2, "revenue": "28.00"}])
    assert ok(admin.get(f"/api/v1/customers/{old_owner}/orders"))["items"] == []
    assert {item["reference"] for item in ok(admin.get(f"/api/v1/customers/{new_owner}/orders"))["items"]} == {
        reference,
        other["reference"],
    }
    # to the customer it already has: refused, nothing recorded
    entries = len(history(admin, reference))
    assert agent.post(f"/api/v1/orders/{reference}/customer", json={"customer_id": new_owner}).status_code == 409
    assert len(history(admin, reference)) == entries


def test_merge_moves_every_order_retires_the_duplicate_and_refuses_itself_and_retired_targets(admin, client_for):
    agent = client_for("agent")
    tag = unique()
    first = created(
        admin,
        customer={"email": f"dup-{tag}@example.com", "first_name": "Anna", "last_name": "Doppel", "language": "de"},
        lines=lines(("TEA-1", 1, "10.00")),
    )
    duplicate = first["customer"]["id"]
    second = for_customer(admin, duplicate, currency="EUR", lines=lines(("CUP-1", 2, "6.00")))
    kept_order = created(admin, lines=lines(("TEA-2", 1, "1.00")), shipping_cost="0.00")
    kept = kept_order["customer"]["id"]
    before = {
        order["reference"]: own_data(ok(admin.get(f"/api/v1/orders/{order['reference']}"))) for order in (first, second)
    }

    assert agent.post(f"/api/v1/customers/{kept}/merge", json={"into": kept}).status_code == 409
    answer = agent.post(f"/api/v1/customers/{duplicate}/merge", json={"into": kept, "reason": "same person"})
    assert answer.status_code == 200, answer.text

    assert {item["reference"] for item in ok(admin.get(f"/api/v1/customers/{kept}/orders"))["items"]} == {
        first["reference"],
        second["reference"],
        kept_order["reference"],
    }
    assert ok(admin.get(f"/api/v1/customers/{duplicate}/orders"))["total"] == 0
    kept_view = ok(admin.get(f"/api/v1/customers/{kept}"))
    assert kept_view["order_count"] == 3
    assert kept_view["totals"] == [
        {"currency": "CHF", "orders": 2, "revenue": "18.00"},  # 10 + 7 shipping, 1 + 0
        {"currency": "EUR", "orders": 1, "revenue": "19.00"},
    ]
    for reference, data in before.items():
        assert own_data(ok(admin.get(f"/api/v1/orders/{reference}"))) == data
        last = history(admin, reference)[-1]
        assert (last["action"], last["actor"], last["reason"], last["details"]) == (
            "customer_merged",
            AGENT,
            "same person",
            {"from": duplicate, "to": kept},
        )
    # retired: kept for the record, not listed
    retired = ok(admin.get(f"/api/v1/customers/{duplicate}"))
    assert retired["merged_into_id"] == kept and retired["email"] == f"dup-{tag}@example.com"
    assert ok(admin.get("/api/v1/customers", params={"q": f"dup-{tag}"}))["items"] == []

    newcomer = created(admin)["customer"]["id"]
    into_retired = agent.post(f"/api/v1/customers/{newcomer}/merge", json={"into": duplicate})
    assert into_retired.status_code == 409
    assert "into" in into_retired.json().get("errors", {})
    assert agent.post(f"/api/v1/customers/{duplicate}/merge", json={"into": kept}).status_code == 409
    assert ok(admin.get(f"/api/v1/customers/{newcomer}"))["merged_into_id"] is None
    assert ok(admin.get(f"/api/v1/customers/{newcomer}"))["order_count"] == 1


# ---------------------------------------------------------------- article-order report (S12)


def test_article_report_totals_equal_the_sum_of_its_lines_in_json_and_csv(admin):
    tag = unique().upper()
    chf = created(admin, lines=lines((f"ART{tag}-1", 2, "10.00"), ("OTHER-1", 1, "3.00"), (f"x-art{tag}-2", 3, "1.35")))
    eur = created(admin, currency="EUR", lines=lines((f"art{tag}-2", 1, "5.50")))
    cancelled = created(admin, lines=lines((f"ART{tag}-1", 9, "10.00")))
    ok(admin.post(f"/api/v1/orders/{cancelled['reference']}/cancel", json={}))
    created(admin, submit=False, session_id=f"s-{tag}", lines=lines((f"ART{tag}-1", 7, "10.00")))  # a cart
    today = chf["created_at"][:10]
    query = {"article": f"art{tag}", "from": today, "to": today}

    report = ok(admin.get("/api/v1/reports/article-orders", params=query))

    items = report["items"]
    assert [(i["reference"], i["article_number"], i["quantity"], i["line_total"], i["currency"]) for i in items] == [
        (chf["reference"], f"ART{tag}-1", 2, "20.00", "CHF"),
        (chf["reference"], f"x-art{tag}-2", 3, "4.05", "CHF"),
        (eur["reference"], f"art{tag}-2", 1, "5.50", "EUR"),
    ]
    assert items[0]["customer"] == {"id": chf["customer"]["id"], "name": "Anna Muster"}
    assert items[0]["name"] == f"Item ART{tag}-1" and items[0]["date"].startswith(today)
    revenue = defaultdict(Decimal)
    for item in items:
        revenue[item["currency"]] += Decimal(item["line_total"])
    assert report["totals"] == {
        "orders": len({i["reference"] for i in items}),
        "quantity": sum(i["quantity"] for i in items),
        "revenue": {currency: f"{total:.2f}" for currency, total in revenue.items()},
    }
    assert report["totals"] == {"orders": 2, "quantity": 6, "revenue": {"CHF": "24.05", "EUR": "5.50"}}

    # a shorter page than the matches: the totals still cover every matching line
    page = ok(admin.get("/api/v1/reports/article-orders", params={**query, "limit": 1}))
    assert (page["items"], page["truncated"], page["totals"]) == (items[:1], True, report["totals"])
    assert report["truncated"] is False

    response = admin.get("/api/v1/reports/article-orders", params={**query, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header == ["reference", "date", "customer", "article_number", "name", "quantity", "line_total", "currency"]
    line_rows = [row for row in body if row[0] != "total"]
    total_rows = [row for row in body if row[0] == "total"]
    assert [(row[0], row[3], int(row[5]), row[6], row[7]) for row in line_rows] == [
        (i["reference"], i["article_number"], i["quantity"], i["line_total"], i["currency"]) for i in items
    ]
    csv_revenue = defaultdict(Decimal)
    for row in line_rows:
        csv_revenue[row[7]] += Decimal(row[6])
    assert {row[7]: (int(row[5]), row[6]) for row in total_rows} == {
        currency: (sum(int(row[5]) for row in line_rows), f"{total:.2f}") for currency, total in csv_revenue.items()
    }


def test_article_report_refuses_from_after_to_naming_from(admin):
    response = admin.get(
        "/api/v1/reports/article-orders", params={"article": "A", "from": "2026-03-02", "to": "2026-03-01"}
    )
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "from" in response.json()["errors"]


def test_article_report_takes_percent_and_underscore_literally(admin):
    tag = unique()
    percent = created(admin, lines=lines((f"P{tag}%X", 1, "1.00"), (f"P{tag}aX", 1, "2.00")))
    underscore = created(admin, lines=lines((f"U{tag}_Y", 1, "3.00"), (f"U{tag}bY", 1, "4.00")))
    today = percent["created_at"][:10]

    def articles(article):
        report = ok(admin.get("/api/v1/reports/article-orders", params={"article": article, "from": today}))
        return [(item["reference"], item["article_number"]) for item in report["items"]]

    assert articles(f"P{tag}%X") == [(percent["reference"], f"P{tag}%X")]
    assert articles(f"U{tag}_Y") == [(underscore["reference"], f"U{tag}_Y")]
    assert articles(f"{tag}%") == [(percent["reference"], f"P{tag}%X")]
    assert articles(f"U{tag}_") == [(underscore["reference"], f"U{tag}_Y")]


# ---------------------------------------------------------------- expired open orders (S14)

TTL_SECONDS = 2


@pytest.fixture
def short_lived_carts(runner_factory, service_config):
    """Gateway and two replicas of orders with a 2-second session lifetime for open orders,
    both sweeping often (every replica runs the timer)."""
    config = {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "RPC_TIMEOUT_SECONDS": 5,
        "OPEN_ORDER_TTL_SECONDS": TTL_SECONDS,
        "OPEN_ORDER_SWEEP_SECONDS": 0.2,
    }
    runner_factory(config, GatewayService, OrdersService).start()
    runner_factory(config, OrdersService).start()  # a second replica
    return ApiClient(f"http://{config['WEB_SERVER_ADDRESS']}", ADMIN_TOKEN)


def test_expired_open_order_is_cancelled_by_the_system_and_a_paused_one_is_kept(short_lived_carts, database_url):
    api = short_lived_carts
    # the paused one first: by the time the others expire, this one is older still
    kept = created(api, submit=False, session_id=f"shop-{unique()}")
    ok(api.post(f"/api/v1/orders/{kept['reference']}/pause", json={}))
    others = [created(api, submit=False, session_id=f"shop-{unique()}") for _ in range(4)]
    stale = created(api, submit=False, session_id=f"shop-{unique()}")

    cancelled = wait_until(
        lambda: (lambda order: order if order["status"] == "cancelled" else None)(
            ok(api.get(f"/api/v1/orders/{stale['reference']}"))
        ),
        what="the expired open order to be cancelled",
    )
    for order in others:  # expired before it: cancelled once, by one of the two replicas
        entries = history(api, order["reference"])
        assert [(e["action"], e["to"], e["actor"]) for e in entries] == [
            ("created", "open", "admin"),
            ("status_changed", "cancelled", "system"),
        ]

    assert cancelled["reference"] == stale["reference"] and cancelled["invoice_number"] is None
    still = ok(api.get(f"/api/v1/orders/{kept['reference']}"))
    assert (still["status"], still["paused"]) == ("open", True)
    last = history(api, stale["reference"])[-1]
    assert (last["actor"], last["actor_kind"], last["action"], last["from"], last["to"]) == (
        "system",
        "system",
        "status_changed",
        "open",
        "cancelled",
    )
    assert "expired" in last["reason"]
    waited = datetime.fromisoformat(last["at"]) - datetime.fromisoformat(stale["updated_at"])
    assert waited.total_seconds() >= TTL_SECONDS
    assert [entry["action"] for entry in history(api, kept["reference"])] == ["created", "paused"]

    source = sql_source(database_url, "orders", orders_infrastructure)
    outbox = orders_infrastructure.outbox
    try:
        with source.read_session() as session:
            events = session.execute(select(outbox.c.event_type, outbox.c.payload)).all()
            real = dict(session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
            kept_counts = dict(
                session.execute(select(OrderCount.status, func.sum(OrderCount.count)).group_by(OrderCount.status)).all()
            )
    finally:
        source.engine.dispose()
    announced = [
        (event_type, payload["actor"]["kind"])
        for event_type, payload in events
        if payload.get("order", {}).get("reference") == stale["reference"]
        and event_type in ("order_cancelled", "order_status_changed")
    ]
    assert sorted(announced) == [("order_cancelled", "system"), ("order_status_changed", "system")]
    cancellations = [payload["order"]["reference"] for event_type, payload in events if event_type == "order_cancelled"]
    for order in others + [stale]:
        assert cancellations.count(order["reference"]) == 1
    assert {status: count for status, count in kept_counts.items() if count} == real
    # and the list's totals (kept counts) agree
    for status in ("open", "cancelled"):
        assert ok(api.get("/api/v1/orders", params={"status": status, "page_size": 1}))["total"] == real[status]
