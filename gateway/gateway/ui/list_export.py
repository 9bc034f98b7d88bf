"""Export what the list shows: the filtered list or the ticked orders, as CSV or XML.

Streamed from the exports service in its usual formats. A list filtered only by what the
exports know (status, payment status, reference or invoice number, dates) streams by those
filters, however long. A list filtered by more is exported by its references, which the
exports take up to ``MAX_REFERENCES``: a longer list is not cut short, the staff are told so
and pointed to the full export (by the exports' filters) and to export jobs. The list's export
links are made in ``list_panels``."""

from urllib.parse import urlencode

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from oms_common.problems import ValidationFailed
from oms_contracts.exports import MAX_REFERENCES

from ..routes.exports import stream_download
from . import order_list
from .list_panels import EXPORT_FILTERS, EXPORT_FORMATS, NOT_FILTERS, export_link
from .orders import orders
from .page import Page

PAGE = 200  # the orders list's largest page


def _format(page):
    fmt = page.request.values.get("format", "")
    if fmt not in EXPORT_FORMATS:
        message = page.t("Choose CSV or XML.")
        raise ValidationFailed(message, {"format": [message]})
    return fmt


def _stream(page, fmt, pairs):
    return stream_download(page.settings, f"orders.{fmt}", urlencode(pairs, doseq=True))


def _references_of(page, asked):
    """Every reference of the filtered list, page by page, or the list's total when it is longer
    than the exports take by reference."""
    references, number = [], 1
    while True:
        result = page.calls("orders", "list_orders", {**asked, "page": number, "page_size": PAGE})
        exact = result.get("total_exact", True)  # false: a search that found more than it counts
        if result["total"] > MAX_REFERENCES or not exact:
            return None, f"{result['total']:,}" + ("" if exact else "+")
        references += [item["reference"] for item in result["items"]]
        if number >= result["pages"] or not result["items"]:
            return references, result["total"]
        number += 1


def export_list(page: Page) -> Response:
    """GET: the filtered list (the list's own query string). POST: the ticked orders."""
    page.require("exports.read")
    fmt = _format(page)
    if page.request.method == "POST":
        picked = [value for value in page.request.form.getlist("references") if value]
        if not picked:
            message = page.t("Tick the orders to export first.")
            raise ValidationFailed(message, {"references": [message]})
        return _stream(page, fmt, [("reference", ",".join(picked))])
    query = order_list.list_query(page.request.args)
    asked = {key: value for key, value in order_list.service_query(page, query).items() if key not in NOT_FILTERS}
    if set(asked) <= EXPORT_FILTERS:
        return _stream(page, fmt, sorted(asked.items()))
    references, total = _references_of(page, asked)
    if references is None:
        return orders(
            page,
            export_refused={
                "total": total,
                "limit": MAX_REFERENCES,
                "full": export_link(query, fmt, only_export_filters=True),
            },
        )
    if not references:
        return orders(page, export_refused={"total": 0, "limit": MAX_REFERENCES, "full": None})
    return _stream(page, fmt, [("reference", ",".join(references))])


def register(url_map: Map, views: dict) -> None:
    url_map.add(Rule("/admin/orders/export", endpoint="orders_export", methods=["GET", "POST"]))
    views.update({"orders_export": export_list})
