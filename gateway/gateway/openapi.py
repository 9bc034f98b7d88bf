"""The OpenAPI 3.1 document, generated from the router and the marshmallow schemas."""

import functools
from decimal import Decimal

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from .schemas import ProblemSchema

ERRORS = {
    "400": "Malformed request",
    "401": "No or bad credentials",
    "403": "The role forbids this",
    "404": "Unknown resource",
    "409": "Conflict: illegal transition, concurrent edit or duplicate",
    "422": "Well-formed but invalid; `errors` names each field",
    "503": "A service is down",
}

# answered by the HTTP listener itself, before any route runs (no body)
URI_TOO_LONG = {
    "description": "Path and query longer than the listener reads (8 KiB): send fewer or shorter "
    "values, or use the export jobs for long lists of references"
}

# the gateway's own GETs beside the routes (served by GatewayService, public): path, operationId,
# summary, answers
OPERATIONS = (
    ("/health", "health", "Each service's state", {"200": "All services up", "503": "A service is down"}),
    ("/api/openapi.json", "openapi", "This document", {"200": "OpenAPI 3.1 document"}),
)

BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _schema_name(schema):
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[:-6] if name.endswith("Schema") else name


def _build(router):
    marshmallow_plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(
        title="OMS API",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[marshmallow_plugin],
        info={"description": "Order management back office: orders, customers, payments, e-mails, exports."},
    )
    marshmallow_plugin.converter.add_attribute_function(_decimal_as_string)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", schema=ProblemSchema)
    problem = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    paths = {}
    for route in router.routes:
        operation = {
            "operationId": route.handler.__name__,
            "summary": route.summary,
            "tags": route.tags,
            "parameters": [],
            "responses": {},
        }
        for name in _path_params(route.path):
            operation["parameters"].append({"in": "path", "name": name, "required": True, "schema": {"type": "string"}})
        if route.query is not None:
            operation["parameters"].append({"in": "query", "schema": route.query})
        operation["parameters"].extend(route.parameters)
        for header in route.headers:
            operation["parameters"].append({"in": "header", **header})
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
        elif route.request_body is not None:
            operation["requestBody"] = route.request_body
        success = {"description": "Success"}
        if route.response is not None:
            success["content"] = {route.produces: {"schema": route.response}}
        elif route.produces != "application/json":
            success["content"] = {route.produces: {"schema": {"type": "string"}}}
        if route.response_headers:
            success["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in route.response_headers.items()
            }
        operation["responses"][str(route.status)] = success
        for code, text in route.also.items():
            operation["responses"][str(code)] = {**success, "description": text}
        for code, text in ERRORS.items():
            operation["responses"][code] = {"description": text, **problem}
        operation["responses"]["414"] = URI_TOO_LONG
        if not route.public:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    for path, operation_id, summary, responses in OPERATIONS:
        answers = {code: {"description": text} for code, text in responses.items()}
        get = {"operationId": operation_id, "summary": summary, "tags": ["operations"], "responses": answers}
        spec.path(path=path, operations={"get": get})
    return _open_responses(_numeric_bounds(spec.to_dict()))


def _decimal_as_string(self, field, ret, **kwargs):
    """Money travels as decimal strings ("49.90"): a Decimal field with as_string is a string
    of digits, not a number (marshmallow also loads a JSON number there, which stays undocumented)."""
    if not isinstance(field, fields.Decimal) or not getattr(field, "as_string", False):
        return {}
    for bound in BOUNDS:
        ret.pop(bound, None)
    ret.pop("format", None)
    nullable = isinstance(ret.get("type"), list) and "null" in ret["type"]
    return {
        "type": ["string", "null"] if nullable else "string",
        "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
        "format": "decimal",
    }


def _refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _closure(names, schemas):
    names, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in names or name not in schemas:
            continue
        names.add(name)
        todo.extend(_refs(schemas[name], set()))
    return names


def _open_responses(document):
    """Answers may carry more fields than listed (api.md: "more fields are welcome"), so the
    schemas only answers use do not forbid additional properties; request schemas still do
    (an unknown field in a request is a 422)."""
    schemas = document.get("components", {}).get("schemas", {})
    answers, requests = set(), set()
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            _refs(operation.get("responses", {}), answers)
            _refs(operation.get("requestBody", {}), requests)
            _refs(operation.get("parameters", []), requests)
    answer_only = _closure(answers, schemas) - _closure(requests, schemas)

    def open_up(node):
        if isinstance(node, dict):
            if node.get("additionalProperties") is False:
                del node["additionalProperties"]
            for value in node.values():
                open_up(value)
        elif isinstance(node, list):
            for value in node:
                open_up(value)

    for name in answer_only:
        open_up(schemas[name])
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            open_up(operation.get("responses", {}))
    return document


def _numeric_bounds(node):
    """apispec keeps a Decimal field's Range bounds as Decimal (dumped as "0.00"); JSON Schema wants numbers."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in BOUNDS and isinstance(value, (str, Decimal)):
                number = float(value)
                node[key] = int(number) if number.is_integer() else number
            else:
                _numeric_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _numeric_bounds(value)
    return node


def _path_params(path):
    import re

    return re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", path)


@functools.lru_cache(maxsize=1)
def _cached(router_id, count):
    from .router import router

    return _build(router)


def openapi_document(router):
    return _cached(id(router), len(router.routes))
