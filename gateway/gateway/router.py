"""The API's routes, declared once: dispatch, permissions and the OpenAPI document all read them."""

import json
import re
from dataclasses import dataclass, field

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, Rule

from oms_common.problems import BadRequest, NotFound, Problem

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "Retrying with the same key and body returns the first answer and does "
    "nothing twice; the same key with another request is refused (409).",
}


@dataclass
class Route:
    method: str
    path: str
    handler: object
    permission: str
    summary: str
    tags: list
    body: object = None
    query: object = None
    response: object = None
    status: int = 200
    produces: str = "application/json"
    parameters: list = field(default_factory=list)
    public: bool = False
    headers: list = field(default_factory=list)
    # more documented answers than `status` ({"200": "description"}) and a raw requestBody object
    # for bodies that are not JSON (the XML import)
    also: dict = field(default_factory=dict)
    request_body: dict = None
    # headers of the successful answer ({"X-OMS-Missing": "description"}), for the document
    response_headers: dict = field(default_factory=dict)
    # a POST that only reads: its request does not fit a query string (a list of references), it
    # changes nothing, so it is answered like a GET (no Idempotency-Key, nothing kept for a retry)
    changes_nothing: bool = False
    # every mutation of the API takes an Idempotency-Key (the gateway keeps the first answer)
    idempotent: bool = None

    def __post_init__(self):
        if self.changes_nothing and self.method != "POST":
            raise ValueError(f"{self.method} {self.path}: only a POST can be marked as changing nothing")
        if self.idempotent is None:
            self.idempotent = self.mutating and self.path.startswith("/api/v1/")
        if self.idempotent and all(header.get("name") != "Idempotency-Key" for header in self.headers):
            self.headers = [*self.headers, IDEMPOTENCY_HEADER]

    @property
    def mutating(self):
        return self.method in MUTATING_METHODS and not self.changes_nothing

    @property
    def openapi_path(self):
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.path)


class Router:
    def __init__(self):
        self.routes = []
        self._map = None

    def route(self, method, path, permission, summary, tags, **options):
        def register(handler):
            self.routes.append(Route(method, path, handler, permission, summary, tags, **options))
            self._map = None
            return handler

        return register

    def match(self, method, path):
        if self._map is None:
            self._map = Map(
                [Rule(r.path, methods=[r.method], endpoint=index) for index, r in enumerate(self.routes)],
                strict_slashes=False,
            )
        adapter = self._map.bind("oms", path_info=path)
        try:
            index, values = adapter.match(path, method=method)
        except WerkzeugNotFound:
            raise NotFound(f"No such resource: {path}") from None
        except MethodNotAllowed as error:
            raise MethodNotAllowedProblem(
                f"{method} is not allowed here; use {', '.join(error.valid_methods)}.", allowed=error.valid_methods
            ) from None
        return self.routes[index], values


class MethodNotAllowedProblem(Problem):
    status = 405
    title = "Method not allowed"

    def __init__(self, detail, allowed=()):
        super().__init__(detail)
        self.allowed = list(allowed)


router = Router()


def numeric_id(value, what):
    """A path segment naming a row by its number; anything else, or a number too long for a bigint, is
    no such ``what`` (404) rather than a refusal of the request."""
    if not value.isdigit() or len(value) > 18:
        raise NotFound(f"No {what} {value!r}.")
    return int(value)


def parse_json_body(request, max_bytes=5 * 1024 * 1024):
    """The request body as a JSON object; malformed → 400."""
    if request.content_length and request.content_length > max_bytes:
        raise BadRequest(f"The body is larger than {max_bytes} bytes.")
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The body is not valid JSON: {error}", {"body": ["Malformed JSON."]}) from None
    if not isinstance(value, dict):
        raise BadRequest("The body must be a JSON object.", {"body": ["Expected a JSON object."]})
    return value


def query_dict(request, repeatable=(), drop=()):
    """Query parameters as a dict: lists for repeatable keys, the single value otherwise."""
    result = {}
    for key in request.args.keys():
        if key in drop:
            continue
        values = request.args.getlist(key)
        if key in repeatable:
            result[key] = [v for value in values for v in value.split(",") if v]
        else:
            result[key] = values[-1]
    return result
