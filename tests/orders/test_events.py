"""Events through the outbox, and the payment-status read copy fed by payment events.

Exactly once: when the outbox rows of an order are marked published, the broker has
confirmed every publish of them, so after draining the tap's queue nothing more can come;
counting the order's events then shows that each was published once. (Relays of several
replicas may publish an order's transactions out of order, so counts, not sequences.)
"""

import uuid
from collections import Counter

import pytest
from kombu import Connection
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select

from oms_common.events import parked_messages, parked_queue
from orders.models import infrastructure

AGENT = {"name": "bob", "kind": "user", "role": "agent", "origin": "gateway 10.0.0.8"}
PAYMENT_QUEUE = "evt-payments-payment_status_changed--orders.on_payment_status_changed"


def of_order(received, reference):
    return [(kind, payload) for kind, payload in received if payload.get("order", {}).get("reference") == reference]


def events_once(order_events, orders_db, wait_until, reference, *expected):
    """The order's events, once ``expected`` (types) arrived and nothing more can come."""
    order_events.wait_for(
        lambda received: Counter(kind for kind, _ in of_order(received, reference)) >= Counter(expected),
        message=f"{expected} of order {reference}",
    )
    wait_until(lambda: all_published(orders_db, reference), message="the order's outbox rows marked published")
    order_events.drain_until_quiet()
    events = of_order(order_events.received, reference)
    assert Counter(kind for kind, _ in events) == Counter(expected)
    assert len({payload["event_id"] for _, payload in events}) == len(expected)
    return events


def all_published(orders_db, reference):
    outbox = infrastructure.outbox
    with orders_db.read_session() as session:
        rows = session.execute(
            select(outbox.c.published_at).where(outbox.c.payload["order"]["reference"].as_string() == reference)
        ).all()
    return bool(rows) and all(row.published_at for row in rows)


def test_create_and_ship_publish_each_event_once(create, call, order_events, orders_db, wait_until):
    order = create()
    reference = order["reference"]
    call("ship_order", reference, {"notify": True, "tracking_number": "TRK-1"}, actor=AGENT)

    events = dict(
        events_once(
            order_events,
            orders_db,
            wait_until,
            reference,
            "order_created",
            "order_submitted",
            "order_shipped",
            "order_status_changed",
        )
    )

    created, shipped, changed = events["order_created"], events["order_shipped"], events["order_status_changed"]
    assert (created["order"]["status"], created["actor"]["name"]) == ("new", "alice")
    # issued inside the commit: the events carry the number the caller was given
    assert order["invoice_number"] and call("get_order", reference)["invoice_number"] == order["invoice_number"]
    assert (
        created["order"]["invoice_number"]
        == events["order_submitted"]["order"]["invoice_number"]
        == order["invoice_number"]
    )
    assert call("order_history", reference)[0]["details"] == {"invoice_number": order["invoice_number"]}
    assert (shipped["notify"], shipped["tracking_number"]) == (True, "TRK-1")
    assert (changed["from_status"], changed["to_status"], changed["notify"]) == ("new", "shipped", True)
    assert all(payload["event_id"] and payload["occurred_at"] for payload in events.values())


def test_cancel_publishes_cancelled_with_notify_and_reason(create, call, order_events, orders_db, wait_until):
    reference = create()["reference"]
    call("cancel_order", reference, {"notify": True, "reason": "out of stock"})

    events = dict(
        events_once(
            order_events,
            orders_db,
            wait_until,
            reference,
            "order_created",
            "order_submitted",
            "order_cancelled",
            "order_status_changed",
        )
    )

    cancelled = events["order_cancelled"]
    assert (cancelled["notify"], cancelled["reason"], cancelled["order"]["status"]) == (
        True,
        "out of stock",
        "cancelled",
    )
    assert events["order_status_changed"]["notify"] is True


def test_status_changes_publish_status_changed_once_each(create, call, order_events, orders_db, wait_until):
    reference = create()["reference"]
    call("change_status", reference, {"status": "in_progress", "notify": False})
    call("change_status", reference, {"status": "completed", "notify": True})

    events = events_once(
        order_events,
        orders_db,
        wait_until,
        reference,
        "order_created",
        "order_submitted",
        "order_status_changed",
        "order_status_changed",
    )

    changes = sorted((p["to_status"], p["notify"]) for kind, p in events if kind == "order_status_changed")
    assert changes == [("completed", True), ("in_progress", False)]


