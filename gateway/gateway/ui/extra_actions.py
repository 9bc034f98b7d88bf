"""Order actions served by the payments service and the support operations (form → RPC body)."""

from .forms import number, optional

EXTRA_ORDER_ACTIONS = {
    "customer": (
        "orders.customer",
        "orders",
        "reassign_customer",
        lambda f: {"customer_id": number(f.get("customer_id")), "reason": optional(f.get("reason"))},
        True,
    ),
    "payment-status": (
        "payments.manage",
        "payments",
        "set_payment_status",
        lambda f: {"status": f.get("status", ""), "note": optional(f.get("note"))},
        False,
    ),
    "dunning": (
        "payments.manage",
        "payments",
        "request_dunning",
        lambda f: {"level": number(f.get("level")), "notify": "notify" in f, "reason": optional(f.get("reason"))},
        False,
    ),
    "complete": (
        "payments.manage",
        "payments",
        "complete_payment",
        lambda f: {"psp_reference": f.get("psp_reference", "").strip(), "reason": f.get("reason", "")},
        False,
    ),
    "refund": (
        "payments.refund",
        "payments",
        "refund_payment",
        lambda f: {"amount": optional(f.get("amount")), "reason": optional(f.get("reason"))},
        False,
    ),
}
