"""Saved order views of the signed-in user (the gateway keeps them): list, save, change, delete.

Every reader has views of their own; sharing one with the team takes the admin role."""

from marshmallow import Schema, fields

from .. import saved_views
from ..router import router

TAGS = ["views"]


def _view_route(method, path, summary, **options):
    """A route of this module: every reader has views of their own, so each takes the read role."""
    return router.route(method, path, "read", summary, TAGS, **options)


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


@_view_route(
    "GET", "/api/v1/views", "The user's saved order views and those shared with the team", response=SavedViewListSchema
)
def list_views(ctx):
    return {"items": saved_views.list_views(ctx.source, ctx.principal.user_id)}


@_view_route(
    "POST",
    "/api/v1/views",
    "Save an order view (name, filters, sort, columns)",
    body=saved_views.ViewSchema,
    response=SavedViewSchema,
    status=201,
)
def create_view(ctx):
    return 201, saved_views.create_view(ctx.source, ctx.principal.user_id, ctx.principal.role, ctx.body())


@_view_route(
    "PATCH",
    "/api/v1/views/<int:view_id>",
    "Rename, change, make default or share a saved view",
    body=saved_views.ViewSchema,
    response=SavedViewSchema,
)
def update_view(ctx, view_id):
    return saved_views.update_view(ctx.source, ctx.principal.user_id, ctx.principal.role, view_id, ctx.body())


class DeletedViewSchema(Schema):
    deleted = fields.Integer()


@_view_route("DELETE", "/api/v1/views/<int:view_id>", "Delete a saved view", response=DeletedViewSchema)
def delete_view(ctx, view_id):
    saved_views.delete_view(ctx.source, ctx.principal.user_id, view_id)
    return {"deleted": view_id}
