"""The note shapes of the contracts with this service's rules: a note needs text, and the answer
says until when its author may still edit it."""

from typing import Any

from marshmallow import ValidationError, fields, validates

from oms_contracts.notes import NoteInputSchema, NoteSchema

from .note_rules import clean_body, editable_until


class NoteInput(NoteInputSchema):
    @validates("body")
    def _not_blank(self, value: str, **kwargs: Any) -> None:
        if not clean_body(value):
            raise ValidationError("A note needs some text.")


class NoteDump(NoteSchema):
    editable_until = fields.Function(lambda note: editable_until(note.created_at).isoformat())
