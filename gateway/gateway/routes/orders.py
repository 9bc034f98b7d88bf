"""Order routes of api.md: create, list, detail, history, open-order sessions, status changes."""
from orders import schemas as wire

from .. import cancelling
from ..compose import history_with_mails
from ..router import router
from ..schemas import BulkResultSchema, HistoryPageSchema, OrderDetailSchema, OrderPageSchema
from ..schemas import OrderSchema

TAGS = ["orders"]
REPEATABLE = ("status", "payment_status")
IDEMPOTENCY_HEADER = {"name": "Idempotency-Key", "required": False,
                      "schema": {"type": "string", "maxLength": 200},
                      "description": "Retrying with the same key and body returns the first result."}


def _version_from_if_match(ctx, body):
    """``If-Match: "<version>"`` is honoured like a ``version`` field in the body."""
    header = ctx.request.headers.get("If-Match", "").strip().strip('"')
    if header.isdigit() and "version" not in body:
        body = {**body, "version": int(header)}
    return body


@router.route("POST", "/api/v1/orders", "orders.create", "Create an order", TAGS,
              body=wire.CreateOrderSchema, response=OrderSchema, status=201, headers=[IDEMPOTENCY_HEADER])
def create_order(ctx):
    key = ctx.request.headers.get("Idempotency-Key") or None
    if key is not None and (len(key) > 200 or not key.isprintable()):
        from oms_common.problems import BadRequest

        raise BadRequest("The Idempotency-Key header must be at most 200 printable characters.",
                         {"Idempotency-Key": ["Too long or not printable."]})
    result = ctx.call("orders", "create_order", ctx.body(), ctx.actor, key)
    return 201, result["order"]


@router.route("GET", "/api/v1/orders", "read", "List orders, newest first", TAGS,
              query=wire.ListQuerySchema, response=OrderPageSchema)
def list_orders(ctx):
    return ctx.call("orders", "list_orders", ctx.query(repeatable=REPEATABLE))


@router.route("GET", "/api/v1/orders/<reference>", "read", "Order detail with payment and e-mails", TAGS,
              response=OrderDetailSchema)
def get_order(ctx, reference):
    order_reply = ctx.call.async_("orders", "get_order", reference)
    payment_reply = _optional_async(ctx, "payments", "get_payment", reference)
    mails_reply = _optional_async(ctx, "notifications", "mails_for_order", reference)
    order = ctx.call.result("orders", order_reply)
    unavailable = []
    order["payment"] = ctx.call.optional("payments", payment_reply, unavailable) if payment_reply else None
    mails = ctx.call.optional("notifications", mails_reply, unavailable) if mails_reply else None
    order["emails"] = mails or []
    order["unavailable"] = unavailable
    return order


def _can(ctx):
    from ..auth import allowed

    return lambda permission: allowed(ctx.principal.role, permission)


def _optional_async(ctx, service, method, *args):
    from oms_common.problems import ServiceUnavailable

    try:
        return ctx.call.async_(service, method, *args)
    except ServiceUnavailable:
        return None


@router.route("GET", "/api/v1/orders/<reference>/history", "read", "Audit trail, oldest first", TAGS,
              response=HistoryPageSchema)
def order_history(ctx, reference):
    history_reply = ctx.call.async_("orders", "order_history", reference)
    mails_reply = _optional_async(ctx, "notifications", "mails_for_order", reference)
    entries = ctx.call.result("orders", history_reply)
    unavailable = []
    mails = (ctx.call.optional("notifications", mails_reply, unavailable) if mails_reply else None) or []
    return {"items": history_with_mails(entries, mails), "unavailable": unavailable}


@router.route("PUT", "/api/v1/orders/<reference>/lines", "orders.sessions", "Replace the lines of an open order",
              TAGS, body=wire.ReplaceLinesSchema, response=OrderSchema)
def replace_lines(ctx, reference):
    return ctx.call("orders", "replace_lines", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/submit", "orders.sessions", "Check out an open order", TAGS,
              body=wire.SessionSchema, response=OrderSchema)
def submit_order(ctx, reference):
    return ctx.call("orders", "submit_order", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/pause", "orders.sessions", "Detach an open order from its session",
              TAGS, response=OrderSchema)
def pause_order(ctx, reference):
    return ctx.call("orders", "pause_order", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/assign", "orders.sessions", "Attach a paused order to a session",
              TAGS, body=wire.SessionSchema, response=OrderSchema)
def assign_order(ctx, reference):
    return ctx.call("orders", "assign_order", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/ship", "orders.process", "Mark shipped (and e-mail the customer)",
              TAGS, body=wire.ShipSchema, response=OrderSchema)
def ship_order(ctx, reference):
    return ctx.call("orders", "ship_order", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/cancel", "orders.process", "Cancel an order", TAGS,
              body=wire.CancelSchema, response=OrderSchema)
def cancel_order(ctx, reference):
    cancelling.check_cancel(_can(ctx), ctx.call, [reference])
    return ctx.call("orders", "cancel_order", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/status", "orders.process", "Any other legal status change", TAGS,
              body=wire.StatusChangeSchema, response=OrderSchema)
def change_status(ctx, reference):
    if cancelling.cancels(ctx.body()):
        cancelling.check_cancel(_can(ctx), ctx.call, [reference])
    return ctx.call("orders", "change_status", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)


@router.route("POST", "/api/v1/orders/bulk/status", "orders.process", "Change the status of many orders", TAGS,
              body=wire.BulkStatusSchema, response=BulkResultSchema)
def bulk_change_status(ctx):
    if cancelling.cancels(ctx.body()):
        cancelling.check_cancel(_can(ctx), ctx.call, cancelling.bulk_references(ctx.body()))
    return ctx.call("orders", "bulk_change_status", ctx.body(), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/invoice-number", "orders.invoice_number",
              "Set an external (ERP) invoice number", TAGS, body=wire.InvoiceNumberSchema, response=OrderSchema)
def set_invoice_number(ctx, reference):
    return ctx.call("orders", "set_external_invoice_number", reference, ctx.body(), ctx.actor)


@router.route("POST", "/api/v1/orders/<reference>/customer", "orders.customer",
              "Reassign the order to another customer (the order's own data stays)", TAGS,
              body=wire.ReassignCustomerSchema, response=OrderSchema)
def reassign_customer(ctx, reference):
    return ctx.call("orders", "reassign_customer", reference, _version_from_if_match(ctx, ctx.body()), ctx.actor)
