"""Internal notes over HTTP, with the real orders service: who may write and edit, the answers
that name why a change is refused (and that nothing changed), the list's latest_note and the
OpenAPI description."""

from datetime import timedelta

from sqlalchemy import update

from orders.models import OrderNote
from orders.models import infrastructure as orders_infrastructure
from tests.conftest import sql_source
from tests.gateway.orders_data import order_body


def _order(api):
    response = api.post("/api/v1/orders", json=order_body())
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def _notes(api, reference):
    response = api.get(f"/api/v1/orders/{reference}/notes")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_an_agent_writes_a_note_every_reader_sees_it_and_the_list_shows_its_first_line(admin, client_for):
    reference = _order(admin)
    agent, reader = client_for("agent"), client_for("readonly")
    response = agent.post(f"/api/v1/orders/{reference}/notes", json={"body": "Parcel left at the neighbour\nNo. 7"})
    assert response.status_code == 201, response.text
    note = response.json()
    assert note["author"] == "agent-user" and note["body"] == "Parcel left at the neighbour\nNo. 7"
    assert [item["id"] for item in _notes(reader, reference)] == [note["id"]]
    rows = admin.get("/api/v1/orders", params={"page_size": 200}).json()
    row = next(item for item in rows["items"] if item["reference"] == reference)
    assert row["latest_note"]["first_line"] == "Parcel left at the neighbour"
    assert row["latest_note"]["author"] == "agent-user" and rows["unavailable"] == []
    others = [item for item in rows["items"] if item["reference"] != reference]
    assert all("latest_note" in item for item in others)
    history = admin.get(f"/api/v1/orders/{reference}/history").json()["items"]
    assert [entry["actor"] for entry in history if entry["action"] == "note"] == ["agent-user"]


def test_roles_without_the_note_permission_may_not_write(admin, client_for):
    reference = _order(admin)
    for role in ("readonly", "accountant"):
        response = client_for(role).post(f"/api/v1/orders/{reference}/notes", json={"body": "may I?"})
        assert response.status_code == 403, response.text
    assert _notes(admin, reference) == []


def test_only_the_author_edits_within_fifteen_minutes(admin, client_for, database_url):
    reference = _order(admin)
    agent = client_for("agent")
    note = agent.post(f"/api/v1/orders/{reference}/notes", json={"body": "first thought"}).json()
    edited = agent.request("PATCH", f"/api/v1/orders/{reference}/notes/{note['id']}", json={"body": "second thought"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["body"] == "second thought" and edited.json()["edited_at"]

    by_admin = admin.request("PATCH", f"/api/v1/orders/{reference}/notes/{note['id']}", json={"body": "admin's"})
    assert by_admin.status_code == 403 and "author" in by_admin.json()["detail"]
    assert by_admin.headers["Content-Type"].startswith("application/problem+json")

    source = sql_source(database_url, "orders", orders_infrastructure)
    try:
        with source.unit_of_work() as uow:  # as if written 20 minutes ago
            uow.session.execute(
                update(OrderNote)
                .where(OrderNote.id == note["id"])
                .values(created_at=OrderNote.created_at - timedelta(minutes=20))
            )
            uow.commit()
    finally:
        source.engine.dispose()
    late = agent.request("PATCH", f"/api/v1/orders/{reference}/notes/{note['id']}", json={"body": "third thought"})
    assert late.status_code == 409 and "15 minutes" in late.json()["detail"]
    assert [item["body"] for item in _notes(admin, reference)] == ["second thought"]


def test_bad_notes_are_refused_naming_the_field(admin):
    reference = _order(admin)
    for body, field in (
        ({"body": ""}, "body"),
        ({}, "body"),
        ({"body": 5}, "body"),
        ({"body": "x", "extra": 1}, "extra"),
    ):
        response = admin.post(f"/api/v1/orders/{reference}/notes", json=body)
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]
    assert admin.post("/api/v1/orders/nope-404/notes", json={"body": "x"}).status_code == 404
    assert admin.request("PATCH", f"/api/v1/orders/{reference}/notes/999999", json={"body": "x"}).status_code == 404
    assert _notes(admin, reference) == []


def test_the_note_routes_are_in_the_openapi_document(admin):
    paths = admin.get("/api/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/orders/{reference}/notes"])
    assert "patch" in paths["/api/v1/orders/{reference}/notes/{note_id}"]
