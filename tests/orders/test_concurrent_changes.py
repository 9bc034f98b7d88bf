"""Concurrent edits of orders (design rule 6): one winner per order, no deadlocks.

Calls go over real RPC (entrypoint_hook cannot tell concurrent calls' results apart).
"""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from oms_common.problems import Conflict


@pytest.fixture
def run_concurrently(orders_container, orders_config):
    """Sends (method, args) calls at once; returns each result or the Conflict it raised."""
    with ClusterRpcProxy(orders_config, timeout=30) as cluster:

        def run(calls):
            replies = [getattr(cluster.orders, method).call_async(*args) for method, args in calls]
            outcomes = []
            for reply in replies:
                try:
                    outcomes.append(reply.result())
                except Conflict as problem:
                    outcomes.append(problem)
            return outcomes

        yield run


def test_two_admins_shipping_one_order_at_once_one_wins(call, create, run_concurrently):
    reference = create()["reference"]

    outcomes = run_concurrently([("ship_order", (reference, {"notify": True}))] * 8)

    assert sum(1 for outcome in outcomes if isinstance(outcome, dict)) == 1
    assert sum(1 for outcome in outcomes if isinstance(outcome, Conflict)) == 7
    shipped = [e for e in call("order_history", reference) if e["to"] == "shipped"]
    assert len(shipped) == 1


def test_opposite_status_moves_at_once_do_not_deadlock(call, create, run_concurrently):
    forward = [create()["reference"] for _ in range(10)]
    backward = [create()["reference"] for _ in range(10)]
    for reference in backward:
        call("change_status", reference, {"status": "in_progress"})

    for _ in range(3):
        # new → in_progress and in_progress → new touch the same two count rows in opposite order
        outcomes = run_concurrently(
            [("change_status", (ref, {"status": "in_progress"})) for ref in forward]
            + [("change_status", (ref, {"status": "new"})) for ref in backward]
        )
        assert all(isinstance(outcome, dict) for outcome in outcomes), outcomes
        forward, backward = backward, forward


def test_retries_with_one_idempotency_key_racing_create_one_order(call, order_data, run_concurrently):
    body = order_data()

    outcomes = run_concurrently([("create_order", (body, None, "race-key-" + body["customer"]["email"]))] * 6)

    assert sorted(outcome["replayed"] for outcome in outcomes) == [False] + [True] * 5
    assert len({outcome["order"]["reference"] for outcome in outcomes}) == 1
    customer_id = outcomes[0]["order"]["customer"]["id"]
    assert call("list_orders", {"customer_id": customer_id})["total"] == 1


def test_numbering_settings_change_while_orders_are_created(call, order_data, run_concurrently):
    """Prefix changes racing 30 creations: every order gets a number under one of the prefixes
    that were in force, the numbers stay unique and gapless, and the last change sticks."""
    original = call("get_numbering")["invoice_prefix"]
    prefixes = [f"RACE{n}-" for n in range(10)]
    creates = [("create_order", (order_data(),)) for _ in range(30)]
    changes = [("update_numbering", ({"invoice_prefix": prefix},)) for prefix in prefixes]
    try:
        outcomes = run_concurrently([calls for pair in zip(creates, changes * 3, strict=False) for calls in pair])

        assert all(isinstance(outcome, dict) for outcome in outcomes), outcomes
        numbers = [outcome["order"]["invoice_number"] for outcome in outcomes if "order" in outcome]
        assert len(numbers) == 30
        split = []
        for number in numbers:
            prefix = next(
                (p for p in [original, *prefixes] if number.startswith(p) and number[len(p) :].isdigit()), None
            )
            assert prefix is not None, number
            split.append(int(number[len(prefix) :]))
        assert sorted(split) == list(range(min(split), min(split) + 30))  # unique and gapless
        assert call("get_numbering")["invoice_prefix"] in prefixes
    finally:
        call("update_numbering", {"invoice_prefix": original})