def test_submitting_an_open_order_publishes_submitted(create, call, order_events, orders_db, wait_until):
    order = create(submit=False, session_id="sess-events")
    call("submit_order", order["reference"], {"session_id": "sess-events"})

    events = dict(
        events_once(
            order_events,
            orders_db,
            wait_until,
            order["reference"],
            "order_created",
            "order_submitted",
            "order_status_changed",
        )
    )

    assert events["order_created"]["order"]["status"] == "open"
    assert (events["order_status_changed"]["from_status"], events["order_status_changed"]["to_status"]) == (
        "open",
        "new",
    )


def test_the_outbox_rows_of_an_order_are_all_marked_published(create, orders_db, order_events, wait_until):
    reference = create()["reference"]
    events_once(order_events, orders_db, wait_until, reference, "order_created", "order_submitted")

    outbox = infrastructure.outbox
    with orders_db.read_session() as session:
        rows = session.execute(
            select(outbox.c.event_type, outbox.c.published_at).where(
                outbox.c.payload["order"]["reference"].as_string() == reference
            )
        ).all()
    assert sorted(row.event_type for row in rows) == ["order_created", "order_submitted"]
    assert all(row.published_at is not None for row in rows)


# ---------------------------------------------------------------- payment status read copy (S13)


@pytest.fixture
def publish_payment_event(orders_container, orders_config):
    """Sends payment_status_changed as the payments service would."""
    dispatch = event_dispatcher(orders_config)

    def publish(reference, status, sequence, event_id=None):
        payload = {
            "event_id": event_id or uuid.uuid4().hex,
            "order_reference": reference,
            "status": status,
            "sequence": sequence,
            "actor": {"name": "stripe", "kind": "psp", "origin": "webhook"},
        }
        dispatch("payments", "payment_status_changed", payload)
        return payload

    return publish


def payment_entries(call, reference):
    return [e for e in call("order_history", reference) if e["action"].startswith("payment_status")]


def wait_for_payment_entries(call, wait_until, reference, count):
    """Waits until the order's audit trail shows ``count`` payment entries. (Polling the effect,
    not the handler: any OrdersService on the vhost may be the one that consumes the event.)"""
    return wait_until(
        lambda: len(entries := payment_entries(call, reference)) >= count and entries,
        message=f"{count} payment entries on order {reference}",
    )


def test_payment_event_updates_the_read_copy(create, call, publish_payment_event, wait_until):
    order = create()

    publish_payment_event(order["reference"], "announced", 1)

    [entry] = wait_for_payment_entries(call, wait_until, order["reference"], 1)
    assert (entry["from"], entry["to"], entry["actor"], entry["actor_kind"]) == ("unpaid", "announced", "stripe", "psp")
    after = call("get_order", order["reference"])
    assert (after["payment_status"], after["status"]) == ("announced", "new")
    announced = call("list_orders", {"customer_id": order["customer"]["id"], "payment_status": ["announced"]})
    assert [item["reference"] for item in announced["items"]] == [order["reference"]]


def test_redelivered_payment_event_changes_the_order_once(
    create, call, orders_container, publish_payment_event, wait_until
):
    order = create()
    event_id = uuid.uuid4().hex
    for _ in range(3):  # three deliveries through the broker
        event = publish_payment_event(order["reference"], "paid", 1, event_id=event_id)
    wait_for_payment_entries(call, wait_until, order["reference"], 1)

    for _ in range(2):  # and two more straight into the handler, each finished when the call returns
        with entrypoint_hook(orders_container, "on_payment_status_changed") as deliver:
            deliver(event)

    after = call("get_order", order["reference"])
    assert after["payment_status"] == "paid"
    assert after["version"] == order["version"] + 1
    assert [e["action"] for e in payment_entries(call, order["reference"])] == ["payment_status_changed"]


