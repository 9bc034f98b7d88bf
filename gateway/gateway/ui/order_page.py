"""The order detail: the order with its payment, e-mails and history (composed in ``compose``),
its internal notes, and what the action just done did to it."""

from datetime import datetime, timezone

from werkzeug.wrappers import Response

from oms_common.problems import NotFound, Problem
from oms_contracts.customers import customer_number

from .. import cancelling
from ..compose import order_detail
from .page import Page, shown_refusal


def notes_for(page: Page, reference: str) -> list[dict] | None:
    """The order's notes, newest first, each marked ``editable`` when this user may edit it now;
    ``None`` when orders could not answer them (the rest of the page still shows)."""
    try:
        items = page.calls("orders", "list_notes", reference)["items"]
    except Problem as problem:
        if isinstance(problem, NotFound):
            raise
        return None
    now = datetime.now(timezone.utc)
    for note in items:
        note["editable"] = (
            page.can("orders.notes")
            and note["author_id"] == page.user.id
            and datetime.fromisoformat(note["editable_until"]) > now
        )
    return items


def order(
    page: Page, reference: str, errors: dict | None = None, status: int = 200, done: str | None = None
) -> Response:
    page.require("read")
    detail = order_detail(page.calls, reference, with_history=True)
    targets = list(detail["allowed_transitions"])
    # cancelling refunds captured money: offered only to who may refund, or when nothing was captured
    cancel_needs_refund = (
        "cancelled" in targets
        and not page.can(cancelling.REFUND_PERMISSION)
        and cancelling.holds_captured_money(detail["payment"])
    )
    if cancel_needs_refund:
        targets.remove("cancelled")
    owner = None
    if page.can("orders.customer"):
        try:  # the order count of today's customer, for the reassign confirmation
            owner = page.calls("orders", "get_customer", detail["customer"]["id"])
        except Problem as problem:
            if problem.status < 500 and not isinstance(problem, NotFound):
                raise
    done = done or page.request.args.get("done")
    return page.render(
        "order.html",
        status=status,
        order=detail,
        history=detail["history"],
        notes=notes_for(page, reference),
        payment=detail["payment"],
        mails=detail["emails"],
        unavailable=detail["unavailable"],
        targets=targets,
        errors=errors or {},
        cancel_needs_refund=cancel_needs_refund,
        owner=owner,
        done=done,
        done_text=_done_text(page, done, detail, page.request.args.get("mailed") == "1"),
    )


def refused_on_order(page: Page, reference: str, form: str, problem: Problem) -> Response:
    """The order again with the refusal beside the form (``form``) it answers; a 5xx or an unknown
    order goes on to the error page."""
    shown_refusal(problem, NotFound)
    return order(page, reference, errors={form: problem}, status=problem.status)


# what each action just did, read back from the order; a pair: without and with the customer's mail
DONE_MESSAGES = {
    "ship": ("Order {reference} shipped.", "Order {reference} shipped; shipping e-mail queued to {email}."),
    "cancel": ("Order {reference} cancelled.", "Order {reference} cancelled; cancellation e-mail queued to {email}."),
    "status": (
        "Order {reference} is now “{status}”.",
        "Order {reference} is now “{status}”; e-mail queued to {email}.",
    ),
    "pause": "Order {reference} paused.",
    "assign": "Order {reference} assigned to session {session}.",
    "customer": "Order {reference} now belongs to {name} ({number}).",
    "note": "Note added to order {reference}.",
    "note-edited": "Note on order {reference} saved.",
    "invoice-number": "Invoice number of order {reference} set to {number}.",
    "payment-status": "Payment status of order {reference} is now “{status}”.",
    "dunning": (
        "Order {reference} is at reminder level {level}.",
        "Order {reference} is at reminder level {level}; reminder e-mail queued to {email}.",
    ),
    "complete": "Payment status of order {reference} is now “{status}”.",
    "refund": "Refund of order {reference} requested; payment status “{status}”.",
}
# the actions whose "{status}" is the payment's rather than the order's
PAYMENT_ACTIONS = ("payment-status", "complete", "refund")


def _done_text(page, action, order, mailed):
    """What the action just did, to that order and whom it mailed (read back from the order itself)."""
    message = DONE_MESSAGES.get(action)
    if message is None:
        return None
    if isinstance(message, tuple):
        message = message[1] if mailed else message[0]
    t, customer, payment = page.t, order["customer"], order.get("payment") or {}
    return t(
        message,
        reference=order["reference"],
        email=customer["email"],
        status=t(order["payment_status"] if action in PAYMENT_ACTIONS else order["status"]),
        session=order.get("session_id") or "—",
        name=customer.get("name", ""),
        # the invoice's number, or the customer's the order now belongs to
        number=(order.get("invoice_number") or "—") if action == "invoice-number" else customer_number(customer["id"]),
        level=payment.get("dunning_level") or "—",
    )
