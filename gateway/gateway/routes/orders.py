"""Order routes of api.md: create, list, detail, history, open-order sessions, status changes."""

import hashlib

from oms_common.problems import ServiceUnavailable, ValidationFailed
from oms_contracts import orders as wire
from oms_contracts.values import PSP_OF_METHOD

from .. import cancelling
from ..compose import order_detail, with_latest_notes
from ..compose import order_history as composed_history
from ..psp_search import list_with_psp_search
from ..router import router
from ..rpc import ServiceNotReached
from ..schemas import BulkResultSchema, HistoryPageSchema, OrderDetailSchema, OrderPageSchema, OrderSchema
from .forward import forward

TAGS = ["orders"]
REPEATABLE = ("status", "payment_status", "payment_method", "currency", "country")


def _version_from_if_match(ctx, body):
    """``If-Match: "<version>"`` is honoured like a ``version`` field in the body."""
    header = ctx.request.headers.get("If-Match", "").strip().strip('"')
    if header.isdigit() and "version" not in body:
        body = {**body, "version": int(header)}
    return body


@router.route(
    "POST",
    "/api/v1/orders",
    "orders.create",
    "Create an order",
    TAGS,
    body=wire.CreateOrderSchema,
    response=OrderSchema,
    status=201,
)
def create_order(ctx):
    body = ctx.body()
    _check_payment_method_configured(ctx, body.get("payment_method"))
    # the key also goes to orders, which stores it with the order: a retry after a lost
    # answer finds the order made the first time. Keys belong to their caller (as in the
    # gateway's own store): another user's same key is another request.
    key = ctx.request.headers.get("Idempotency-Key") or None
    if key is not None:
        key = f"{ctx.principal.user_id}:{hashlib.sha256(key.encode('utf-8', 'surrogateescape')).hexdigest()}"
    result = ctx.call("orders", "create_order", body, ctx.actor, key)
    return 201, result["order"]


def _check_payment_method_configured(ctx, method):
    """A card or PayPal order is refused while its provider is not set up: payments, which
    owns the PSP settings, says which methods it can take and what is missing."""
    if not isinstance(method, str) or method not in PSP_OF_METHOD:
        return  # manual methods need no provider (and a malformed one is the schema's to name)
    try:
        providers = ctx.call("payments", "configured_providers")
    except ServiceUnavailable as problem:
        # asked before anything was created: this 503 is a plain "nothing happened"
        raise ServiceNotReached(
            f"{problem.detail} The payment method could not be checked; nothing was created."
        ) from None
    state = providers.get("methods", {}).get(method)
    if state and not state["configured"]:
        provider = state.get("name") or state["provider"]
        message = (
            f"Payment method '{method}' needs {provider}, which is not configured "
            f"(set {', '.join(state['missing']) or 'its settings'})."
        )
        raise ValidationFailed(message, {"payment_method": [message]})


@router.route(
    "GET",
    "/api/v1/orders",
    "read",
    "List orders (newest first), filter, sort and search",
    TAGS,
    query=wire.ListQuerySchema,
    response=OrderPageSchema,
)
def list_orders(ctx):
    return with_latest_notes(ctx.call, list_with_psp_search(ctx, "list_orders", query=ctx.query(repeatable=REPEATABLE)))


@router.route(
    "GET",
    "/api/v1/orders/<reference>",
    "read",
    "Order detail with payment and e-mails",
    TAGS,
    response=OrderDetailSchema,
)
def get_order(ctx, reference):
    return order_detail(ctx.call, reference)


def _can(ctx):
    from ..auth import allowed

    return lambda permission: allowed(ctx.principal.role, permission)


@router.route(
    "GET", "/api/v1/orders/<reference>/history", "read", "Audit trail, oldest first", TAGS, response=HistoryPageSchema
)
def order_history(ctx, reference):
    return composed_history(ctx.call, reference)


def _versioned_command(method, action, permission, summary, body, name, check=None):
    """A change of one order that answers the order: the version comes from the body or If-Match,
    the orders RPC of the same name does the work (after the gateway's own ``check``, if any)."""

    def command(ctx, reference):
        if check is not None:
            check(ctx, reference)
        return ctx.call("orders", name, reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)

    command.__name__ = command.__qualname__ = name
    path = f"/api/v1/orders/<reference>/{action}"
    router.route(method, path, permission, summary, TAGS, body=body, response=OrderSchema)(command)


def _check_cancel(ctx, reference):
    cancelling.check_cancel(_can(ctx), ctx.call, [reference])


def _check_cancel_by_status(ctx, reference):
    if cancelling.cancels(ctx.body()):
        _check_cancel(ctx, reference)


for _command in (
    ("PUT", "lines", "orders.sessions", "Replace the lines of an open order", wire.ReplaceLinesSchema, "replace_lines"),
    ("POST", "submit", "orders.sessions", "Check out an open order", wire.SessionSchema, "submit_order"),
    ("POST", "pause", "orders.sessions", "Detach an open order from its session", None, "pause_order"),
    ("POST", "assign", "orders.sessions", "Attach a paused order to a session", wire.SessionSchema, "assign_order"),
    ("POST", "ship", "orders.process", "Mark shipped (and e-mail the customer)", wire.ShipSchema, "ship_order"),
    ("POST", "cancel", "orders.process", "Cancel an order", wire.CancelSchema, "cancel_order", _check_cancel),
    (
        "POST",
        "status",
        "orders.process",
        "Any other legal status change",
        wire.StatusChangeSchema,
        "change_status",
        _check_cancel_by_status,
    ),
):
    _versioned_command(*_command)


@router.route(
    "POST",
    "/api/v1/orders/bulk/status",
    "orders.process",
    "Change the status of many orders",
    TAGS,
    body=wire.BulkStatusSchema,
    response=BulkResultSchema,
)
def bulk_change_status(ctx):
    if cancelling.cancels(ctx.body()):
        cancelling.check_cancel(_can(ctx), ctx.call, cancelling.bulk_references(ctx.body()))
    return ctx.call("orders", "bulk_change_status", ctx.body(), ctx.actor)


forward(
    "orders",
    TAGS,
    "set_invoice_number",
    "POST",
    "/api/v1/orders/<reference>/invoice-number",
    "orders.invoice_number",
    "Set an external (ERP) invoice number",
    rpc="set_external_invoice_number",
    body=wire.InvoiceNumberSchema,
    response=OrderSchema,
)


_versioned_command(
    "POST",
    "customer",
    "orders.customer",
    "Reassign the order to another customer (the order's own data stays)",
    wire.ReassignCustomerSchema,
    "reassign_customer",
)
