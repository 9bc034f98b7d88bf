"""E-mail routes: an order's mail log, and the failed mails operators look after."""

from oms_contracts.mails import MailLogSchema

from ..router import router

TAGS = ["e-mails"]


@router.route("GET", "/api/v1/orders/<reference>/emails", "read", "Every e-mail of the order, oldest first", TAGS)
def order_emails(ctx, reference):
    ctx.call("orders", "get_order", reference)  # 404 for an unknown order, like every order route
    return {"items": ctx.call("notifications", "mails_for_order", reference)}


@router.route("GET", "/api/v1/emails/failed", "users.manage", "E-mails that finally failed", TAGS)
def failed_emails(ctx):
    return {"items": ctx.call("notifications", "failed_mails")}


@router.route(
    "POST",
    "/api/v1/emails/<event_id>/retry",
    "users.manage",
    "Send a failed e-mail again",
    TAGS,
    response=MailLogSchema,
)
def retry_email(ctx, event_id):
    return ctx.call("notifications", "retry_mail", event_id)
