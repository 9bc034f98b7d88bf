"""Settings routes of api.md: numbering of orders and invoices."""

from functools import partial

from oms_contracts import orders as wire

from ..schemas import NumberingStateSchema
from .forward import forward

TAGS = ["settings"]
_forward = partial(forward, "orders", TAGS)

_forward(
    "get_numbering",
    "GET",
    "/api/v1/settings/numbering",
    "settings.read",
    "Numbering settings",
    response=NumberingStateSchema,
)

_forward(
    "update_numbering",
    "PUT",
    "/api/v1/settings/numbering",
    "settings.write",
    "Change numbering settings",
    body=wire.NumberingSchema,
    response=NumberingStateSchema,
)
