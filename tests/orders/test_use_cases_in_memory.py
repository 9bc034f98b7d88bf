"""The order use cases whose rules are not about SQL, run against orders kept in memory.

Each test drives a real use case (orders.workflow) through the same ``OrderUnit`` port the
service runs over PostgreSQL: what it records (version, counts, audit row, events) and what a
refusal leaves behind (nothing). Locks, numbering and SKIP LOCKED are the database's and are
tested against PostgreSQL (test_concurrent_changes, test_numbering_concurrency).
"""

import pytest

from oms_common.problems import Conflict, NotFound, ServiceUnavailable
from orders import workflow
from tests.orders.in_memory import InMemoryOrders

ADMIN = {"name": "alice", "kind": "user", "role": "admin", "origin": "gateway 10.0.0.7"}


@pytest.fixture
def place():
    return InMemoryOrders()


def test_shipping_steps_the_version_moves_the_count_audits_and_announces_in_one_commit(place):
    order = place.add_order(status="in_progress")

    answer = workflow.ship_order(place, order.reference, {"tracking_number": "99.00.123", "version": 1}, ADMIN)

    assert (answer["status"], answer["version"], answer["tracking_number"]) == ("shipped", 2, "99.00.123")
    assert place.commits == 1
    assert place.counts[("in_progress", "unpaid")] == 0 and place.counts[("shipped", "unpaid")] == 1
    [entry] = place.history
    assert (entry.action, entry.from_status, entry.to_status, entry.actor, entry.origin) == (
        "status_changed",
        "in_progress",
        "shipped",
        "alice",
        "gateway 10.0.0.7",
    )
    assert [event["event_type"] for event in place.events] == ["order_shipped", "order_status_changed"]
    shipped = place.events_of("order_shipped")[0]
    assert shipped["tracking_number"] == "99.00.123" and shipped["from_status"] == "in_progress"
    assert shipped["order"]["status"] == "shipped" and shipped["order"]["version"] == 2
    assert shipped["schema_version"] == 1 and shipped["customer"]["email"] == order.customer_email
    assert shipped["actor"]["name"] == "alice"


def test_a_stale_version_is_refused_and_nothing_is_recorded(place):
    order = place.add_order(status="new", version=3)

    with pytest.raises(Conflict) as refused:
        workflow.cancel_order(place, order.reference, {"reason": "customer asked", "version": 2}, ADMIN)

    assert "version" in refused.value.errors
    assert (order.status, order.version) == ("new", 3)
    assert (place.commits, place.history, place.events) == (0, [], [])


def test_a_move_the_status_machine_forbids_is_a_conflict_and_leaves_the_order_as_it_was(place):
    order = place.add_order(status="cancelled")

    with pytest.raises(Conflict):
        workflow.change_status(place, order.reference, {"status": "shipped"}, ADMIN)

    assert (order.status, order.version) == ("cancelled", 1)
    assert place.counts[("cancelled", "unpaid")] == 1
    assert (place.commits, place.history, place.events) == (0, [], [])


def test_a_plain_status_change_cannot_check_out_an_open_order(place):
    order = place.add_order(status="open")

    with pytest.raises(Conflict):
        workflow.change_status(place, order.reference, {"status": "new"}, ADMIN)

    assert order.status == "open" and place.events == []


def test_cancelling_announces_the_reason_and_counts_the_order_as_cancelled(place):
    order = place.add_order(status="new")

    workflow.cancel_order(place, order.reference, {"reason": "out of stock"}, ADMIN)

    [cancelled] = place.events_of("order_cancelled")
    assert (cancelled["reason"], cancelled["from_status"], cancelled["to_status"]) == (
        "out of stock",
        "new",
        "cancelled",
    )
    assert place.history[0].reason == "out of stock"
    assert place.counts[("new", "unpaid")] == 0 and place.counts[("cancelled", "unpaid")] == 1


def test_an_unknown_order_is_not_found(place):
    with pytest.raises(NotFound):
        workflow.ship_order(place, "404404", {}, ADMIN)


def test_a_card_order_without_captured_money_ships_only_after_payments_captured_it(place):
    order = place.add_order(status="new", payment_method="card", payment_status="authorized")
    captured = []

    workflow.ship_order(place, order.reference, {}, ADMIN, capture=lambda reference, actor: captured.append(reference))

    assert captured == [order.reference] and order.status == "shipped"


def test_a_refused_capture_refuses_the_ship_before_anything_is_written(place):
    order = place.add_order(status="new", payment_method="card", payment_status="authorized")

    def refuse(reference, actor):
        raise Conflict("The PSP refused the capture: authorization expired.")

    with pytest.raises(Conflict, match="authorization expired"):
        workflow.ship_order(place, order.reference, {}, ADMIN, capture=refuse)

    assert (order.status, order.version) == ("new", 1)
    assert (place.commits, place.history, place.events) == (0, [], [])


def test_an_invoice_order_ships_without_asking_payments(place):
    order = place.add_order(status="new", payment_method="invoice")

    def must_not_capture(reference, actor):
        raise AssertionError("an invoice order has no PSP money to capture")

    workflow.ship_order(place, order.reference, {}, ADMIN, capture=must_not_capture)

    assert order.status == "shipped"


def test_a_bulk_change_reports_each_order_and_commits_only_the_allowed_ones(place):
    movable = place.add_order(status="new")
    final = place.add_order(status="completed")
    silent = place.add_order(status="new", payment_method="card", payment_status="authorized")

    def payments_silent(reference, actor):
        raise ServiceUnavailable("payments did not answer")

    result = workflow.bulk_change_status(
        place,
        {"references": [movable.reference, final.reference, silent.reference, "404404"], "status": "shipped"},
        ADMIN,
        capture=payments_silent,
    )

    outcome = {row["reference"]: row["ok"] for row in result["results"]}
    assert outcome == {movable.reference: True, final.reference: False, silent.reference: False, "404404": False}
    assert (result["succeeded"], result["failed"]) == (1, 3)
    assert (movable.status, final.status, silent.status) == ("shipped", "completed", "new")
    assert place.commits == 1 and len(place.events_of("order_shipped")) == 1


def test_pausing_takes_the_open_order_off_its_session_and_assigning_gives_it_to_another(place):
    order = place.add_order(status="open", session_id="session-a")

    paused = workflow.pause_order(place, order.reference, {}, ADMIN)
    assigned = workflow.assign_order(place, order.reference, {"session_id": "session-b"}, ADMIN)

    assert paused["paused"] is True and assigned["paused"] is False
    assert (order.session_id, order.version) == ("session-b", 3)
    assert [(entry.action, entry.details) for entry in place.history] == [
        ("paused", {"session_id": "session-a"}),
        ("assigned", {"session_id": "session-b"}),
    ]


def test_pausing_an_order_twice_is_refused_the_second_time(place):
    order = place.add_order(status="open", session_id="session-a")
    workflow.pause_order(place, order.reference, {}, ADMIN)

    with pytest.raises(Conflict, match="already paused"):
        workflow.pause_order(place, order.reference, {}, ADMIN)

    assert place.commits == 1 and order.version == 2


def test_only_an_open_order_can_be_paused(place):
    order = place.add_order(status="new")

    with pytest.raises(Conflict, match="Only open orders"):
        workflow.pause_order(place, order.reference, {}, ADMIN)

    assert place.commits == 0
