"""Reports of api.md: the article-order report (S12), as JSON or CSV."""

import csv
import io

from werkzeug.wrappers import Response

from oms_contracts import orders as wire

from ..router import router

TAGS = ["reports"]
CSV_COLUMNS = ("reference", "date", "customer", "article_number", "name", "quantity", "line_total", "currency")


def report_csv(report):
    """The report as spreadsheet users expect it: UTF-8 with BOM, ';' between fields, totals at the end."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in report["items"]:
        writer.writerow(
            [
                _cell(item["reference"]),
                item["date"],
                _cell(item["customer"]["name"]),
                _cell(item["article_number"]),
                _cell(item["name"]),
                item["quantity"],
                item["line_total"],
                item["currency"],
            ]
        )
    totals = report["totals"]
    for currency, revenue in totals["revenue"].items():
        writer.writerow(["total", "", "", "", "", totals["quantity"], revenue, currency])
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="article-orders.csv"'
    return response


def _cell(value):
    """Text a spreadsheet would run as a formula is written as plain text."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.route(
    "GET",
    "/api/v1/reports/article-orders",
    "read",
    "Orders containing an article number (or part of it) in a date range, with totals",
    TAGS,
    query=wire.ArticleReportSchema,
    parameters=[
        {"in": "query", "name": "format", "required": False, "schema": {"type": "string", "enum": ["json", "csv"]}}
    ],
)
def article_orders(ctx):
    query = ctx.query(drop=("format",))
    report = ctx.call("orders", "article_report", query)
    if ctx.request.args.get("format") == "csv":
        return report_csv(report)
    return report
