"""A payment record made on first use and the order event that comes after it.

The record made from the order's data (a client asked before the event arrived) and the
record the event would make share one key: the later event finds it and changes nothing
that happened meanwhile.
"""

from sqlalchemy import select

from payments import records
from payments.psp import build_adapters
from tests.payments.conftest import Payment, new_reference, order_event, wait_for

ACCOUNTANT = {"name": "bea", "kind": "user", "role": "accountant", "origin": "test"}


def consumed(payments_db, event_id, consumer):
    table = payments_db.infrastructure.processed_events
    with payments_db.read_session() as session:
        return (
            session.execute(
                select(table.c.event_id).where(table.c.event_id == event_id, table.c.consumer == consumer)
            ).first()
            is not None
        )


def test_record_made_on_first_use_is_kept_by_the_later_event(
    payments_service, payments_config, payments_db, dispatch, probe, rpc
):
    reference = new_reference()
    event = order_event(reference, "invoice", total="80.00", status="new")
    asked = []

    def order_of(ref):
        asked.append(ref)
        return event["order"]

    assert records.ensure_payment(payments_db, build_adapters(payments_config), reference, order_of)
    assert asked == [reference]
    # asked again: the record is there, the orders service is not asked
    assert records.ensure_payment(payments_db, build_adapters(payments_config), reference, order_of)
    assert asked == [reference]
    assert rpc.payments.set_payment_status(reference, {"status": "announced"}, ACCOUNTANT)["status"] == "announced"

    for event_type, consumer in (
        ("order_created", "payments.order_created"),
        ("order_submitted", "payments.order_submitted"),
    ):
        late = {**event, "event_id": f"{event['event_id']}-{event_type}"}
        dispatch(event_type, late)
        wait_for(lambda: consumed(payments_db, late["event_id"], consumer), message=f"{event_type} consumed")

    with payments_db.read_session() as session:
        rows = session.execute(select(Payment).where(Payment.order_reference == reference)).scalars().all()
    assert [(row.status, row.amount, row.method) for row in rows] == [("announced", 80, "invoice")]
    assert [(entry.action, entry.origin) for entry in probe.audit(reference)] == [
        ("payment_created", "payments:first-use"),
        ("manual_status", "test"),
    ]


def test_open_order_gets_no_record_on_first_use(payments_service, payments_config, payments_db, probe):
    reference = new_reference()
    cart = order_event(reference, "invoice", status="open")["order"]
    assert not records.ensure_payment(payments_db, build_adapters(payments_config), reference, lambda ref: cart)
    assert probe.payment(reference) is None
