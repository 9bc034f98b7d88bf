"""Export, import and scheduled-job routes of api.md.

Downloads stream from the exports service's own listener through the gateway (role checked
here, nothing buffered); everything else is RPC.
"""

from functools import partial

import requests
from werkzeug.wrappers import Response

from oms_common.problems import ServiceUnavailable
from oms_common.settings import setting
from oms_contracts import exports as wire

from ..router import router
from .forward import forward, numbered

TAGS = ["exports"]
DOWNLOADS = {
    "orders.xml": ("Orders as XML (streamed)", "application/xml", wire.OrderExportQuerySchema),
    "orders.csv": ("Orders as CSV, one row per line (streamed)", "text/csv", wire.OrderExportQuerySchema),
    "customers.xml": ("Customers as XML (streamed)", "application/xml", wire.CustomerExportQuerySchema),
    "customers.csv": ("Customers as CSV (streamed)", "text/csv", wire.CustomerExportQuerySchema),
}
PASSED_HEADERS = ("Content-Type", "Content-Disposition", "X-OMS-Watermark", "X-OMS-CSV-Delimiter", "Cache-Control")
IMPORT_TIMEOUT = 120


def stream_download(settings, name, query_string):
    """Proxies one download: status and headers of the exports service, body streamed through."""
    token = setting(settings, "EXPORTS_INTERNAL_TOKEN", "gateway")
    headers = {"X-OMS-Internal-Token": str(token)} if token else {}
    url = f"http://{setting(settings, 'EXPORTS_HTTP_ADDRESS', 'gateway')}/exports/{name}"
    try:
        upstream = requests.get(url, params=query_string, headers=headers, stream=True, timeout=(5, 300))
    except requests.RequestException:
        raise ServiceUnavailable("The exports service is not reachable.") from None
    passed = {key: upstream.headers[key] for key in PASSED_HEADERS if key in upstream.headers}

    def body():
        try:
            yield from upstream.iter_content(chunk_size=64 * 1024)
        finally:
            upstream.close()

    return Response(body(), status=upstream.status_code, headers=passed, direct_passthrough=True)


def _make_download_route(name, summary, produces, query):
    def download(ctx):
        return stream_download(ctx.settings, name, ctx.request.query_string.decode("ascii", "replace"))

    download.__name__ = "export_" + name.replace(".", "_")
    router.route("GET", f"/api/v1/exports/{name}", "exports.read", summary, TAGS, query=query, produces=produces)(
        download
    )


for _name, (_summary, _produces, _query) in DOWNLOADS.items():
    _make_download_route(_name, _summary, _produces, _query)


@router.route(
    "GET",
    "/api/v1/exports/schema.xsd",
    "exports.read",
    "The XSD every XML export of that schema_version validates against (default 1)",
    TAGS,
    query=wire.SchemaQuerySchema,
    produces="application/xml",
)
def export_schema(ctx):
    # only schema_version is read: whatever else a client appends (a cache buster) stays ignored, as before
    schema = ctx.call("exports", "get_schema", ctx.request.args.get("schema_version"))
    return Response(
        schema["text"],
        mimetype="application/xml",
        headers={"Content-Disposition": f'inline; filename="{schema["file_name"]}"'},
    )


_forward = partial(forward, "exports", TAGS)
_job_id = numbered("export job")

_forward("list_jobs", "GET", "/api/v1/exports/jobs", "exports.read", "Scheduled export jobs", items=True)

_forward(
    "create_job",
    "POST",
    "/api/v1/exports/jobs",
    "exports.manage",
    "Create a scheduled export job",
    body=wire.JobSchema,
    response=wire.JobOut,
    status=201,
)

_forward(
    "get_job",
    "GET",
    "/api/v1/exports/jobs/<job_id>",
    "exports.read",
    "One scheduled export job",
    convert=_job_id,
    response=wire.JobOut,
)

_forward(
    "update_job",
    "PUT",
    "/api/v1/exports/jobs/<job_id>",
    "exports.manage",
    "Change a scheduled export job",
    convert=_job_id,
    body=wire.JobSchema,
    response=wire.JobOut,
)

_forward(
    "delete_job",
    "DELETE",
    "/api/v1/exports/jobs/<job_id>",
    "exports.manage",
    "Delete a scheduled export job",
    convert=_job_id,
)

_forward(
    "run_job_now",
    "POST",
    "/api/v1/exports/jobs/<job_id>/run",
    "exports.manage",
    "Run a scheduled export job now",
    convert=_job_id,
    status=202,
)

_forward("list_runs", "GET", "/api/v1/exports/runs", "exports.read", "Past export runs", query=wire.RunQuerySchema)


@router.route(
    "POST",
    "/api/v1/imports/orders",
    "imports",
    "Import orders from export XML (all or nothing)",
    TAGS,
    status=201,
    also={200: "Dry run: the report, nothing written"},
    parameters=[
        {
            "in": "query",
            "name": "dry_run",
            "required": False,
            "schema": {"type": "string", "enum": ["1", "true", "0", "false"]},
        }
    ],
    request_body={"required": True, "content": {"application/xml": {"schema": {"type": "string"}}}},
)
def import_orders(ctx):
    encoded = ctx.uploaded_document("IMPORT_MAX_BYTES", "Send the export XML as the request body.")
    dry_run = ctx.request.args.get("dry_run") in ("1", "true")
    reply = ctx.call.async_("exports", "import_orders", encoded, ctx.actor, dry_run)
    result = ctx.call.result("exports", reply, timeout=IMPORT_TIMEOUT)
    return (200 if dry_run else 201), result
