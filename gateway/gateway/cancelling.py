"""Cancelling an order whose money was captured gives that money back (the payments service
refunds it, or staff do by hand), so it needs the refund permission as well as the permission
to process orders. The payment record decides; the API routes and the UI ask here, only here."""

from decimal import Decimal, InvalidOperation

from oms_common.problems import Forbidden, NotFound

REFUND_PERMISSION = "payments.refund"
CAPTURED_STATUSES = ("paid", "partially_refunded")


def _amount(value):
    try:
        return Decimal(str(value or "0"))
    except (InvalidOperation, ValueError):
        return Decimal("0")


def holds_captured_money(payment):
    """True when the payment record shows money taken and not yet given back."""
    if not payment:
        return False
    return payment.get("status") in CAPTURED_STATUSES or _amount(payment.get("captured_amount")) > _amount(
        payment.get("refunded_amount")
    )


def captured_references(calls, references):
    """The references (of ``references``) whose payment holds captured money. An order without
    a payment record has none; a payments service that cannot answer is a 503 (we do not guess)."""
    replies = [(reference, calls.async_("payments", "get_payment", reference)) for reference in references]
    captured = []
    for reference, reply in replies:
        try:
            payment = calls.result("payments", reply)
        except NotFound:
            continue
        if holds_captured_money(payment):
            captured.append(reference)
    return captured


def refused(references):
    listed = ", ".join(references[:20]) + (" …" if len(references) > 20 else "")
    one = len(references) == 1
    return Forbidden(
        f"Money was captured for {'order' if one else 'orders'} {listed}; cancelling would refund it, which "
        "needs the refund permission too: an admin can cancel, or an accountant refunds first. Nothing was changed.",
        {reference: ["Money was captured; cancelling needs the refund permission."] for reference in references},
    )


def check_cancel(can, calls, references):
    """Raises Forbidden (and nothing is changed) when ``can`` lacks the refund permission and one of
    the orders to be cancelled holds captured money."""
    if can(REFUND_PERMISSION):
        return
    captured = captured_references(calls, references)
    if captured:
        raise refused(captured)


def cancels(body):
    """Whether a status-change body (single or bulk) asks for cancellation."""
    return isinstance(body, dict) and body.get("status") == "cancelled"


def bulk_references(body):
    """The references of a bulk body, when it is well-formed enough to check (else the orders
    service refuses it anyway, naming the field)."""
    references = body.get("references") if isinstance(body, dict) else None
    if not isinstance(references, list) or not 1 <= len(references) <= 500:
        return []
    return [reference for reference in references if isinstance(reference, str) and 0 < len(reference) <= 40]
