"""Internal notes on an order: the rules alone, then through the running orders service
(real RabbitMQ and PostgreSQL): written with an audit entry, edited by their author within
the edit window only, refused with the reason named and nothing changed."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from oms_common.problems import Conflict, Forbidden, NotFound, ValidationFailed
from orders import note_rules
from orders.models import OrderNote
from tests.orders.conftest import ADMIN

ANNA = {"id": 41, "name": "anna"}
BEN = {"id": 42, "name": "ben"}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


# ---------------------------------------------------------------- rules


def test_the_author_may_edit_within_fifteen_minutes():
    note_rules.check_edit(41, 41, NOW - timedelta(minutes=14, seconds=59), NOW)


def test_someone_else_may_not_edit_a_note():
    with pytest.raises(note_rules.NoteRefused) as refused:
        note_rules.check_edit(41, 42, NOW, NOW)
    assert refused.value.kind == "not_author" and "author" in str(refused.value)


def test_after_fifteen_minutes_even_the_author_may_not_edit():
    with pytest.raises(note_rules.NoteRefused) as refused:
        note_rules.check_edit(41, 41, NOW - timedelta(minutes=15, seconds=1), NOW)
    assert refused.value.kind == "edit_window_closed" and "15 minutes" in str(refused.value)


def test_the_first_line_is_the_first_non_empty_one_shortened():
    assert note_rules.first_line("\n  \nCalled the customer\nsecond line") == "Called the customer"
    long = note_rules.first_line("x" * 500)
    assert len(long) == note_rules.FIRST_LINE_MAX and long.endswith("…")


# ---------------------------------------------------------------- service


def _note_row(orders_db, note_id):
    with orders_db.read_session() as session:
        return session.execute(select(OrderNote).where(OrderNote.id == note_id)).scalar_one()


def test_a_note_is_kept_with_author_and_time_and_shows_in_the_history(call, create):
    order = create()
    note = call(
        "add_note", order["reference"], {"body": "  Customer called: deliver after 5 pm\nGate code 1234 "}, ANNA, ADMIN
    )
    assert note["author"] == "anna" and note["author_id"] == 41
    assert note["body"] == "Customer called: deliver after 5 pm\nGate code 1234"
    assert note["created_at"] and note["edited_at"] is None
    listed = call("list_notes", order["reference"])["items"]
    assert [item["id"] for item in listed] == [note["id"]]
    entry = [e for e in call("order_history", order["reference"]) if e["action"] == "note"]
    assert len(entry) == 1
    assert entry[0]["reason"] == "Customer called: deliver after 5 pm"
    assert entry[0]["actor"] == ADMIN["name"] and entry[0]["details"]["note_id"] == note["id"]


def test_notes_are_listed_newest_first_and_the_list_gets_the_newest_first_line(call, create):
    first, second, silent = create(), create(), create()
    call("add_note", first["reference"], {"body": "older"}, ANNA, ADMIN)
    call("add_note", first["reference"], {"body": "newer\nmore"}, BEN, ADMIN)
    call("add_note", second["reference"], {"body": "only one"}, ANNA, ADMIN)
    assert [n["body"] for n in call("list_notes", first["reference"])["items"]] == ["newer\nmore", "older"]
    latest = call("latest_notes", [first["reference"], second["reference"], silent["reference"]])
    assert set(latest) == {first["reference"], second["reference"]}
    assert latest[first["reference"]]["first_line"] == "newer" and latest[first["reference"]]["author"] == "ben"
    assert latest[second["reference"]]["first_line"] == "only one"


def test_the_order_list_carries_each_rows_newest_note(call, create):
    noted, silent = create(), create()
    call("add_note", noted["reference"], {"body": "older"}, ANNA, ADMIN)
    call("add_note", noted["reference"], {"body": "Parcel at the neighbour\nflat 3"}, BEN, ADMIN)

    rows = {
        item["reference"]: item["latest_note"]
        for reference in (noted["reference"], silent["reference"])
        for item in call("list_orders", {"q": reference})["items"]
    }

    assert rows[silent["reference"]] is None
    assert (rows[noted["reference"]]["first_line"], rows[noted["reference"]]["author"]) == (
        "Parcel at the neighbour",
        "ben",
    )


def test_the_author_edits_within_the_window_and_the_history_says_so(call, create, orders_db):
    order = create()
    note = call("add_note", order["reference"], {"body": "typo heer"}, ANNA, ADMIN)
    edited = call("edit_note", order["reference"], note["id"], {"body": "typo here"}, ANNA, ADMIN)
    assert edited["body"] == "typo here" and edited["edited_at"]
    assert _note_row(orders_db, note["id"]).body == "typo here"
    entries = [e for e in call("order_history", order["reference"]) if e["action"] == "note"]
    assert [e["details"]["edited"] for e in entries] == [False, True]


def test_another_user_may_not_edit_and_nothing_changes(call, create, orders_db):
    order = create()
    note = call("add_note", order["reference"], {"body": "mine"}, ANNA, ADMIN)
    with pytest.raises(Forbidden) as refused:
        call("edit_note", order["reference"], note["id"], {"body": "yours now"}, BEN, ADMIN)
    assert "author" in refused.value.detail
    row = _note_row(orders_db, note["id"])
    assert (row.body, row.edited_at) == ("mine", None)
    assert len([e for e in call("order_history", order["reference"]) if e["action"] == "note"]) == 1


def test_an_old_note_may_not_be_edited_even_by_its_author(call, create, orders_db):
    order = create()
    note = call("add_note", order["reference"], {"body": "said yesterday"}, ANNA, ADMIN)
    with orders_db.unit_of_work() as uow:  # as if written 16 minutes ago
        uow.session.execute(
            update(OrderNote)
            .where(OrderNote.id == note["id"])
            .values(created_at=OrderNote.created_at - timedelta(minutes=16))
        )
        uow.commit()
    with pytest.raises(Conflict) as refused:
        call("edit_note", order["reference"], note["id"], {"body": "changed my mind"}, ANNA, ADMIN)
    assert "15 minutes" in refused.value.detail
    assert _note_row(orders_db, note["id"]).body == "said yesterday"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "   \n  "}, "body"),
        ({"body": ""}, "body"),
        ({}, "body"),
        ({"body": "x" * 4001}, "body"),
        ({"body": "bell\x07"}, "body"),
        ({"body": "ok", "pinned": True}, "pinned"),
    ],
)
def test_bad_note_bodies_are_refused_naming_the_field_and_nothing_is_written(call, create, body, field):
    order = create()
    with pytest.raises(ValidationFailed) as refused:
        call("add_note", order["reference"], body, ANNA, ADMIN)
    assert field in refused.value.errors
    assert call("list_notes", order["reference"])["items"] == []


def test_a_note_needs_a_known_author_order_and_note(call, create):
    order = create()
    with pytest.raises(ValidationFailed) as refused:
        call("add_note", order["reference"], {"body": "who am I"}, {"name": "nobody"}, ADMIN)
    assert "author.id" in refused.value.errors
    with pytest.raises(NotFound):
        call("add_note", "no-such-order", {"body": "lost"}, ANNA, ADMIN)
    with pytest.raises(NotFound):
        call("edit_note", order["reference"], 999999999, {"body": "lost"}, ANNA, ADMIN)
    assert call("list_notes", order["reference"])["items"] == []


def test_a_note_of_one_order_cannot_be_edited_through_another(call, create, orders_db):
    one, other = create(), create()
    note = call("add_note", one["reference"], {"body": "for one"}, ANNA, ADMIN)
    with pytest.raises(NotFound):
        call("edit_note", other["reference"], note["id"], {"body": "hijacked"}, ANNA, ADMIN)
    assert _note_row(orders_db, note["id"]).body == "for one"


def test_note_bodies_have_a_trigram_index(orders_db):
    with orders_db.read_session() as session:
        definition = session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_order_notes_body_trgm'")
        ).scalar_one()
    assert "gin" in definition and "gin_trgm_ops" in definition
