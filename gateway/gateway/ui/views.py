"""Saved views on the order list: save the current list, rename, update, share, make default, delete.

What the list shows of its views (and the default one that opens it) is in ``list_panels``."""

from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_common.problems import Problem, ValidationFailed

from .. import saved_views
from . import order_list
from .forms import typed_dates
from .list_panels import NO_VIEW, view_url
from .orders import orders
from .page import Page, shown_refusal


def _list_as_filters(page, args):
    """The list the form was sent from (its query string), as a view's filters, sort and columns."""
    query = order_list.list_query(args)
    sort = query.pop("sort", "-created_at")
    query.pop("page", None)
    return {
        "filters": typed_dates(page, query, order_list.DATE_KEYS),
        "sort": sort,
        "columns": list(order_list.columns_of(args)),
    }


def _listed_args(page):
    return MultiDict(parse_qsl(page.request.form.get("list", ""), keep_blank_values=False))


def view_create(page: Page) -> Response:
    page.require("read")
    form = page.request.form
    try:
        body = {
            **_list_as_filters(page, _listed_args(page)),
            "name": form.get("name", "").strip(),
            "is_default": "is_default" in form,
            "shared": "shared" in form,
        }
        view = saved_views.create_view(page.source, page.user.id, page.user.role, body)
    except Problem as problem:
        return orders(page, view_error=shown_refusal(problem))
    return redirect(view_url(view, page.language) + "&done=view-saved", code=303)


def view_change(page: Page, view_id: int) -> Response:
    page.require("read")
    form = page.request.form
    action = form.get("action", "")
    changes = {
        "rename": lambda: {"name": form.get("name", "").strip()},
        "update": lambda: _list_as_filters(page, _listed_args(page)),
        "default": lambda: {"is_default": True},
        "undefault": lambda: {"is_default": False},
        "share": lambda: {"shared": True},
        "unshare": lambda: {"shared": False},
    }
    try:
        if action == "delete":
            saved_views.delete_view(page.source, page.user.id, view_id)
            return redirect(f"/admin/orders?view={NO_VIEW}&done=view-deleted", code=303)
        if action not in changes:
            raise ValidationFailed(page.t("Unknown action."), {"action": [page.t("Unknown action.")]})
        view = saved_views.update_view(page.source, page.user.id, page.user.role, view_id, changes[action]())
    except Problem as problem:
        return orders(page, view_error=shown_refusal(problem))
    done = {
        "rename": "view-renamed",
        "update": "view-updated",
        "default": "view-default",
        "undefault": "view-undefault",
    }.get(action, "view-saved")
    return redirect(view_url(view, page.language) + f"&done={done}", code=303)


def register(url_map: Map, views: dict) -> None:
    url_map.add(Rule("/admin/views", endpoint="view_create", methods=["POST"]))
    url_map.add(Rule("/admin/views/<int:view_id>", endpoint="view_change", methods=["POST"]))
    views.update({"view_create": view_create, "view_change": view_change})
