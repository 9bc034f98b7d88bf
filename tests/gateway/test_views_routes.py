"""Saved order views over HTTP: per user, one default, shared only by admins, changed only by
their owner; filters checked against the order list's own parameters (refusals change nothing)."""

import pytest


@pytest.fixture
def views_of():
    def listed(api):
        response = api.get("/api/v1/views")
        assert response.status_code == 200, response.text
        return response.json()["items"]

    return listed


def _save(api, **body):
    return api.post("/api/v1/views", json=body)


def test_a_user_saves_views_and_only_one_is_the_default(client_for, views_of):
    agent = client_for("agent")
    first = _save(
        agent,
        name="Reminders",
        filters={"status": ["dunning_1", "dunning_2"]},
        sort="-total",
        columns=["created_at", "customer", "total"],
        is_default=True,
    )
    assert first.status_code == 201, first.text
    assert first.json()["filters"] == {"status": ["dunning_1", "dunning_2"]} and first.json()["is_default"]
    second = _save(
        agent, name="Unpaid", filters={"payment_status": ["unpaid"], "created_from": "2026-01-01"}, is_default=True
    )
    assert second.status_code == 201, second.text
    listed = {view["name"]: view for view in views_of(agent)}
    assert listed["Unpaid"]["is_default"] and not listed["Reminders"]["is_default"]
    assert listed["Unpaid"]["sort"] == "-created_at" and "customer" in listed["Unpaid"]["columns"]
    renamed = agent.request(
        "PATCH", f"/api/v1/views/{first.json()['id']}", json={"name": "Dunning", "is_default": True}
    )
    assert renamed.status_code == 200, renamed.text
    listed = {view["name"]: view for view in views_of(agent)}
    assert {"Dunning", "Unpaid"} <= set(listed) and "Reminders" not in listed
    assert listed["Dunning"]["is_default"] and not listed["Unpaid"]["is_default"]
    assert agent.request("DELETE", f"/api/v1/views/{second.json()['id']}").status_code == 200
    assert "Unpaid" not in [view["name"] for view in views_of(agent)]


def test_views_are_private_unless_an_admin_shares_one(admin, client_for, views_of):
    agent, reader = client_for("agent"), client_for("readonly")
    private = _save(agent, name="Mine only").json()
    refused = _save(agent, name="For all", shared=True)
    assert refused.status_code == 403 and "shared" in refused.json()["errors"]
    names = [view["name"] for view in views_of(agent)]
    assert "Mine only" in names and "For all" not in names
    shared = _save(admin, name="Team: new orders", filters={"status": ["new"]}, shared=True)
    assert shared.status_code == 201, shared.text
    seen = {view["name"]: view for view in views_of(reader)}
    assert "Team: new orders" in seen and not seen["Team: new orders"]["mine"] and "Mine only" not in seen
    # others apply a shared view; only its owner changes or deletes it
    change = reader.request("PATCH", f"/api/v1/views/{shared.json()['id']}", json={"name": "Hijacked"})
    assert change.status_code == 403
    assert reader.request("DELETE", f"/api/v1/views/{shared.json()['id']}").status_code == 403
    assert reader.request("DELETE", f"/api/v1/views/{private['id']}").status_code == 404  # not even visible
    assert {view["name"] for view in views_of(admin)} >= {"Team: new orders"}
    assert "Mine only" in {view["name"] for view in views_of(agent)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "filters": {"status": ["lost"]}}, "filters.status"),
        ({"name": "x", "filters": {"page": "2"}}, "filters.page"),
        ({"name": "x", "filters": {"no_such": "1"}}, "filters.no_such"),
        ({"name": "x", "filters": {"created_from": "yesterday"}}, "filters.created_from"),
        ({"name": "x", "sort": "-password"}, "sort"),
        ({"name": "x", "columns": ["secret"]}, "columns.0"),
        ({"name": "x", "columns": []}, "columns"),
        ({"name": "x", "owner_id": 1}, "owner_id"),
    ],
)
def test_bad_views_are_refused_naming_the_field_and_nothing_is_saved(client_for, views_of, body, field):
    accountant = client_for("accountant")
    before = views_of(accountant)
    response = _save(accountant, **body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"], response.json()
    assert views_of(accountant) == before


def test_a_second_view_of_the_same_name_is_a_conflict(client_for, views_of):
    agent = client_for("agent")
    assert _save(agent, name="Twice").status_code == 201
    again = _save(agent, name="Twice", is_default=True)
    assert again.status_code == 409 and "name" in again.json()["errors"]
    assert [view["is_default"] for view in views_of(agent) if view["name"] == "Twice"] == [False]


def test_the_view_routes_are_in_the_openapi_document(admin):
    paths = admin.get("/api/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/views"])
    assert {"patch", "delete"} <= set(paths["/api/v1/views/{view_id}"])
