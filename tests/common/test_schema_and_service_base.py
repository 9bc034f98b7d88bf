"""The shared declarations of the service classes and their models."""

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from oms_common.audit_entries import audit_entry_columns
from oms_common.declarative import schema_base
from oms_common.event_handlers import handles_each
from oms_common.events import ReliableEventHandler


def test_each_event_type_gets_a_handler_of_its_own():
    calls = []

    @handles_each(
        "orders", ("order_created", "order_shipped"), lambda service, kind, event: calls.append((kind, event))
    )
    class Service:
        name = "probe"

    for event_type in ("order_created", "order_shipped"):
        method = getattr(Service, f"on_{event_type}")
        [entrypoint] = getattr(method, ENTRYPOINT_EXTENSIONS_ATTR)
        assert isinstance(entrypoint, ReliableEventHandler)
        assert (entrypoint.source_service, entrypoint.event_type) == ("orders", event_type)
        getattr(Service(), f"on_{event_type}")({"event_id": event_type})
    assert calls == [("order_created", {"event_id": "order_created"}), ("order_shipped", {"event_id": "order_shipped"})]


def test_every_schema_base_has_its_own_metadata_with_outbox_and_processed_events():
    first, first_tables = schema_base()
    second, _ = schema_base()
    assert first.metadata is not second.metadata
    assert set(first.metadata.tables) == {"outbox", "processed_events"}
    assert first_tables.outbox is first.metadata.tables["outbox"]


def test_audit_columns_are_new_each_time_so_every_table_gets_its_own():
    assert [column.name for column in audit_entry_columns()] == [
        "at",
        "actor",
        "actor_kind",
        "origin",
        "action",
        "from_status",
        "to_status",
        "reason",
    ]
    assert audit_entry_columns()[0] is not audit_entry_columns()[0]
