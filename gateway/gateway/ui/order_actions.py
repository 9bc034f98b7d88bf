"""What staff do to an order from its detail page: ship, cancel, change status, pause, assign, set an
external invoice number, and the actions of ``extra_actions`` (form → RPC body)."""

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_common.problems import NotFound, Problem

from .. import cancelling
from .extra_actions import EXTRA_ORDER_ACTIONS
from .forms import optional
from .order_page import refused_on_order
from .page import Page

# action → (permission, service, method, body from form, carries the order's version)
ORDER_ACTIONS = {
    "ship": (
        "orders.process",
        "orders",
        "ship_order",
        lambda f: {"notify": "notify" in f, "tracking_number": optional(f.get("tracking_number"))},
        True,
    ),
    "cancel": (
        "orders.process",
        "orders",
        "cancel_order",
        lambda f: {"notify": "notify" in f, "reason": optional(f.get("reason"))},
        True,
    ),
    "status": (
        "orders.process",
        "orders",
        "change_status",
        lambda f: {"status": f.get("status", ""), "notify": "notify" in f, "reason": optional(f.get("reason"))},
        True,
    ),
    "pause": ("orders.sessions", "orders", "pause_order", lambda f: {}, True),
    "assign": ("orders.sessions", "orders", "assign_order", lambda f: {"session_id": f.get("session_id", "")}, True),
    "invoice-number": (
        "orders.invoice_number",
        "orders",
        "set_external_invoice_number",
        lambda f: {"invoice_number": f.get("invoice_number", ""), "reason": optional(f.get("reason"))},
        False,
    ),
}


def order_action(page: Page, reference: str, action: str) -> Response:
    spec = ORDER_ACTIONS.get(action) or EXTRA_ORDER_ACTIONS.get(action)
    if spec is None:
        raise NotFound("Unknown action.")
    permission, service, method, build, versioned = spec
    page.require(permission)
    form = page.request.form
    body = build(form)
    if action == "cancel" or (action == "status" and cancelling.cancels(body)):
        cancelling.check_cancel(page.can, page.calls, [reference])
    if versioned and form.get("version", "").isdigit():
        body["version"] = int(form["version"])
    try:
        page.calls(service, method, reference, body, page.actor)
    except Problem as problem:
        return refused_on_order(page, reference, action, problem)
    mailed = "&mailed=1" if body.get("notify") else ""
    return redirect(f"/admin/orders/{reference}?done={action}{mailed}", code=303)
