"""Business errors that cross RPC and become application/problem+json at the gateway.

Each class is registered with nameko's ``deserialize_to_instance`` so that a caller
gets the same exception (with its field errors) back instead of a bare RemoteError.
"""

from typing import TYPE_CHECKING, Any

from nameko.exceptions import deserialize_to_instance

if TYPE_CHECKING:
    from marshmallow import Schema, ValidationError


class Problem(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", errors: dict[str, Any] | None = None) -> None:
        super().__init__(detail, errors or {})
        self.detail = detail
        self.errors = errors or {}

    def __str__(self) -> str:
        return self.detail

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://oms.example/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        if self.errors:
            body["errors"] = self.errors
        return body

    @property
    def slug(self) -> str:
        return self.title.lower().replace(" ", "-")


@deserialize_to_instance
class BadRequest(Problem):
    status = 400
    title = "Bad request"


@deserialize_to_instance
class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


@deserialize_to_instance
class Forbidden(Problem):
    status = 403
    title = "Forbidden"


@deserialize_to_instance
class NotFound(Problem):
    status = 404
    title = "Not found"


@deserialize_to_instance
class Conflict(Problem):
    status = 409
    title = "Conflict"


@deserialize_to_instance
class ValidationFailed(Problem):
    status = 422
    title = "Validation failed"


@deserialize_to_instance
class ServiceUnavailable(Problem):
    status = 503
    title = "Service unavailable"


EXPECTED = (Problem,)


def from_marshmallow(error: "ValidationError", status_cls: type[Problem] | None = None) -> Problem:
    """A marshmallow ValidationError as a problem naming every field path."""
    errors: dict[str, list[Any]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}", inner)
        else:
            errors[prefix or "_schema"] = list(value) if isinstance(value, list) else [str(value)]

    walk("", error.messages)
    fields = ", ".join(sorted(errors))
    cls = status_cls or ValidationFailed
    return cls(f"Invalid input: {fields}", errors)


def load(schema: "Schema", data: object, status_cls: type[Problem] | None = None) -> Any:
    """Validates ``data`` with a marshmallow schema; a failure becomes a problem naming each field."""
    from marshmallow import ValidationError

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise (status_cls or ValidationFailed)("The body must be a JSON object.", {"_schema": ["Expected an object."]})
    try:
        return schema.load(data)
    except ValidationError as error:
        raise from_marshmallow(error, status_cls) from None
