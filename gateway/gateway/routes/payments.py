"""Payment routes of api.md (S9, S11, S13) and the operator views of stuck payments and webhooks."""

from oms_contracts import payments as wire

from ..router import router

TAGS = ["payments"]


@router.route(
    "GET", "/api/v1/orders/<reference>/payment", "read", "The order's payment record", TAGS, response=wire.PaymentSchema
)
def get_payment(ctx, reference):
    return ctx.call("payments", "get_payment", reference)


@router.route("GET", "/api/v1/orders/<reference>/payment/history", "read", "The payment's audit trail", TAGS)
def payment_history(ctx, reference):
    return {"items": ctx.call("payments", "payment_history", reference)}


@router.route(
    "POST",
    "/api/v1/orders/<reference>/payment-status",
    "payments.manage",
    "Manual payment bookkeeping: unpaid, announced, paid",
    TAGS,
    body=wire.ManualStatusSchema,
    response=wire.PaymentSchema,
)
def set_payment_status(ctx, reference):
    return ctx.call("payments", "set_payment_status", reference, ctx.body(), ctx.actor)


@router.route(
    "POST",
    "/api/v1/orders/<reference>/refund",
    "payments.refund",
    "Refund (after capture) or void (before) through the PSP",
    TAGS,
    body=wire.RefundSchema,
    response=wire.PaymentSchema,
)
def refund_payment(ctx, reference):
    return ctx.call("payments", "refund_payment", reference, ctx.body(), ctx.actor)


@router.route(
    "POST",
    "/api/v1/orders/<reference>/dunning",
    "payments.manage",
    "Move the order to dunning level 1 or 2 (reminder e-mail with notify)",
    TAGS,
    body=wire.DunningSchema,
    response=wire.PaymentSchema,
)
def request_dunning(ctx, reference):
    return ctx.call("payments", "request_dunning", reference, ctx.body(), ctx.actor)


@router.route(
    "POST",
    "/api/v1/orders/<reference>/complete",
    "payments.manage",
    "Complete by hand a PSP order whose success callback never came",
    TAGS,
    body=wire.CompleteSchema,
    response=wire.PaymentSchema,
)
def complete_payment(ctx, reference):
    return ctx.call("payments", "complete_payment", reference, ctx.body(), ctx.actor)


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
    from oms_common.problems import NotFound

    if not inbox_id.isdigit() or len(inbox_id) > 18:
        raise NotFound(f"No stored webhook {inbox_id!r}.")
    return ctx.call("payments", "replay_webhook_event", int(inbox_id), ctx.actor)
