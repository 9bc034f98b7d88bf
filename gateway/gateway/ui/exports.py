"""The exports page: export jobs (create, run now, delete), their runs, and the downloads."""

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_common.problems import NotFound, Problem

from ..routes.exports import DOWNLOADS, stream_download
from .page import Page, shown_refusal


def exports(page: Page, error: Problem | None = None, status: int = 200) -> Response:
    page.require("exports.read")
    unavailable = []
    jobs = runs = None
    try:
        jobs = page.calls("exports", "list_jobs")
        runs = page.calls("exports", "list_runs", {})["items"]
    except Problem:
        unavailable.append("exports")
    return page.render("exports.html", status=status, jobs=jobs, runs=runs, unavailable=unavailable, error=error)


def export_job_create(page: Page) -> Response:
    page.require("exports.manage")
    form = page.request.form
    body = {
        "name": form.get("name", ""),
        "cron": form.get("cron", ""),
        "kind": form.get("kind", ""),
        "format": form.get("format", ""),
        "target": form.get("target", ""),
        "incremental": "incremental" in form,
        "schema_version": _number(form.get("schema_version", "1")),
    }
    try:
        page.calls("exports", "create_job", body, page.actor)
    except Problem as problem:
        return exports(page, error=shown_refusal(problem), status=problem.status)
    return redirect("/admin/exports", code=303)


def _number(value: str) -> int | str:
    """A form's number as the job's JSON wants it; anything else goes on as it is, refused by name."""
    return int(value) if value.isdigit() and len(value) < 6 else value


def export_job_action(page: Page, job_id: int, action: str) -> Response:
    page.require("exports.manage")
    method = {"delete": "delete_job", "run": "run_job_now"}.get(action)
    if method is None:
        raise NotFound("Unknown action.")
    page.calls("exports", method, job_id, page.actor)
    return redirect("/admin/exports", code=303)


def export_download(page: Page, name: str) -> Response:
    page.require("exports.read")
    if name not in DOWNLOADS:
        raise NotFound("No such export.")
    return stream_download(page.settings, name, page.request.query_string.decode("ascii", "replace"))
