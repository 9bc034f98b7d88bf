"""Internal notes on the order detail: add, edit one's own within the edit window (the detail
lists them, ``order_page.notes_for``).

Notes are never sent to the customer. Writing takes ``orders.notes``; orders itself decides
whether an edit is allowed (author only, within 15 minutes) and says why not."""

from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_common.problems import Problem

from .order_page import refused_on_order
from .page import Page


def _author(page):
    return {"id": page.user.id, "name": page.user.username}


def _write(page, reference, done, method, *args):
    page.require("orders.notes")
    body = {"body": page.request.form.get("body", "")}
    try:
        page.calls("orders", method, reference, *args, body, _author(page), page.actor)
    except Problem as problem:
        return refused_on_order(page, reference, "note", problem)
    return redirect(f"/admin/orders/{reference}?done={done}#notes", code=303)


def note_add(page: Page, reference: str) -> Response:
    return _write(page, reference, "note", "add_note")


def note_edit(page: Page, reference: str, note_id: int) -> Response:
    return _write(page, reference, "note-edited", "edit_note", note_id)


def register(url_map: Map, views: dict) -> None:
    url_map.add(Rule("/admin/orders/<reference>/notes", endpoint="note_add", methods=["POST"]))
    url_map.add(Rule("/admin/orders/<reference>/notes/<int:note_id>", endpoint="note_edit", methods=["POST"]))
    views.update({"note_add": note_add, "note_edit": note_edit})
