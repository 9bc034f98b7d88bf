"""Routes whose handler only passes the request on to one RPC and answers its result.

The RPC gets, in this order: the path's value (through ``convert``), then the query or the body
the route declares, then, for a change, the actor. That is how most routes of api.md map onto the
services; a route that checks or composes anything writes its own handler."""

from ..router import MUTATING_METHODS, numeric_id, router


def numbered(what):
    """A path value that names a row by its number (anything else is no such ``what``: 404)."""
    return lambda value: numeric_id(value, what)


def forward(service, tags, name, method, path, permission, summary, *, rpc=None, convert=None, **options):
    """Declares the route; ``name`` is its operationId and, unless ``rpc`` says otherwise, the RPC's.

    ``repeatable`` names the query keys that take several values, ``items=True`` answers a bare
    list as ``{"items": [...]}`` and ``actor=False`` leaves out the actor of a change the service
    does not audit. The other options are the router's."""
    repeatable = options.pop("repeatable", ())
    items = options.pop("items", False)
    with_actor = options.pop("actor", True) and method in MUTATING_METHODS and not options.get("changes_nothing")
    status = options.get("status", 200)
    takes_query, takes_body = options.get("query") is not None, options.get("body") is not None

    def handler(ctx, **values):
        args = [convert(value) if convert else value for value in values.values()]
        if takes_query:
            args.append(ctx.query(repeatable=repeatable))
        if takes_body:
            args.append(ctx.body())
        if with_actor:
            args.append(ctx.actor)
        result = ctx.call(service, rpc or name, *args)
        if items:
            result = {"items": result}
        return result if status == 200 else (status, result)

    handler.__name__ = handler.__qualname__ = name
    router.route(method, path, permission, summary, tags, **options)(handler)
