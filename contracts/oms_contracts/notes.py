"""Internal notes on the wire: what the orders service takes and answers for them."""

from typing import Final

from marshmallow import Schema, fields, validate

from oms_common.fields import StrictSchema, no_control

from .parts import order_reference_field

MAX_NOTE_BODY: Final = 4000


class NoteInputSchema(StrictSchema):
    body = fields.String(required=True, validate=[validate.Length(min=1, max=MAX_NOTE_BODY), no_control])


class AuthorSchema(Schema):
    """The signed-in user who writes: the gateway's user id and the name staff know them by."""

    id = fields.Integer(required=True, validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class NoteSchema(Schema):
    id = fields.Integer()
    author_id = fields.Integer()
    author = fields.String(attribute="author_name")
    body = fields.String()
    created_at = fields.DateTime()
    edited_at = fields.DateTime(allow_none=True)
    editable_until = fields.DateTime()


class LatestNotesSchema(StrictSchema):
    references = fields.List(order_reference_field(), required=True, validate=validate.Length(max=200))
