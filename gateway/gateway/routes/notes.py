"""Internal notes of an order: staff comments never sent to the customer (orders owns them).

Every reader reads them; writing takes ``orders.notes``; only a note's author edits it, within
15 minutes of writing it (orders answers 403 or 409 naming why)."""

from marshmallow import Schema, fields

from oms_contracts.notes import NoteInputSchema, NoteSchema

from ..router import router
from .forward import forward

TAGS = ["orders"]


class NoteListSchema(Schema):
    items = fields.List(fields.Nested(NoteSchema))


def author(principal):
    """The signed-in user as a note's author: the id decides who may edit, the name is shown."""
    return {"id": principal.user_id, "name": principal.username}


forward(
    "orders",
    TAGS,
    "list_notes",
    "GET",
    "/api/v1/orders/<reference>/notes",
    "read",
    "Internal notes of the order, newest first",
    response=NoteListSchema,
)


@router.route(
    "POST",
    "/api/v1/orders/<reference>/notes",
    "orders.notes",
    "Add an internal note to the order",
    TAGS,
    body=NoteInputSchema,
    response=NoteSchema,
    status=201,
)
def add_note(ctx, reference):
    return 201, ctx.call("orders", "add_note", reference, ctx.body(), author(ctx.principal), ctx.actor)


@router.route(
    "PATCH",
    "/api/v1/orders/<reference>/notes/<int:note_id>",
    "orders.notes",
    "Edit an internal note (its author only, within 15 minutes of writing it)",
    TAGS,
    body=NoteInputSchema,
    response=NoteSchema,
)
def edit_note(ctx, reference, note_id):
    return ctx.call("orders", "edit_note", reference, note_id, ctx.body(), author(ctx.principal), ctx.actor)
