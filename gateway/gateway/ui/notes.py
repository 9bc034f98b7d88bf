"""Internal notes on the order detail: list, add, edit one's own within the edit window.

Notes are never sent to the customer. Writing takes ``orders.notes``; orders itself decides
whether an edit is allowed (author only, within 15 minutes) and says why not."""
from datetime import datetime, timezone

from werkzeug.routing import Rule
from werkzeug.utils import redirect

from oms_common.problems import NotFound, Problem


def _author(page):
    return {"id": page.user.id, "name": page.user.username}


def notes_for(page, reference):
    """The order's notes, newest first, each marked ``editable`` when this user may edit it now;
    ``None`` when orders could not answer them (the rest of the page still shows)."""
    try:
        items = page.calls("orders", "list_notes", reference)["items"]
    except Problem as problem:
        if isinstance(problem, NotFound):
            raise
        return None
    now = datetime.now(timezone.utc)
    for note in items:
        note["editable"] = (page.can("orders.notes") and note["author_id"] == page.user.id
                            and datetime.fromisoformat(note["editable_until"]) > now)
    return items


def _write(page, reference, done, method, *args):
    from .app import order

    page.require("orders.notes")
    body = {"body": page.request.form.get("body", "")}
    try:
        page.calls("orders", method, reference, *args, body, _author(page), page.actor)
    except Problem as problem:
        if problem.status >= 500 or isinstance(problem, NotFound):
            raise
        return order(page, reference, errors={"note": problem}, status=problem.status)
    return redirect(f"/admin/orders/{reference}?done={done}#notes", code=303)


def note_add(page, reference):
    return _write(page, reference, "note", "add_note")


def note_edit(page, reference, note_id):
    return _write(page, reference, "note-edited", "edit_note", note_id)


def register(url_map, views):
    url_map.add(Rule("/admin/orders/<reference>/notes", endpoint="note_add", methods=["POST"]))
    url_map.add(Rule("/admin/orders/<reference>/notes/<int:note_id>", endpoint="note_edit", methods=["POST"]))
    views.update({"note_add": note_add, "note_edit": note_edit})
