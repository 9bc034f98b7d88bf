"""Interface tests of OrdersService through its real RPC entrypoints (RabbitMQ + PostgreSQL).

The database lives for the whole test session, so every test works on orders and customers
it created itself (fresh e-mails, filters on its own customer) and restores global settings.
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from oms_common.problems import Conflict, NotFound, ValidationFailed
from orders.models import Order, OrderHistory
from tests.support.drain import outbox_rows_about

AGENT = {"name": "bob", "kind": "user", "role": "agent", "origin": "gateway 10.0.0.8"}


def history_actions(call, reference):
    return [entry["action"] for entry in call("order_history", reference)]


def own_orders(call, customer_id, **query):
    return call("list_orders", {"customer_id": customer_id, **query})


def order_lines():
    return [{"article_number": "D-1", "name": "Spoon", "quantity": 1, "unit_price": "1.00"}]


# ---------------------------------------------------------------- creation


def test_create_order_for_a_new_customer(call, create):
    order = create(email="New.Buyer@Example.com")

    assert order["status"] == "new"
    assert order["payment_status"] == "unpaid"
    assert order["reference"].isdigit()
    assert order["invoice_number"]
    assert (order["subtotal"], order["shipping_cost"], order["total"]) == ("47.40", "8.00", "55.40")
    assert [line["line_total"] for line in order["lines"]] == ["39.90", "7.50"]
    assert order["shipping_address"] == order["billing_address"]  # defaults to the billing address
    customer = call("get_customer", order["customer"]["id"])
    assert customer["email"] == "new.buyer@example.com"
    assert customer["order_count"] == 1
    assert call("get_order", order["reference"])["version"] == 1


def test_create_order_for_an_existing_customer_by_id(call, create, order_data):
    first = create()
    customer_id = first["customer"]["id"]

    second = call("create_order", order_data(customer_id=customer_id))["order"]

    assert second["customer"] == first["customer"]
    assert own_orders(call, customer_id)["total"] == 2


def test_create_order_with_a_known_email_reuses_the_customer(create, unique):
    first = create(email=f"same-{unique}@example.com")
    second = create(email=f"SAME-{unique}@example.com")

    assert second["customer"]["id"] == first["customer"]["id"]


def test_create_order_with_unknown_customer_id_names_the_field(call, order_data, orders_db):
    body = order_data(customer_id=10**9)
    orders_before = call("list_orders", {})["total"]
    with pytest.raises(ValidationFailed) as failed:
        call("create_order", body)
    assert "customer_id" in failed.value.errors
    assert call("list_orders", {})["total"] == orders_before


@pytest.mark.parametrize("method", ["card", "paypal"])
def test_psp_payment_method_leaves_the_order_waiting_for_payment(create, method):
    order = create(payment_method=method)

    assert order["status"] == "payment_pending"
    assert order["payment_status"] == "pending"


def test_unknown_reference_is_not_found(call, orders_db):
    with pytest.raises(NotFound):
        call("get_order", "does-not-exist")
    with pytest.raises(NotFound):
        call("ship_order", "does-not-exist", {})
    assert outbox_rows_about(orders_db, "does-not-exist") == 0


# ---------------------------------------------------------------- open orders and sessions (S14)


def test_unsubmitted_order_is_open_in_its_session_without_invoice_number(create, unique):
    order = create(submit=False, session_id=f"sess-{unique}")

    assert order["status"] == "open"
    assert order["session_id"] == f"sess-{unique}"
    assert order["invoice_number"] is None
    assert order["submitted_at"] is None


def test_attached_session_replaces_lines_and_submits(call, create, unique):
    order = create(submit=False, session_id=f"sess-{unique}")
    lines = [{"article_number": "C-300", "name": "Cups", "quantity": 3, "unit_price": "4.20"}]

    changed = call("replace_lines", order["reference"], {"session_id": f"sess-{unique}", "lines": lines})
    assert [line["article_number"] for line in changed["lines"]] == ["C-300"]
    assert (changed["subtotal"], changed["total"]) == ("12.60", "20.60")
    assert changed["version"] == order["version"] + 1

    submitted = call("submit_order", order["reference"], {"session_id": f"sess-{unique}"})
    assert submitted["status"] == "new"
    assert submitted["invoice_number"]
    assert submitted["submitted_at"]
    assert history_actions(call, order["reference"]) == ["created", "lines_replaced", "submitted"]


def test_submitting_an_open_psp_order_makes_it_wait_for_payment(call, create, unique):
    order = create(submit=False, session_id=f"sess-{unique}", payment_method="card")

    submitted = call("submit_order", order["reference"], {"session_id": f"sess-{unique}"})

    assert submitted["status"] == "payment_pending"


def test_another_session_may_neither_edit_nor_submit(call, create, unique):
    order = create(submit=False, session_id=f"sess-{unique}")
    lines = [{"article_number": "C-300", "name": "Cups", "quantity": 3, "unit_price": "4.20"}]

    with pytest.raises(Conflict):
        call("replace_lines", order["reference"], {"session_id": "someone-else", "lines": lines})
    with pytest.raises(Conflict):
        call("submit_order", order["reference"], {"session_id": "someone-else"})

    unchanged = call("get_order", order["reference"])
    assert unchanged["status"] == "open"
    assert unchanged["lines"] == order["lines"]
    assert unchanged["version"] == order["version"]


def test_submitted_order_cannot_be_edited_or_submitted_again(call, create, unique, order_state):
    order = create(submit=False, session_id=f"sess-{unique}")
    call("submit_order", order["reference"], {"session_id": f"sess-{unique}"})
    before = order_state(order["reference"])

    with pytest.raises(Conflict):
        call("submit_order", order["reference"], {"session_id": f"sess-{unique}"})
    with pytest.raises(Conflict):
        call("replace_lines", order["reference"], {"session_id": f"sess-{unique}", "lines": order_lines()})
    assert order_state(order["reference"]) == before


def test_open_order_cannot_skip_submission_through_a_status_change(call, create, unique, order_state):
    order = create(submit=False, session_id=f"sess-{unique}")
    before = order_state(order["reference"])

    with pytest.raises(Conflict):
        call("change_status", order["reference"], {"status": "new"})
    assert call("get_order", order["reference"])["invoice_number"] is None
    assert order_state(order["reference"]) == before


def test_pause_detaches_and_assign_hands_over_to_another_session(call, create, unique):
    customer_session, agent_session = f"sess-{unique}", f"agent-{unique}"
    order = create(submit=False, session_id=customer_session)

    paused = call("pause_order", order["reference"], None, actor=AGENT)
    assert paused["paused"] is True
    assert paused["session_id"] is None
    with pytest.raises(Conflict):  # nobody edits a paused order
        call("replace_lines", order["reference"], {"session_id": customer_session, "lines": order_lines()})
    with pytest.raises(Conflict):
        call("pause_order", order["reference"])

    assigned = call("assign_order", order["reference"], {"session_id": agent_session}, actor=AGENT)
    assert (assigned["paused"], assigned["session_id"]) == (False, agent_session)
    with pytest.raises(Conflict):  # the customer's old session lost it
        call("replace_lines", order["reference"], {"session_id": customer_session, "lines": order_lines()})
    edited = call("replace_lines", order["reference"], {"session_id": agent_session, "lines": order_lines()})
    assert edited["total"] == "9.00"
    with pytest.raises(Conflict):  # only a paused order can be assigned
        call("assign_order", order["reference"], {"session_id": customer_session})

    history = call("order_history", order["reference"])
    assert [e["action"] for e in history] == ["created", "paused", "assigned", "lines_replaced"]
    assert history[1]["details"] == {"session_id": customer_session}
    assert history[2]["actor"] == "bob"


def test_submitted_order_cannot_be_paused_or_assigned(call, create, order_state):
    order = create()
    before = order_state(order["reference"])
    with pytest.raises(Conflict):
        call("pause_order", order["reference"])
    with pytest.raises(Conflict):
        call("assign_order", order["reference"], {"session_id": "x"})
    assert order_state(order["reference"]) == before


# ---------------------------------------------------------------- status changes


def test_ship_with_notification_and_tracking_number(call, create):
    order = create()

    shipped = call(
        "ship_order", order["reference"], {"notify": True, "tracking_number": "99.00.123456.78"}, actor=AGENT
    )

    assert shipped["status"] == "shipped"
    assert shipped["tracking_number"] == "99.00.123456.78"
    last = call("order_history", order["reference"])[-1]
    assert (last["action"], last["from"], last["to"]) == ("status_changed", "new", "shipped")
    assert last["actor"] == "bob"
    assert last["details"] == {"notify": True, "tracking_number": "99.00.123456.78"}


def test_ship_notifies_by_default(call, create):
    order = create()
    call("ship_order", order["reference"], {})
    assert call("order_history", order["reference"])[-1]["details"]["notify"] is True


def test_cancel_records_the_reason(call, create, order_state):
    order = create()

    cancelled = call("cancel_order", order["reference"], {"reason": "Customer changed their mind"})

    assert cancelled["status"] == "cancelled"
    last = call("order_history", order["reference"])[-1]
    assert (last["to"], last["reason"]) == ("cancelled", "Customer changed their mind")
    assert last["details"]["notify"] is False
    before = order_state(order["reference"])
    with pytest.raises(Conflict):  # cancelled is final
        call("change_status", order["reference"], {"status": "new"})
    assert order_state(order["reference"]) == before


def test_change_status_follows_the_state_machine(call, create):
    order = create()
    for status in ("in_progress", "shipped", "dunning_1", "dunning_2", "completed"):
        order = call("change_status", order["reference"], {"status": status, "reason": f"to {status}"})
        assert order["status"] == status
    assert [e["to"] for e in call("order_history", order["reference"])][1:] == [
        "in_progress",
        "shipped",
        "dunning_1",
        "dunning_2",
        "completed",
    ]


@pytest.mark.parametrize("target", ["dunning_2", "open", "payment_pending"])
def test_illegal_status_change_is_a_conflict_and_changes_nothing(call, create, target):
    order = create()

    with pytest.raises(Conflict) as refused:
        call("change_status", order["reference"], {"status": target})

    assert target in refused.value.detail
    after = call("get_order", order["reference"])
    assert (after["status"], after["version"]) == ("new", order["version"])
    assert history_actions(call, order["reference"]) == ["created"]


def test_payment_pending_order_is_not_completed_by_a_plain_status_change(call, create, order_state):
    order = create(payment_method="card")
    before = order_state(order["reference"])
    with pytest.raises(Conflict):
        call("change_status", order["reference"], {"status": "new"})
    assert order_state(order["reference"]) == before


def test_bulk_status_change_reports_each_order_and_applies_the_legal_ones(call, create, order_state):
    first, second, third = create(), create(), create()
    call("cancel_order", second["reference"], {})
    refused_before = order_state(second["reference"])
    references = [first["reference"], second["reference"], third["reference"], "no-such-order"]

    answer = call("bulk_change_status", {"references": references, "status": "in_progress"}, actor=AGENT)

    results = {result["reference"]: result for result in answer["results"]}
    assert (answer["succeeded"], answer["failed"]) == (2, 2)
    assert results[first["reference"]]["ok"] and results[third["reference"]]["ok"]
    assert results[second["reference"]]["problem"]["status"] == 409
    assert results["no-such-order"]["problem"]["status"] == 404
    assert call("get_order", first["reference"])["status"] == "in_progress"
    assert call("get_order", third["reference"])["status"] == "in_progress"
    assert order_state(second["reference"]) == refused_before


def test_stale_version_is_a_conflict(call, create, order_state):
    order = create()
    call("change_status", order["reference"], {"status": "in_progress", "version": order["version"]})
    before = order_state(order["reference"])

    with pytest.raises(Conflict) as refused:  # a second admin acting on what they loaded earlier
        call("change_status", order["reference"], {"status": "shipped", "version": order["version"]})

    assert "version" in refused.value.errors
    assert call("get_order", order["reference"])["status"] == "in_progress"
    assert order_state(order["reference"]) == before


# ---------------------------------------------------------------- lists and search (S1, S5, S6, S13)


@pytest.fixture
def customer_with_orders(call, create, order_data):
    """Five orders of one customer, in creation order, with distinct totals and states."""
    first = create()
    customer_id = first["customer"]["id"]
    orders = [first]
    for quantity, method in ((5, "invoice"), (1, "card"), (3, "prepayment"), (2, "paypal")):
        lines = [{"article_number": "Q-1", "name": "Quince", "quantity": quantity, "unit_price": "10.00"}]
        orders.append(
            call("create_order", order_data(customer_id=customer_id, lines=lines, payment_method=method))["order"]
        )
    call("change_status", orders[1]["reference"], {"status": "in_progress"})
    return customer_id, [call("get_order", order["reference"]) for order in orders]


def test_list_is_newest_first_and_paged(call, customer_with_orders):
    customer_id, orders = customer_with_orders
    newest_first = [order["reference"] for order in reversed(orders)]

    pages = [own_orders(call, customer_id, page=page, page_size=2) for page in (1, 2, 3)]

    assert [item["reference"] for page in pages for item in page["items"]] == newest_first
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert all((page["total"], page["pages"], page["page_size"]) == (5, 3, 2) for page in pages)
    assert own_orders(call, customer_id, page=4, page_size=2)["items"] == []


def test_list_filters_by_status_and_payment_status(call, customer_with_orders):
    customer_id, orders = customer_with_orders

    in_progress = own_orders(call, customer_id, status=["in_progress"])
    pending = own_orders(call, customer_id, payment_status=["pending"])
    new_or_pending = own_orders(call, customer_id, status=["new", "payment_pending"])

    assert [item["reference"] for item in in_progress["items"]] == [orders[1]["reference"]]
    assert {item["reference"] for item in pending["items"]} == {orders[2]["reference"], orders[4]["reference"]}
    assert pending["total"] == 2
    assert new_or_pending["total"] == 4


def test_list_sorts_by_total_and_payment_status(call, customer_with_orders):
    customer_id, orders = customer_with_orders

    by_total = own_orders(call, customer_id, sort="total")["items"]
    by_total_desc = own_orders(call, customer_id, sort="-total")["items"]
    by_payment = own_orders(call, customer_id, sort="payment_status")["items"]

    totals = [Decimal(item["total"]) for item in by_total]
    assert totals == sorted(totals) and len(set(totals)) == 5
    assert by_total_desc == list(reversed(by_total))
    # "unpaid" ranks before "pending": what needs attention first; ties follow the same direction
    # (an index order, which keeps this sort fast on a million orders)
    assert [item["payment_status"] for item in by_payment] == ["unpaid"] * 3 + ["pending"] * 2
    assert [item["reference"] for item in by_payment[3:]] == [orders[2]["reference"], orders[4]["reference"]]


def test_list_by_created_range(call, customer_with_orders):
    customer_id, orders = customer_with_orders
    now = datetime.now(timezone.utc)
    third_created = orders[2]["created_at"]

    from_third = own_orders(call, customer_id, created_from=third_created)
    until_third = own_orders(call, customer_id, created_to=third_created)
    future = own_orders(call, customer_id, created_from=(now + timedelta(days=1)).isoformat())
    today = own_orders(call, customer_id, created_from=now.date().isoformat(), created_to=now.date().isoformat())

    assert {item["reference"] for item in from_third["items"]} == {o["reference"] for o in orders[2:]}
    assert {item["reference"] for item in until_third["items"]} == {o["reference"] for o in orders[:3]}
    assert future["total"] == 0
    assert today["total"] == 5


def test_search_by_reference_and_invoice_number_prefix(call, create):
    order = create()
    reference, invoice_number = order["reference"], order["invoice_number"]

    by_reference = call("list_orders", {"q": reference})
    by_prefix = call("list_orders", {"q": reference[:-1]})
    by_invoice = call("list_orders", {"q": invoice_number})

    assert [item["reference"] for item in by_reference["items"]] == [reference]
    assert reference in {item["reference"] for item in by_prefix["items"]}
    assert reference in {item["reference"] for item in by_invoice["items"]}
    assert call("list_orders", {"q": "no-such-number"})["total"] == 0


def test_list_totals_from_order_counts_equal_real_counts(call, create, orders_db):
    create(), create(payment_method="card")

    with orders_db.read_session() as session:
        real_total = session.execute(select(func.count()).select_from(Order)).scalar_one()
        real_new = session.execute(select(func.count()).where(Order.status == "new")).scalar_one()
        real_pending = session.execute(
            select(func.count()).where(Order.payment_status == "pending", Order.status == "payment_pending")
        ).scalar_one()

    assert call("list_orders", {})["total"] == real_total
    assert call("list_orders", {"status": ["new"]})["total"] == real_new
    assert call("list_orders", {"status": ["payment_pending"], "payment_status": ["pending"]})["total"] == real_pending


def test_invalid_list_query_names_the_field(call):
    with pytest.raises(ValidationFailed) as failed:
        call("list_orders", {"page_size": 500, "sort": "name", "status": ["lost"]})
    assert {"page_size", "sort", "status.0"} <= set(failed.value.errors)


# ---------------------------------------------------------------- customers (S2)


def test_customer_list_detail_and_order_history(call, create, order_data, unique):
    first = create(email=f"hist-{unique}@example.com")
    customer_id = first["customer"]["id"]
    second = call("create_order", order_data(customer_id=customer_id, currency="EUR"))["order"]
    call("cancel_order", first["reference"], {})

    by_email = call("list_customers", {"q": f"HIST-{unique}"})
    number = call("get_customer", customer_id)["customer_number"]
    by_number = call("list_customers", {"q": number})
    detail = call("get_customer", customer_id)
    history = call("customer_orders", customer_id, {"page_size": 10})

    assert [c["id"] for c in by_email["items"]] == [customer_id]
    assert customer_id in [c["id"] for c in by_number["items"]]
    assert detail["order_count"] == 2
    # cancelled orders earn no revenue
    assert detail["totals"] == [{"currency": "EUR", "orders": 1, "revenue": second["total"]}]
    assert [item["reference"] for item in history["items"]] == [second["reference"], first["reference"]]
    with pytest.raises(NotFound):
        call("get_customer", 10**9)
    with pytest.raises(NotFound):
        call("customer_orders", 10**9)


# ---------------------------------------------------------------- numbering (S7, S8)


@pytest.fixture
def numbering(call):
    """The numbering settings; prefix and generation are put back after the test."""
    before = call("get_numbering")
    yield before
    call(
        "update_numbering",
        {"invoice_prefix": before["invoice_prefix"], "invoice_numbers_enabled": before["invoice_numbers_enabled"]},
    )


def test_start_numbers_and_prefix_apply_to_the_next_orders(call, create, numbering):
    reference_start = int(create()["reference"]) + 1000
    invoice_start = call("get_numbering")["last_invoice_number"] + 1000

    settings = call(
        "update_numbering",
        {"order_reference_start": reference_start, "invoice_number_start": invoice_start, "invoice_prefix": "RE-"},
    )
    first, second = create(), create()

    assert settings["next_order_reference"] == reference_start
    assert (first["reference"], second["reference"]) == (str(reference_start), str(reference_start + 1))
    assert (first["invoice_number"], second["invoice_number"]) == (f"RE-{invoice_start}", f"RE-{invoice_start + 1}")
    assert call("list_orders", {"q": "RE-"})["total"] >= 2


def test_a_lower_reference_start_never_takes_the_references_back(call, create, numbering):
    moved_to = int(create()["reference"]) + 500
    call("update_numbering", {"order_reference_start": moved_to})
    # nothing drawn since the move: a start between the last reference and the move is taken
    # as a setting, but the next reference stays where the sequence stands
    lowered = call("update_numbering", {"order_reference_start": moved_to - 100})
    assert (lowered["order_reference_start"], lowered["next_order_reference"]) == (moved_to - 100, moved_to)
    assert create()["reference"] == str(moved_to)
    assert call("get_numbering")["last_order_reference"] == moved_to


@pytest.mark.parametrize("field", ["order_reference_start", "invoice_number_start"])
def test_start_below_the_last_number_issued_is_a_conflict_naming_the_field(call, create, numbering, field):
    create()
    current = call("get_numbering")
    last = current["last_order_reference" if field == "order_reference_start" else "last_invoice_number"]

    with pytest.raises(Conflict) as refused:
        call("update_numbering", {field: last - 1})

    assert field in refused.value.errors
    assert call("get_numbering") == current


def test_without_invoice_generation_orders_get_no_invoice_number(call, create, numbering):
    call("update_numbering", {"invoice_numbers_enabled": False})
    last_before = call("get_numbering")["last_invoice_number"]

    order = create()

    assert order["invoice_number"] is None
    assert call("get_numbering")["last_invoice_number"] == last_before


def test_external_invoice_number_only_while_generation_is_off(call, create, numbering, unique):
    order = create()
    with pytest.raises(Conflict) as refused:
        call("set_external_invoice_number", order["reference"], {"invoice_number": f"ERP-{unique}"})
    assert "invoice_number" in refused.value.errors

    call("update_numbering", {"invoice_numbers_enabled": False})
    without = create()
    updated = call(
        "set_external_invoice_number",
        without["reference"],
        {"invoice_number": f"ERP-{unique}", "reason": "from the ERP"},
    )
    assert (updated["invoice_number"], updated["invoice_number_external"]) == (f"ERP-{unique}", True)
    last = call("order_history", without["reference"])[-1]
    assert (last["action"], last["reason"]) == ("invoice_number_set", "from the ERP")
    with pytest.raises(Conflict):  # one issued by OMS is not overwritten
        call("set_external_invoice_number", order["reference"], {"invoice_number": f"ERP2-{unique}"})

    other = create()
    with pytest.raises(Conflict) as duplicate:
        call("set_external_invoice_number", other["reference"], {"invoice_number": f"ERP-{unique}"})
    assert "invoice_number" in duplicate.value.errors
    assert call("get_order", other["reference"])["invoice_number"] is None


def test_search_takes_percent_and_underscore_literally(call, create, numbering, unique):
    call("update_numbering", {"invoice_numbers_enabled": False})
    with_underscore, with_letter = create(), create()
    call("set_external_invoice_number", with_underscore["reference"], {"invoice_number": f"U{unique}_7"})
    call("set_external_invoice_number", with_letter["reference"], {"invoice_number": f"U{unique}X7"})

    underscore = call("list_orders", {"q": f"U{unique}_"})
    percent = call("list_orders", {"q": f"U{unique}%"})
    only_percent = call("list_orders", {"q": "%"})
    only_underscore = call("list_orders", {"q": "_"})

    assert [item["reference"] for item in underscore["items"]] == [with_underscore["reference"]]
    assert percent["total"] == 0

    def starts_with(prefix, item):
        return item["reference"].startswith(prefix) or (item["invoice_number"] or "").startswith(prefix)

    # whatever other tests stored: a lone "%" or "_" matches only numbers that begin with it
    assert all(starts_with("%", item) for item in only_percent["items"])
    assert all(starts_with("_", item) for item in only_underscore["items"])
    assert with_underscore["reference"] not in {item["reference"] for item in only_underscore["items"]}


# ---------------------------------------------------------------- idempotency


def test_same_idempotency_key_and_body_creates_one_order(call, order_data, unique):
    body = order_data()

    first = call("create_order", body, idempotency_key=f"key-{unique}")
    again = call("create_order", body, idempotency_key=f"key-{unique}")

    assert (first["replayed"], again["replayed"]) == (False, True)
    assert again["order"]["reference"] == first["order"]["reference"]
    assert own_orders(call, first["order"]["customer"]["id"])["total"] == 1


def test_same_idempotency_key_with_another_body_is_a_conflict(call, order_data, unique):
    call("create_order", order_data(), idempotency_key=f"key-{unique}")
    another = order_data()

    with pytest.raises(Conflict):
        call("create_order", another, idempotency_key=f"key-{unique}")
    assert call("list_customers", {"q": another["customer"]["email"]})["total"] == 0


# ---------------------------------------------------------------- audit trail


def test_every_change_is_audited_with_actor_origin_and_reason(call, create, orders_db):
    order = create()
    reference = order["reference"]
    call("change_status", reference, {"status": "in_progress", "reason": "picking"}, actor=AGENT)
    call("ship_order", reference, {"reason": "left the warehouse"}, actor=AGENT)
    call("change_status", reference, {"status": "completed"})  # no actor: the system did it

    history = call("order_history", reference)

    assert [(e["action"], e["from"], e["to"]) for e in history] == [
        ("created", None, "new"),
        ("status_changed", "new", "in_progress"),
        ("status_changed", "in_progress", "shipped"),
        ("status_changed", "shipped", "completed"),
    ]
    assert [(e["actor"], e["origin"]) for e in history] == [
        ("alice", "gateway 10.0.0.7"),
        ("bob", "gateway 10.0.0.8"),
        ("bob", "gateway 10.0.0.8"),
        ("system", "internal"),
    ]
    assert [e["reason"] for e in history[1:3]] == ["picking", "left the warehouse"]
    assert all(e["at"] for e in history)
    with orders_db.read_session() as session:  # one row per change, none written twice
        rows = session.execute(
            select(func.count()).select_from(OrderHistory).join(Order).where(Order.reference == reference)
        ).scalar_one()
    assert rows == 4


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "change,field",
    [
        (lambda d: d["lines"][0].update(quantity=0), "lines.0.quantity"),
        (lambda d: d["lines"][1].update(quantity="2"), "lines.1.quantity"),
        (lambda d: d["lines"][0].update(unit_price="-1"), "lines.0.unit_price"),
        (lambda d: d["billing_address"].update(country="Switzerland"), "billing_address.country"),
        (lambda d: d["billing_address"].update(planet="Earth"), "billing_address.planet"),
        (lambda d: d.update(colour="blue"), "colour"),
        (lambda d: d.update(lines=[]), "lines"),
        (lambda d: d.update(currency="chf"), "currency"),
        (lambda d: d.update(payment_method="barter"), "payment_method"),
        (lambda d: d["customer"].update(email="not-an-email"), "customer.email"),
        (lambda d: d.update(customer_id=1), "customer"),  # both customer and customer_id
        (lambda d: d.update(submit=False), "session_id"),  # an open order needs its session
        (lambda d: d["lines"][0].update(name="bad\x00name"), "lines.0.name"),
    ],
)
def test_invalid_order_is_refused_naming_the_field(call, order_data, orders_db, change, field):
    body = order_data()
    change(body)
    with orders_db.read_session() as session:
        orders_before = session.execute(select(func.count()).select_from(Order)).scalar_one()

    with pytest.raises(ValidationFailed) as failed:
        call("create_order", body)

    assert field in failed.value.errors, failed.value.errors
    assert field in failed.value.detail
    with orders_db.read_session() as session:  # nothing half-applied
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == orders_before


@pytest.mark.parametrize(
    "method,args,field",
    [
        ("ship_order", ({"notify": "sometimes"},), "notify"),
        ("change_status", ({"status": "lost"},), "status"),
        ("change_status", ({"status": "shipped", "version": "1"},), "version"),
        ("cancel_order", ({"reason": "x", "refund": True},), "refund"),
    ],
)
def test_invalid_status_change_is_refused_naming_the_field(call, create, order_state, method, args, field):
    order = create()
    before = order_state(order["reference"])
    with pytest.raises(ValidationFailed) as failed:
        call(method, order["reference"], *args)
    assert field in failed.value.errors
    assert order_state(order["reference"]) == before


def test_non_object_body_is_a_validation_problem(call, orders_db):
    with orders_db.read_session() as session:
        orders_before = session.execute(select(func.count()).select_from(Order)).scalar_one()
    with pytest.raises(ValidationFailed):
        call("create_order", ["not", "an", "object"])
    with orders_db.read_session() as session:
        assert session.execute(select(func.count()).select_from(Order)).scalar_one() == orders_before


def test_prices_with_more_places_than_the_currency_are_refused_not_rounded(call, order_data, unique):
    email = f"cents-{unique}@example.com"
    lines = [{"article_number": "H-1", "name": "Half cent", "quantity": 1, "unit_price": "0.125"}]

    with pytest.raises(ValidationFailed) as refused:
        call("create_order", order_data(email=email, lines=lines, shipping_cost="0.005"))

    assert {"lines.0.unit_price", "shipping_cost"} <= set(refused.value.errors)
    assert call("list_customers", {"q": email})["total"] == 0  # nothing was created


def test_malformed_actor_is_a_validation_problem_naming_the_field(call, order_data):
    body = order_data()
    with pytest.raises(ValidationFailed) as failed:
        call("create_order", body, actor={"kind": "robot"})
    assert {"actor.name", "actor.kind"} <= set(failed.value.errors)
    assert call("list_customers", {"q": body["customer"]["email"]})["total"] == 0


def test_ping_reports_the_database(call):
    assert call("ping") == {"service": "orders", "status": "ok", "database": "ok"}


def test_too_long_idempotency_key_is_a_validation_problem(call, order_data):
    body = order_data()
    with pytest.raises(ValidationFailed) as failed:
        call("create_order", body, idempotency_key="k" * 201)
    assert "Idempotency-Key" in failed.value.errors
    assert call("list_customers", {"q": body["customer"]["email"]})["total"] == 0


@pytest.mark.parametrize("customer_id", ["abc", "0", "-4", "1e3", 10**30])
def test_malformed_customer_id_is_not_found(call, customer_id):
    with pytest.raises(NotFound):
        call("get_customer", customer_id)
    with pytest.raises(NotFound):
        call("customer_orders", customer_id)


# ---------------------------------------------------------------- reassign and merge customers (S15)


def test_reassign_an_order_to_another_customer(call, create):
    order, other = create(), create()
    target = other["customer"]["id"]

    moved = call(
        "reassign_customer", order["reference"], {"customer_id": target, "reason": "wrong account"}, actor=AGENT
    )

    # the order now names its new customer; its addresses, invoice and totals stay
    assert moved["customer"] == other["customer"]
    assert {key: moved[key] for key in ("billing_address", "shipping_address", "invoice_number", "total")} == {
        key: order[key] for key in ("billing_address", "shipping_address", "invoice_number", "total")
    }
    assert order["reference"] in [item["reference"] for item in call("customer_orders", target)["items"]]
    assert call("customer_orders", order["customer"]["id"])["total"] == 0
    last = call("order_history", order["reference"])[-1]
    assert (last["action"], last["reason"], last["actor"]) == ("customer_reassigned", "wrong account", "bob")
    assert (last["details"]["from"], last["details"]["to"]) == (order["customer"]["id"], target)
    assert (last["details"]["from_customer"]["email"], last["details"]["to_customer"]["email"]) == (
        order["customer"]["email"],
        other["customer"]["email"],
    )
    with pytest.raises(Conflict):
        call("reassign_customer", order["reference"], {"customer_id": target})
    with pytest.raises(ValidationFailed) as unknown:
        call("reassign_customer", order["reference"], {"customer_id": 10**12})
    assert "customer_id" in unknown.value.errors


def test_merge_moves_every_order_and_retires_the_duplicate(call, create, order_data, unique):
    first = create(email=f"dup-{unique}@example.com")
    duplicate = first["customer"]["id"]
    second = call("create_order", order_data(customer_id=duplicate))["order"]
    kept_order = create()
    kept = kept_order["customer"]["id"]

    answer = call("merge_customers", duplicate, {"into": kept, "reason": "same person"}, actor=AGENT)

    assert answer == {"customer_id": duplicate, "into": kept, "orders_moved": 2}
    assert {item["reference"] for item in call("customer_orders", kept, {})["items"]} == {
        first["reference"],
        second["reference"],
        kept_order["reference"],
    }
    assert call("get_customer", duplicate)["merged_into_id"] == kept
    assert call("list_customers", {"q": f"dup-{unique}"})["total"] == 0
    for reference in (first["reference"], second["reference"]):
        last = call("order_history", reference)[-1]
        assert (last["action"], last["details"], last["reason"]) == (
            "customer_merged",
            {"from": duplicate, "to": kept},
            "same person",
        )
    with pytest.raises(ValidationFailed):  # a retired customer takes no new orders
        call("create_order", order_data(customer_id=duplicate))
    with pytest.raises(Conflict):
        call("merge_customers", duplicate, {"into": kept})


def test_merge_refuses_itself_and_unknown_customers(call, create):
    customer_id = create()["customer"]["id"]
    before = call("get_customer", customer_id)
    with pytest.raises(Conflict):
        call("merge_customers", customer_id, {"into": customer_id})
    with pytest.raises(ValidationFailed) as unknown:
        call("merge_customers", customer_id, {"into": 10**12})
    assert "into" in unknown.value.errors
    with pytest.raises(NotFound):
        call("merge_customers", 10**12, {"into": customer_id})
    assert call("get_customer", customer_id) == before
    assert before["merged_into_id"] is None


# ---------------------------------------------------------------- article-order report (S12)


def test_article_report_lists_matching_lines_with_totals(call, create, unique):
    def lines(*items):
        return [
            {"article_number": number, "name": f"Item {number}", "quantity": quantity, "unit_price": price}
            for number, quantity, price in items
        ]

    chf = create(lines=lines((f"ART{unique}-1", 2, "10.00"), ("OTHER-1", 1, "3.00")))
    eur = create(lines=lines((f"art{unique}-2", 1, "5.50")), currency="EUR")
    cancelled = create(lines=lines((f"ART{unique}-1", 9, "10.00")))
    call("cancel_order", cancelled["reference"], {})
    create(lines=lines((f"ART{unique}-1", 7, "10.00")), submit=False, session_id=f"s-{unique}")  # a cart
    today = chf["created_at"][:10]

    report = call("article_report", {"article": f"ART{unique}", "from": today, "to": today})

    assert [(i["reference"], i["article_number"], i["quantity"], i["line_total"]) for i in report["items"]] == [
        (chf["reference"], f"ART{unique}-1", 2, "20.00"),
        (eur["reference"], f"art{unique}-2", 1, "5.50"),
    ]
    assert report["totals"] == {"orders": 2, "quantity": 3, "revenue": {"CHF": "20.00", "EUR": "5.50"}}
    assert report["items"][0]["customer"] == {"id": chf["customer"]["id"], "name": "Anna Muster"}
    assert report["truncated"] is False


def test_article_report_date_range_and_literal_wildcards(call, create, unique):
    order = create(lines=[{"article_number": f"W{unique}", "name": "W", "quantity": 1, "unit_price": "1.00"}])
    day = datetime.fromisoformat(order["created_at"]).date()

    assert call("article_report", {"article": f"W{unique}", "to": str(day - timedelta(days=1))})["items"] == []
    assert call("article_report", {"article": f"W{unique}", "from": str(day + timedelta(days=1))})["items"] == []
    assert len(call("article_report", {"article": f"W{unique}", "from": str(day)})["items"]) == 1
    assert all("%" in item["article_number"] for item in call("article_report", {"article": "%"})["items"])
    assert call("article_report", {"article": f"W{unique}%"})["items"] == []
    assert call("article_report", {"article": f"W{unique[:3]}_{unique[4:]}"})["items"] == []


def test_article_report_validates_its_query(call):
    with pytest.raises(ValidationFailed) as failed:
        call("article_report", {"from": "2026-02-30"})
    assert {"article", "from"} <= set(failed.value.errors)
    with pytest.raises(ValidationFailed) as reversed_range:
        call("article_report", {"article": "A", "from": "2026-03-02", "to": "2026-03-01"})
    assert "from" in reversed_range.value.errors
