"""Settings routes of api.md: numbering of orders and invoices."""

from oms_contracts import orders as wire

from ..router import router
from ..schemas import NumberingStateSchema

TAGS = ["settings"]


@router.route(
    "GET", "/api/v1/settings/numbering", "settings.read", "Numbering settings", TAGS, response=NumberingStateSchema
)
def get_numbering(ctx):
    return ctx.call("orders", "get_numbering")


@router.route(
    "PUT",
    "/api/v1/settings/numbering",
    "settings.write",
    "Change numbering settings",
    TAGS,
    body=wire.NumberingSchema,
    response=NumberingStateSchema,
)
def update_numbering(ctx):
    return ctx.call("orders", "update_numbering", ctx.body(), ctx.actor)
