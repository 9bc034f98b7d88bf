"""The staff UI's front door: its URL map, and ``handle``, which the gateway service calls for every
/admin request (static files, sign-in, the session and CSRF checks, then the page's view). Each view
asks the services exactly as the API routes do, as the signed-in user."""

import mimetypes
import re
from pathlib import Path

from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from oms_common.problems import Forbidden, NotFound, Problem, ServiceUnavailable
from oms_common.web import problem_response

from ..router import MethodNotAllowedProblem
from ..rpc import ServiceTimedOut
from . import (
    bank_statements,
    customers,
    documents,
    exports,
    list_documents,
    list_export,
    notes,
    order_actions,
    order_page,
    orders,
    outbox,
    reports,
    sessions,
    settings,
    sign_in,
    users,
    views,
)
from .page import Page, environment

STATIC = Path(__file__).parent / "static"
STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

url_map = Map(
    [
        Rule("/admin", endpoint="home"),
        Rule("/admin/", endpoint="home"),
        Rule("/admin/login", endpoint="login", methods=["GET", "POST"]),
        Rule("/admin/logout", endpoint="logout", methods=["POST"]),
        Rule("/admin/language", endpoint="language", methods=["POST"]),
        Rule("/admin/static/<name>", endpoint="static"),
        Rule("/admin/orders", endpoint="orders"),
        Rule("/admin/orders/bulk", endpoint="bulk", methods=["POST"]),
        Rule("/admin/orders/<reference>", endpoint="order"),
        Rule("/admin/orders/<reference>/<action>", endpoint="order_action", methods=["POST"]),
        Rule("/admin/customers", endpoint="customers"),
        Rule("/admin/customers/pick", endpoint="customer_pick"),
        Rule("/admin/customers/<int:customer_id>", endpoint="customer"),
        Rule("/admin/customers/<int:customer_id>/merge", endpoint="merge", methods=["POST"]),
        Rule("/admin/reports/article-orders", endpoint="report"),
        Rule("/admin/exports", endpoint="exports"),
        Rule("/admin/exports/download/<name>", endpoint="export_download"),
        Rule("/admin/exports/jobs", endpoint="export_job_create", methods=["POST"]),
        Rule("/admin/exports/jobs/<int:job_id>/<action>", endpoint="export_job_action", methods=["POST"]),
        Rule("/admin/settings/numbering", endpoint="numbering", methods=["GET", "POST"]),
        Rule("/admin/users", endpoint="users", methods=["GET", "POST"]),
        Rule("/admin/users/<int:user_id>", endpoint="user_update", methods=["POST"]),
        Rule("/admin/users/<int:user_id>/tokens", endpoint="token_create", methods=["POST"]),
        Rule("/admin/tokens/<int:token_id>/revoke", endpoint="token_revoke", methods=["POST"]),
    ],
    strict_slashes=False,
)


def home(page: Page) -> Response:
    return redirect("/admin/orders")


VIEWS = {
    "home": home,
    "logout": sign_in.logout,
    "language": sign_in.set_language,
    "orders": orders.orders,
    "bulk": orders.bulk,
    "order": order_page.order,
    "order_action": order_actions.order_action,
    "customers": customers.customers,
    "customer": customers.customer,
    "customer_pick": customers.customer_pick,
    "merge": customers.merge,
    "report": reports.report,
    "exports": exports.exports,
    "export_download": exports.export_download,
    "export_job_create": exports.export_job_create,
    "export_job_action": exports.export_job_action,
    "numbering": settings.numbering,
    "users": users.users,
    "user_update": users.user_update,
    "token_create": users.token_create,
    "token_revoke": users.token_revoke,
}
outbox.register(url_map, VIEWS, environment)  # the local outbox of `make run` (tools/mail_catcher.py)
notes.register(url_map, VIEWS)
views.register(url_map, VIEWS)
list_export.register(url_map, VIEWS)
list_documents.register(url_map, VIEWS)
documents.register(url_map, VIEWS, environment)
bank_statements.register(url_map, VIEWS)


def handle(request: Request, calls, source, settings: dict | None = None) -> Response:
    """Entry point from the gateway service for every /admin request."""
    adapter = url_map.bind("oms", path_info=request.path)
    try:
        endpoint, values = adapter.match(request.path, method=request.method)
    except WerkzeugNotFound:
        return problem_response(NotFound("No such page."))
    except MethodNotAllowed as error:
        return problem_response(
            MethodNotAllowedProblem(f"Use {', '.join(error.valid_methods)}.", allowed=error.valid_methods)
        )
    if endpoint == "static":
        return static(values["name"])
    if request.method == "POST" and not same_origin(request):
        return problem_response(
            Forbidden("A form from another site was refused.", {"Origin": ["Not this site's origin."]})
        )
    if endpoint == "login":
        return sign_in.login(request, source, settings)
    found = sessions.current_session(source, request.cookies.get(sessions.COOKIE_NAME))
    if found is None:
        return sign_in.signed_out(request, calls, source)
    user, web_session = found
    page = Page(request, calls, source, user, web_session, settings)
    if request.method == "POST" and not sessions.csrf_ok(web_session, request.form.get("csrf_token")):
        return page.render("error.html", status=403, message=page.t("The form has expired; please try again."))
    try:
        return VIEWS[endpoint](page, **values)
    except Problem as problem:
        return page.render("error.html", status=problem.status, message=_problem_text(page, problem), problem=problem)


def _problem_text(page, problem):
    if isinstance(problem, ServiceTimedOut) and page.request.method == "POST":
        # asked to change something and got no answer: it may have happened all the same
        return page.t(
            "The service did not answer in time; the change may have been applied all the same. "
            "Check the order's history before trying again."
        )
    if isinstance(problem, ServiceUnavailable):
        return page.t("A service is not available right now; please try again shortly.")
    if isinstance(problem, NotFound):
        return page.t("Not found.")
    return problem.detail


def same_origin(request: Request) -> bool:
    """State-changing posts only from our own pages: a foreign Origin (or a cross-site fetch) is refused.

    Browsers send Origin on every POST; a client that sends none (curl, scripts) is judged by the
    CSRF token alone."""
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    if origin is None:
        return True
    return origin == f"{request.scheme}://{request.host}"


def static(name: str) -> Response:
    if not STATIC_NAME.match(name) or not (STATIC / name).is_file():
        return problem_response(NotFound("No such file.", {"name": ["No such static file."]}))
    path = STATIC / name
    response = Response(path.read_bytes(), mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream")
    response.headers["Cache-Control"] = "max-age=3600"
    return response
