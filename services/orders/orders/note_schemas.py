"""Wire shapes of internal notes: what the orders service takes and answers."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from oms_common.fields import StrictSchema, no_control

from .note_rules import MAX_BODY, clean_body, editable_until


class NoteInputSchema(StrictSchema):
    body = fields.String(required=True, validate=[validate.Length(min=1, max=MAX_BODY), no_control])

    @validates("body")
    def _not_blank(self, value, **kwargs):
        if not clean_body(value):
            raise ValidationError("A note needs some text.")


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
    editable_until = fields.Function(lambda note: editable_until(note.created_at).isoformat())


class LatestNotesSchema(StrictSchema):
    references = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True,
                             validate=validate.Length(max=200))
