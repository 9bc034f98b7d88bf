"""Order actions served by the payments service and the support operations (form → RPC body)."""


def _optional(value):
    value = (value or "").strip()
    return value or None


def _number(value):
    value = (value or "").strip()
    return int(value) if value.isdigit() else value


EXTRA_ORDER_ACTIONS = {
    "customer": ("orders.customer", "orders", "reassign_customer",
                 lambda f: {"customer_id": _number(f.get("customer_id")), "reason": _optional(f.get("reason"))},
                 True),
    "payment-status": ("payments.manage", "payments", "set_payment_status",
                       lambda f: {"status": f.get("status", ""), "note": _optional(f.get("note"))}, False),
    "dunning": ("payments.manage", "payments", "request_dunning",
                lambda f: {"level": _number(f.get("level")), "notify": "notify" in f,
                           "reason": _optional(f.get("reason"))}, False),
    "complete": ("payments.manage", "payments", "complete_payment",
                 lambda f: {"psp_reference": f.get("psp_reference", "").strip(), "reason": f.get("reason", "")},
                 False),
    "refund": ("payments.refund", "payments", "refund_payment",
               lambda f: {"amount": _optional(f.get("amount")), "reason": _optional(f.get("reason"))}, False),
}
