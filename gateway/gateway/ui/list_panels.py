"""What the order list shows beside its rows: the saved views (the default one opens the list) and
the links that export the list.

A view keeps the list's filters as the orders list takes them (dates as ISO dates, so a view
reads the same in every staff language), its sort and its columns. The default view applies
whenever the list opens without parameters — also after signing out and in again."""

from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_contracts.exports import OrderFilterSchema

from .. import saved_views
from . import order_list
from .i18n import format_date_input
from .page import Page

NO_VIEW = "0"  # ?view=0: the plain list, even for a user with a default view
VIEW_DONE = {
    "view-saved": "View “{name}” saved.",
    "view-updated": "View “{name}” now shows this list.",
    "view-renamed": "View renamed to “{name}”.",
    "view-default": "“{name}” opens when the list opens.",
    "view-undefault": "“{name}” is no longer the default view.",
    "view-deleted": "View deleted.",
}
EXPORT_FORMATS = ("csv", "xml")
EXPORT_FILTERS = frozenset(OrderFilterSchema._declared_fields) - {"reference"}
NOT_FILTERS = ("sort", "page", "page_size")


def view_url(view: dict, language: str) -> str:
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


def opening(page: Page) -> Response | None:
    """The default view's list, when the list is opened plain; None otherwise."""
    if page.request.args:
        return None
    view = saved_views.default_view(page.source, page.user.id)
    return redirect(view_url(view, page.language), code=303) if view else None


def export_link(query: dict, fmt: str, only_export_filters: bool = False) -> str:
    kept = {
        key: value
        for key, value in query.items()
        if key not in NOT_FILTERS and (not only_export_filters or key in EXPORT_FILTERS)
    }
    return "/admin/orders/export?" + urlencode({**kept, "format": fmt}, doseq=True)


def _saved_views(page):
    views = saved_views.list_views(page.source, page.user.id)
    active = page.request.args.get("view")
    done = page.request.args.get("done")
    named = next((view for view in views if str(view["id"]) == active), None)
    done_text = None
    if done in VIEW_DONE and (named or done == "view-deleted"):
        done_text = page.t(VIEW_DONE[done], name=named["name"] if named else "")
    return {
        "saved_views": [{**view, "url": view_url(view, page.language)} for view in views],
        "active_view": active,
        "view_done": done_text,
        "no_view": NO_VIEW,
    }


def template_values(page: Page, query: dict) -> dict:
    """What orders.html needs of the saved views and the export links."""
    exports = {fmt: export_link(query, fmt) for fmt in EXPORT_FORMATS} if page.can("exports.read") else None
    return {"export_links": exports, **_saved_views(page)}
