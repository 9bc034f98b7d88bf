"""Bank statements in the staff UI: upload a camt file, read its report, and book the credits
no order was found for (payments does the matching; this page only asks and shows)."""

import base64

from werkzeug.routing import Rule
from werkzeug.utils import redirect

from oms_common.problems import Problem, ValidationFailed
from oms_common.settings import setting

from .page import shown_refusal

LISTED = ("unmatched", "overpaid", "partial")
LIST_LIMIT = 200
IMPORT_TIMEOUT = 300


def bank_statements(page, report=None, error=None, status=200):
    page.require("payments.manage")
    args = page.request.args
    outcome = args.get("outcome") if args.get("outcome") in LISTED else "unmatched"
    if report is None and (args.get("import") or "").isdigit() and len(args["import"]) <= 18:
        report = page.calls("payments", "get_bank_statement_import", int(args["import"]))
    entries = page.calls("payments", "list_bank_entries", {"outcome": outcome, "limit": LIST_LIMIT})["items"]
    return page.render(
        "bank_statements.html",
        status=status,
        report=report,
        entries=entries,
        outcome=outcome,
        outcomes=LISTED,
        error=error,
    )


def bank_statement_upload(page):
    page.require("payments.manage")
    limit = setting(page.settings, "BANK_STATEMENT_MAX_BYTES", "gateway")
    upload = page.request.files.get("file")
    data = upload.read(limit + 1) if upload else b""
    try:
        if not data.strip():
            raise ValidationFailed(page.t("Choose a camt.053 or camt.054 file."), {"file": ["Empty."]})
        reply = page.calls.async_(
            "payments", "import_bank_statement", base64.b64encode(data).decode("ascii"), page.actor
        )
        report = page.calls.result("payments", reply, timeout=IMPORT_TIMEOUT)
    except Problem as problem:
        return bank_statements(page, error=shown_refusal(problem), status=problem.status)
    return redirect(f"/admin/bank-statements?import={report['id']}", code=303)


def bank_entry_assign(page, entry_id):
    page.require("payments.manage")
    form = page.request.form
    body = {"order_reference": form.get("order_reference", "").strip(), "note": form.get("note") or None}
    try:
        page.calls("payments", "assign_bank_entry", entry_id, body, page.actor)
    except Problem as problem:
        return bank_statements(page, error=shown_refusal(problem), status=problem.status)
    return redirect("/admin/bank-statements", code=303)


def register(url_map, views):
    url_map.add(Rule("/admin/bank-statements", endpoint="bank_statements", methods=["GET"]))
    url_map.add(Rule("/admin/bank-statements", endpoint="bank_statement_upload", methods=["POST"]))
    url_map.add(
        Rule(
            "/admin/bank-statements/<int(max=999999999999999999):entry_id>/assign",
            endpoint="bank_entry_assign",
            methods=["POST"],
        )
    )
    views.update(
        {
            "bank_statements": bank_statements,
            "bank_statement_upload": bank_statement_upload,
            "bank_entry_assign": bank_entry_assign,
        }
    )
