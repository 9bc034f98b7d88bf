"""Saved views on the order list: apply, save the current list, rename, update, make default, delete.

A view keeps the list's filters as the orders list takes them (dates as ISO dates, so a view
reads the same in every staff language), its sort and its columns. The default view applies
whenever the list opens without parameters — also after signing out and in again."""
from urllib.parse import urlencode

from werkzeug.routing import Rule
from werkzeug.utils import redirect

from oms_common.problems import Problem, ValidationFailed

from .. import saved_views
from . import order_list
from .i18n import date_pattern, format_date_input, parse_date_input

NO_VIEW = "0"  # ?view=0: the plain list, even for a user with a default view
DONE = {"view-saved": "View “{name}” saved.", "view-updated": "View “{name}” now shows this list.",
        "view-renamed": "View renamed to “{name}”.", "view-default": "“{name}” opens when the list opens.",
        "view-undefault": "“{name}” is no longer the default view.", "view-deleted": "View deleted."}


def view_url(view, language):
    """The order list as the view shows it, in the staff language's date order."""
    query = []
    for key, value in view["filters"].items():
        values = value if isinstance(value, list) else [value]
        if key in order_list.DATE_KEYS:
            values = [format_date_input(v, language) for v in values]
        query.extend((key, v) for v in values)
    query.append(("sort", view["sort"]))
    if tuple(view["columns"]) != order_list.DEFAULT_COLUMNS:
        query.append(("columns", ",".join(view["columns"])))
    query.append(("view", str(view["id"])))
    return "/admin/orders?" + urlencode(query)


def opening(page):
    """The default view's list, when the list is opened plain; None otherwise."""
    if page.request.args:
        return None
    view = saved_views.default_view(page.source, page.user.id)
    return redirect(view_url(view, page.language), code=303) if view else None


def _list_as_filters(page, args):
    """The list the form was sent from (its query string), as a view's filters, sort and columns."""
    query = order_list.list_query(args)
    sort = query.pop("sort", "-created_at")
    query.pop("page", None)
    errors = {}
    for key in order_list.DATE_KEYS:
        if key in query:
            day = parse_date_input(query[key], page.language)
            if day is None:
                errors[key] = [page.t("Enter the date as {pattern}.", pattern=date_pattern(page.language))]
            query[key] = day
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    return {"filters": query, "sort": sort, "columns": list(order_list.columns_of(args))}


def _listed_args(page):
    from werkzeug.datastructures import MultiDict
    from urllib.parse import parse_qsl

    return MultiDict(parse_qsl(page.request.form.get("list", ""), keep_blank_values=False))


def template_values(page):
    views = saved_views.list_views(page.source, page.user.id)
    active = page.request.args.get("view")
    done = page.request.args.get("done")
    named = next((view for view in views if str(view["id"]) == active), None)
    done_text = None
    if done in DONE and (named or done == "view-deleted"):
        done_text = page.t(DONE[done], name=named["name"] if named else "")
    return {"saved_views": [{**view, "url": view_url(view, page.language)} for view in views],
            "active_view": active, "view_done": done_text, "no_view": NO_VIEW}


def _refused(page, problem):
    from .app import orders

    if problem.status >= 500:
        raise problem
    return orders(page, view_error=problem)


def view_create(page):
    page.require("read")
    form = page.request.form
    try:
        body = {**_list_as_filters(page, _listed_args(page)), "name": form.get("name", "").strip(),
                "is_default": "is_default" in form, "shared": "shared" in form}
        view = saved_views.create_view(page.source, page.user.id, page.user.role, body)
    except Problem as problem:
        return _refused(page, problem)
    return redirect(view_url(view, page.language) + "&done=view-saved", code=303)


def view_change(page, view_id):
    page.require("read")
    form = page.request.form
    action = form.get("action", "")
    changes = {"rename": lambda: {"name": form.get("name", "").strip()},
               "update": lambda: _list_as_filters(page, _listed_args(page)),
               "default": lambda: {"is_default": True}, "undefault": lambda: {"is_default": False},
               "share": lambda: {"shared": True}, "unshare": lambda: {"shared": False}}
    try:
        if action == "delete":
            saved_views.delete_view(page.source, page.user.id, view_id)
            return redirect(f"/admin/orders?view={NO_VIEW}&done=view-deleted", code=303)
        if action not in changes:
            raise ValidationFailed(page.t("Unknown action."), {"action": [page.t("Unknown action.")]})
        view = saved_views.update_view(page.source, page.user.id, page.user.role, view_id, changes[action]())
    except Problem as problem:
        return _refused(page, problem)
    done = {"rename": "view-renamed", "update": "view-updated", "default": "view-default",
            "undefault": "view-undefault"}.get(action, "view-saved")
    return redirect(view_url(view, page.language) + f"&done={done}", code=303)


def register(url_map, views):
    url_map.add(Rule("/admin/views", endpoint="view_create", methods=["POST"]))
    url_map.add(Rule("/admin/views/<int:view_id>", endpoint="view_change", methods=["POST"]))
    views.update({"view_create": view_create, "view_change": view_change})
