"""E-mail routes: an order's mail log, and the failed mails operators look after."""

from functools import partial

from oms_contracts.mails import MailLogSchema

from ..router import router
from .forward import forward

TAGS = ["e-mails"]


@router.route("GET", "/api/v1/orders/<reference>/emails", "read", "Every e-mail of the order, oldest first", TAGS)
def order_emails(ctx, reference):
    ctx.call("orders", "get_order", reference)  # 404 for an unknown order, like every order route
    return {"items": ctx.call("notifications", "mails_for_order", reference)}


_forward = partial(forward, "notifications", TAGS)

_forward(
    "failed_emails",
    "GET",
    "/api/v1/emails/failed",
    "users.manage",
    "E-mails that finally failed",
    items=True,
    rpc="failed_mails",
)

# retry_mail takes no actor: the mail goes out again as it was stored
_forward(
    "retry_email",
    "POST",
    "/api/v1/emails/<event_id>/retry",
    "users.manage",
    "Send a failed e-mail again",
    rpc="retry_mail",
    actor=False,
    response=MailLogSchema,
)
