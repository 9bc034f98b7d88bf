"""The article-order report: orders containing an article in a date range, on the page or as CSV."""

from werkzeug.wrappers import Response

from oms_common.problems import Problem

from ..routes.reports import report_csv
from .forms import typed_dates
from .page import Page, link, shown_refusal


def report(page: Page) -> Response:
    page.require("read")
    args = page.request.args
    query = {key: args[key] for key in ("article", "from", "to") if args.get(key)}
    result, error = None, None
    if query:
        try:
            # the typed dates (locale order) as the ISO dates the orders service takes
            result = page.calls("orders", "article_report", typed_dates(page, query, ("from", "to")))
        except Problem as problem:
            error = shown_refusal(problem)
    if result is not None and args.get("format") == "csv":
        return report_csv(result)
    return page.render_form(
        "report.html",
        error,
        query=query,
        result=result,
        csv_link=link("/admin/reports/article-orders", query, {"format": "csv"}),
    )
