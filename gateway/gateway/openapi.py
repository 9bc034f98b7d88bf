"""The OpenAPI 3.1 document, generated from the router and the marshmallow schemas."""
import functools

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

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


def _schema_name(schema):
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[:-6] if name.endswith("Schema") else name


def _build(router):
    spec = APISpec(
        title="OMS API", version="1.0.0", openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": "Order management back office: orders, customers, payments, e-mails, exports."},
    )
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
        success = {"description": "Success"}
        if route.response is not None:
            success["content"] = {route.produces: {"schema": route.response}}
        elif route.produces != "application/json":
            success["content"] = {route.produces: {"schema": {"type": "string"}}}
        operation["responses"][str(route.status)] = success
        for code, text in ERRORS.items():
            operation["responses"][code] = {"description": text, **problem}
        if not route.public:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    spec.path(path="/health", operations={"get": {
        "operationId": "health", "summary": "Each service's state", "tags": ["operations"],
        "responses": {"200": {"description": "All services up"}, "503": {"description": "A service is down"}}}})
    spec.path(path="/api/openapi.json", operations={"get": {
        "operationId": "openapi", "summary": "This document", "tags": ["operations"],
        "responses": {"200": {"description": "OpenAPI 3.1 document"}}}})
    return spec.to_dict()


def _path_params(path):
    import re

    return re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", path)


@functools.lru_cache(maxsize=1)
def _cached(router_id, count):
    from .router import router

    return _build(router)


def openapi_document(router):
    return _cached(id(router), len(router.routes))
