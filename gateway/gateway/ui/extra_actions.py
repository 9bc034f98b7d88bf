"""Order actions served by other services (payments) or the support operations."""


def _optional(value):
    value = (value or "").strip()
    return value or None


EXTRA_ORDER_ACTIONS = {
    "customer": ("orders.customer", "orders", "reassign_customer",
                 lambda f: {"customer_id": int(f["customer_id"]) if f.get("customer_id", "").isdigit()
                            else f.get("customer_id", ""), "reason": _optional(f.get("reason"))}, True),
}
