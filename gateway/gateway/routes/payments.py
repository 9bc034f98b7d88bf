"""Payment routes of api.md (S9, S11, S13) and the operator views of stuck payments and webhooks."""

from oms_contracts import payments as wire

from ..router import numeric_id, router

TAGS = ["payments"]


@router.route(
    "GET", "/api/v1/orders/<reference>/payment", "read", "The order's payment record", TAGS, response=wire.PaymentSchema
)
def get_payment(ctx, reference):
    return ctx.call("payments", "get_payment", reference)


@router.route("GET", "/api/v1/orders/<reference>/payment/history", "read", "The payment's audit trail", TAGS)
def payment_history(ctx, reference):
    return {"items": ctx.call("payments", "payment_history", reference)}


def _payment_command(action, permission, summary, body, name):
    """A staff operation on an order's payment: the payments RPC of the same name does it and answers the payment."""

    def command(ctx, reference):
        return ctx.call("payments", name, reference, ctx.body(), ctx.actor)

    command.__name__ = command.__qualname__ = name
    path = f"/api/v1/orders/<reference>/{action}"
    router.route("POST", path, permission, summary, TAGS, body=body, response=wire.PaymentSchema)(command)


for _command in (
    (
        "payment-status",
        "payments.manage",
        "Manual payment bookkeeping: unpaid, announced, paid",
        wire.ManualStatusSchema,
        "set_payment_status",
    ),
    (
        "refund",
        "payments.refund",
        "Refund (after capture) or void (before) through the PSP",
        wire.RefundSchema,
        "refund_payment",
    ),
    (
        "dunning",
        "payments.manage",
        "Move the order to dunning level 1 or 2 (reminder e-mail with notify)",
        wire.DunningSchema,
        "request_dunning",
    ),
    (
        "complete",
        "payments.manage",
        "Complete by hand a PSP order whose success callback never came",
        wire.CompleteSchema,
        "complete_payment",
    ),
):
    _payment_command(*_command)


@router.route(
    "GET",
    "/api/v1/payments/stuck",
    "payments.manage",
    "PSP payments still pending past the reconciliation age (lost callbacks)",
    TAGS,
    query=wire.StuckQuerySchema,
)
def list_stuck_payments(ctx):
    return ctx.call("payments", "list_stuck_payments", ctx.query())


@router.route(
    "GET", "/api/v1/payments/webhooks", "users.manage", "Stored PSP webhook events", TAGS, query=wire.InboxQuerySchema
)
def list_webhook_events(ctx):
    return ctx.call("payments", "list_webhook_events", ctx.query(repeatable=("status",)))


@router.route(
    "GET",
    "/api/v1/payments/webhooks/unmatched",
    "payments.manage",
    "PSP events staff must look at: flagged (do not fit their payment), unmatched, waiting for their order",
    TAGS,
    query=wire.InboxQuerySchema,
)
def list_unmatched_webhook_events(ctx):
    return ctx.call("payments", "list_unmatched_webhook_events", ctx.query(repeatable=("status",)))


@router.route(
    "POST", "/api/v1/payments/webhooks/<inbox_id>/replay", "users.manage", "Apply a stored webhook event again", TAGS
)
def replay_webhook_event(ctx, inbox_id):
    return ctx.call("payments", "replay_webhook_event", numeric_id(inbox_id, "stored webhook"), ctx.actor)
