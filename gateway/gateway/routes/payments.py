"""Payment routes of api.md (S9, S11, S13) and the operator views of stuck payments and webhooks."""

from functools import partial

from oms_contracts import payments as wire

from .forward import forward, numbered

TAGS = ["payments"]
_forward = partial(forward, "payments", TAGS)

_forward(
    "get_payment",
    "GET",
    "/api/v1/orders/<reference>/payment",
    "read",
    "The order's payment record",
    response=wire.PaymentSchema,
)

_forward(
    "payment_history",
    "GET",
    "/api/v1/orders/<reference>/payment/history",
    "read",
    "The payment's audit trail",
    items=True,
)

# staff operations on an order's payment: the payments RPC of the same name does it and answers the payment
for _action, _permission, _summary, _body, _name in (
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
    _path = f"/api/v1/orders/<reference>/{_action}"
    _forward(_name, "POST", _path, _permission, _summary, body=_body, response=wire.PaymentSchema)

_forward(
    "list_stuck_payments",
    "GET",
    "/api/v1/payments/stuck",
    "payments.manage",
    "PSP payments still pending past the reconciliation age (lost callbacks)",
    query=wire.StuckQuerySchema,
)

_forward(
    "list_webhook_events",
    "GET",
    "/api/v1/payments/webhooks",
    "users.manage",
    "Stored PSP webhook events",
    query=wire.InboxQuerySchema,
    repeatable=("status",),
)

_forward(
    "list_unmatched_webhook_events",
    "GET",
    "/api/v1/payments/webhooks/unmatched",
    "payments.manage",
    "PSP events staff must look at: flagged (do not fit their payment), unmatched, waiting for their order",
    query=wire.InboxQuerySchema,
    repeatable=("status",),
)

_forward(
    "replay_webhook_event",
    "POST",
    "/api/v1/payments/webhooks/<inbox_id>/replay",
    "users.manage",
    "Apply a stored webhook event again",
    convert=numbered("stored webhook"),
)
