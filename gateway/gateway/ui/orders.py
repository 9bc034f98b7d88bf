"""The order list: filtered, sorted and paged by the orders service, and its bulk status change."""

from collections.abc import Callable

from werkzeug.wrappers import Response

from oms_common.problems import Problem, ValidationFailed

from .. import cancelling
from ..compose import with_latest_notes
from . import list_panels, order_list
from .forms import optional
from .page import Page, link, shown_refusal

PAGE_SIZES = (10, 25, 50, 100, 200)


def _nothing_listed():
    return {"items": [], "page": 1, "page_size": 25, "total": 0, "pages": 1}


def list_link(page: Page, query: dict) -> Callable[..., str]:
    """Links of the list keep its filters and the chosen columns."""
    columns = order_list.columns_of(page.request.args)
    kept = {
        **query,
        "columns": ",".join(columns) if columns != order_list.DEFAULT_COLUMNS else None,
        "view": page.request.args.get("view"),
    }
    return lambda **changes: link("/admin/orders", kept, changes)


def _listed(page, asked):
    return with_latest_notes(page.calls, page.calls("orders", "list_orders", asked))


def _render(
    page, query, result, status, error, bulk_results=None, view_error=None, export_refused=None, documents_refused=None
):
    to = list_link(page, query)
    return page.render(
        "orders.html",
        status=status,
        result=result,
        query=query,
        error=error,
        page_sizes=PAGE_SIZES,
        link=to,
        bulk_results=bulk_results,
        view_error=view_error,
        export_refused=export_refused,
        documents_refused=documents_refused,
        **order_list.template_values(page, query, to),
        **list_panels.template_values(page, query),
    )


def orders(
    page: Page,
    view_error: Problem | None = None,
    export_refused: dict | None = None,
    documents_refused: str | None = None,
) -> Response:
    """The list; ``view_error`` (a saved view refused), ``export_refused`` (an export that cannot
    be made as asked) and ``documents_refused`` (why the ticked orders' documents give no file)
    are shown above it."""
    page.require("read")
    opened_with_default = list_panels.opening(page)
    if opened_with_default is not None and view_error is None and export_refused is None and not documents_refused:
        return opened_with_default
    query = order_list.list_query(page.request.args)
    query.setdefault("page_size", "25")
    error = None
    try:
        result = _listed(page, order_list.service_query(page, query))
    except Problem as problem:
        error = shown_refusal(problem)
        result = _nothing_listed()
    return _render(
        page,
        query,
        result,
        view_error.status if view_error else 200,
        error,
        view_error=view_error,
        export_refused=export_refused,
        documents_refused=documents_refused,
    )


def bulk(page: Page) -> Response:
    page.require("orders.process")
    form = page.request.form
    body = {
        "references": form.getlist("references"),
        "status": form.get("status", ""),
        "notify": "notify" in form,
        "reason": optional(form.get("reason")),
    }
    query = order_list.list_query(page.request.args)
    try:
        if cancelling.cancels(body):
            cancelling.check_cancel(page.can, page.calls, cancelling.bulk_references(body))
        outcome = page.calls("orders", "bulk_change_status", body, page.actor)
        error = None
    except Problem as problem:
        outcome, error = None, shown_refusal(problem)
    try:
        result = _listed(page, {**order_list.service_query(page, query), "page_size": query.get("page_size", "25")})
    except ValidationFailed:
        result = _nothing_listed()
    return _render(page, query, result, 200 if error is None else error.status, error, bulk_results=outcome)
