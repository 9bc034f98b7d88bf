"""The exports service's own HTTP listener: streamed downloads for the gateway to proxy.

RPC answers are single messages, so a download of a million orders cannot travel as one.
The service therefore serves its exports over HTTP itself (``WEB_SERVER_ADDRESS``, by
default 127.0.0.1:8002, not meant to be public); it answers only requests carrying
``EXPORTS_INTERNAL_TOKEN`` (without one configured it answers nobody: 401, no data). The
gateway checks the user's role, sends the token and
forwards the query string and the streamed body (``requests.get(..., stream=True)``).
Filters are validated before the first byte is sent, so a bad query is a 4xx problem
response, never a truncated file. A stream that breaks off later is detectable by the
client: the chunked response ends without its terminating chunk and the XML lacks its
closing ``<end count="…"/>``.
"""

import hmac
import logging

from werkzeug.wrappers import Response

from oms_common.problems import NotFound, Problem, ServiceUnavailable, Unauthorized
from oms_common.web import problem_response

from . import formats
from .streams import ExportStream, load_query

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-OMS-Internal-Token"
LIST_PARAMS = ("status", "payment_status", "reference")
DOWNLOADS = {f"{kind}.{fmt}": (kind, fmt) for kind in ("orders", "customers") for fmt in ("xml", "csv")}


def query_from_args(args):
    query = {}
    for key in args.keys():
        values = args.getlist(key)
        query[key] = [v for value in values for v in value.split(",") if v] if key in LIST_PARAMS else values[-1]
    return query


def _authorized(request, token):
    if not token:  # no token configured: nobody is let in (`make run` always makes one)
        return False
    given = request.headers.get(TOKEN_HEADER, "")
    return hmac.compare_digest(given.encode(), token.encode())


def download(engine, settings, request, name):
    try:
        if not _authorized(request, settings.internal_token):
            raise Unauthorized("This listener is for the gateway only.")
        if name in formats.SCHEMA_FILES or name == "schema.xsd":
            version = formats.SCHEMA_FILES.get(name) or formats.requested_version(request.args.get("schema_version"))
            schema = formats.schema(version)
            return Response(
                schema["text"],
                mimetype="application/xml",
                headers={"Content-Disposition": f'inline; filename="{schema["file_name"]}"'},
            )
        if name not in DOWNLOADS:
            raise NotFound(
                f"No export named '{name}'. Available: {', '.join(sorted(DOWNLOADS))}, schema.xsd, "
                f"{', '.join(sorted(formats.SCHEMA_FILES))}."
            )
        kind, fmt = DOWNLOADS[name]
        params = load_query(kind, query_from_args(request.args))
        stream = ExportStream(
            engine, kind, fmt, params, delimiter=settings.csv_delimiter, fetch_size=settings.fetch_size
        ).open()
    except Problem as problem:
        return problem_response(problem)
    except Exception as error:  # noqa: BLE001 - database unreachable or its pool exhausted
        log.exception("could not start export %s", name)
        return problem_response(ServiceUnavailable(f"The export could not start: {type(error).__name__}."))
    headers = {
        "Content-Disposition": f'attachment; filename="{stream.file_name}"',
        "X-OMS-Watermark": str(stream.watermark),
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        headers["X-OMS-CSV-Delimiter"] = settings.csv_delimiter
    return Response(
        _closing(stream), status=200, content_type=stream.content_type, headers=headers, direct_passthrough=True
    )


class _closing:
    """The stream as a WSGI iterable whose close() releases the database connection."""

    def __init__(self, stream):
        self.stream = stream
        self._iterator = iter(stream)

    def __iter__(self):
        return self._iterator

    def close(self):
        self._iterator.close()
        self.stream.close()
