"""Saved order views of the signed-in user (the gateway keeps them): list, save, change, delete.

Every reader has views of their own; sharing one with the team takes the admin role."""

from marshmallow import Schema, fields

from .. import saved_views
from ..router import router

TAGS = ["views"]


class SavedViewSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    filters = fields.Dict()
    sort = fields.String()
    columns = fields.List(fields.String())
    is_default = fields.Boolean()
    shared = fields.Boolean()
    owner = fields.String()
    mine = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SavedViewListSchema(Schema):
    items = fields.List(fields.Nested(SavedViewSchema))


@router.route(
    "GET",
    "/api/v1/views",
    "read",
    "The user's saved order views and those shared with the team",
    TAGS,
    response=SavedViewListSchema,
)
def list_views(ctx):
    return {"items": saved_views.list_views(ctx.source, ctx.principal.user_id)}


@router.route(
    "POST",
    "/api/v1/views",
    "read",
    "Save an order view (name, filters, sort, columns)",
    TAGS,
    body=saved_views.ViewSchema,
    response=SavedViewSchema,
    status=201,
)
def create_view(ctx):
    return 201, saved_views.create_view(ctx.source, ctx.principal.user_id, ctx.principal.role, ctx.body())


@router.route(
    "PATCH",
    "/api/v1/views/<int:view_id>",
    "read",
    "Rename, change, make default or share a saved view",
    TAGS,
    body=saved_views.ViewSchema,
    response=SavedViewSchema,
)
def update_view(ctx, view_id):
    return saved_views.update_view(ctx.source, ctx.principal.user_id, ctx.principal.role, view_id, ctx.body())


class DeletedViewSchema(Schema):
    deleted = fields.Integer()


@router.route("DELETE", "/api/v1/views/<int:view_id>", "read", "Delete a saved view", TAGS, response=DeletedViewSchema)
def delete_view(ctx, view_id):
    saved_views.delete_view(ctx.source, ctx.principal.user_id, view_id)
    return {"deleted": view_id}