def test_older_payment_event_does_not_downgrade(create, call, publish_payment_event, wait_until):
    order = create()
    publish_payment_event(order["reference"], "paid", 5)
    wait_for_payment_entries(call, wait_until, order["reference"], 1)

    publish_payment_event(order["reference"], "unpaid", 4)  # sent earlier, arrived later

    entries = wait_for_payment_entries(call, wait_until, order["reference"], 2)
    assert [(e["action"], e["to"]) for e in entries] == [
        ("payment_status_changed", "paid"),
        ("payment_status_stale", "unpaid"),
    ]
    assert call("get_order", order["reference"])["payment_status"] == "paid"


def test_paid_moves_a_payment_pending_order_to_new(
    create, call, publish_payment_event, wait_until, order_events, orders_db
):
    order = create(payment_method="card")
    assert order["status"] == "payment_pending"

    publish_payment_event(order["reference"], "paid", 1)

    wait_until(lambda: call("get_order", order["reference"])["status"] == "new", message="the order to be new")
    assert call("get_order", order["reference"])["payment_status"] == "paid"
    history = call("order_history", order["reference"])
    assert [(e["action"], e["to"]) for e in history] == [
        ("created", "payment_pending"),
        ("payment_status_changed", "paid"),
        ("status_changed", "new"),
    ]
    events = dict(
        events_once(
            order_events,
            orders_db,
            wait_until,
            order["reference"],
            "order_created",
            "order_submitted",
            "order_status_changed",
        )
    )
    change = events["order_status_changed"]
    assert (change["from_status"], change["to_status"], change["actor"]["name"]) == ("payment_pending", "new", "stripe")


def test_failed_payment_leaves_a_pending_order_waiting(create, call, publish_payment_event, wait_until):
    order = create(payment_method="paypal")

    publish_payment_event(order["reference"], "failed", 1)

    wait_for_payment_entries(call, wait_until, order["reference"], 1)
    after = call("get_order", order["reference"])
    assert (after["status"], after["payment_status"]) == ("payment_pending", "failed")


def test_payment_event_for_an_unknown_order_is_parked(orders_config, publish_payment_event, wait_until):
    reference = f"missing-{uuid.uuid4().hex[:8]}"
    publish_payment_event(reference, "paid", 1)

    def parked():
        return [m for m in parked_messages(orders_config["AMQP_URI"], PAYMENT_QUEUE) if reference in m["body"]]

    [message] = wait_until(parked, message="the event in the parked queue")
    assert message["headers"]["x-oms-attempt"] == 3  # first try + the two configured retries
    assert "NotFound" in message["headers"]["x-oms-error"]
    discard_parked(orders_config["AMQP_URI"], reference)  # leave no litter for later tests


def discard_parked(amqp_uri, needle):
    with Connection(amqp_uri) as connection:
        queue = parked_queue(PAYMENT_QUEUE)(connection.default_channel)
        kept = []
        while (message := queue.get(no_ack=False)) is not None:
            body = message.body.decode() if isinstance(message.body, bytes) else message.body
            if needle in body:
                message.ack()
            else:
                kept.append(message)
        for message in kept:
            message.requeue()


def test_events_carry_the_correlation_id_of_the_request(
    orders_container, order_data, order_events, orders_db, wait_until
):
    correlation_id = uuid.uuid4().hex
    with entrypoint_hook(orders_container, "create_order", context_data={"correlation_id": correlation_id}) as create:
        reference = create(order_data())["order"]["reference"]

    events_once(order_events, orders_db, wait_until, reference, "order_created", "order_submitted")

    assert [headers.get("nameko.correlation_id") for headers in order_events.headers_of(reference)] == [
        correlation_id,
        correlation_id,
    ]


def test_submit_publishes_the_invoice_number_it_answers(create, call, order_events, orders_db, wait_until):
    cart = create(submit=False, session_id="sess-events")
    assert cart["invoice_number"] is None
    submitted = call("submit_order", cart["reference"], {"session_id": "sess-events"})
    assert submitted["invoice_number"] and submitted["status"] == "new"

    events = dict(
        events_once(
            order_events,
            orders_db,
            wait_until,
            cart["reference"],
            "order_created",
            "order_submitted",
            "order_status_changed",
        )
    )

    assert events["order_created"]["order"]["invoice_number"] is None
    assert events["order_submitted"]["order"]["invoice_number"] == submitted["invoice_number"]
    assert events["order_status_changed"]["order"]["invoice_number"] == submitted["invoice_number"]
    assert call("get_order", cart["reference"])["invoice_number"] == submitted["invoice_number"]
