"""The ticked orders' documents as one PDF, from the order list (for roles with ``exports.read``,
as the API's ``POST /api/v1/documents/merged``).

The documents service puts the stored documents one after the other; the download is the API's
answer. When no order is ticked, or none of the ticked has a document yet, the list is shown again
with a message saying so."""

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from oms_common.problems import NotFound, ValidationFailed

from ..routes.documents import merged_pdf
from .orders import orders
from .page import Page


def merged_documents(page: Page) -> Response:
    page.require("exports.read")
    picked = [value for value in page.request.form.getlist("references") if value]
    if not picked:
        return orders(page, documents_refused=page.t("Tick the orders whose documents you want first."))
    try:
        answer = page.calls("documents", "merged_documents", picked)
    except NotFound:
        return orders(page, documents_refused=page.t("None of the ticked orders has documents yet."))
    except ValidationFailed as refused:  # more documents than one file takes: the service says how many
        return orders(page, documents_refused=refused.detail)
    return merged_pdf(answer)


def register(url_map: Map, views: dict) -> None:
    url_map.add(Rule("/admin/orders/documents", endpoint="orders_documents", methods=["POST"]))
    views.update({"orders_documents": merged_documents})
