"""Who acts: the actor every RPC call carries, as each service reads it."""

from collections.abc import Mapping
from typing import Any, Final

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from oms_common.problems import ValidationFailed, from_marshmallow

ACTOR_KINDS: Final = ("user", "system", "psp", "customer")
SYSTEM: Final = {"name": "system", "kind": "system", "role": None, "origin": "internal"}


class ActorSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(load_default="user", validate=validate.OneOf(ACTOR_KINDS))
    role = fields.String(load_default=None, allow_none=True)
    origin = fields.String(load_default="internal", validate=validate.Length(max=200))


_actor_schema = ActorSchema()


def load_actor(actor: Mapping[str, Any] | None) -> dict[str, Any]:
    """The acting party (the system when none is named); a malformed actor is the caller's error, named
    like any other field."""
    try:
        return _actor_schema.load(actor or SYSTEM)
    except ValidationError as error:
        problem = from_marshmallow(error)
        errors = {f"actor.{field}": messages for field, messages in problem.errors.items()}
        raise ValidationFailed(f"Invalid actor: {', '.join(sorted(errors))}", errors) from None


def psp_actor(provider: str) -> dict[str, Any]:
    return {"name": provider, "kind": "psp", "role": None, "origin": f"webhook:{provider}"}
