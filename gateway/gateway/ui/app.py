"""Pages of the admin UI. Each view asks the services exactly as the API routes do, as the signed-in user."""
import hmac
import json
import mimetypes
import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import MethodNotAllowed, NotFound as WerkzeugNotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_common.problems import Forbidden, NotFound, Problem, ServiceUnavailable, ValidationFailed
from oms_common.web import problem_response
from oms_contracts.customers import customer_number

from .. import cancelling
from ..auth import ROLES, Principal, allowed
from ..compose import order_detail, with_latest_notes
from ..router import MethodNotAllowedProblem
from ..rpc import ServiceTimedOut
from . import order_list, sessions
from .i18n import (LANGUAGES, date_pattern, format_date_input, format_money, format_when, parse_date_input,
                   shop_zone, translate_reason, translator)

HERE = Path(__file__).parent
STATIC = HERE / "static"
PAGE_SIZES = (10, 25, 50, 100, 200)
LOGIN_CSRF_COOKIE = "oms_login_csrf"
LOGIN_CSRF_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")

environment = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                          autoescape=select_autoescape(default=True, default_for_string=True),
                          extensions=["jinja2.ext.do"])

url_map = Map([
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
], strict_slashes=False)


def _optional(value):
    value = (value or "").strip()
    return value or None


# action → (permission, service, method, body from form, carries the order's version)
ORDER_ACTIONS = {
    "ship": ("orders.process", "orders", "ship_order",
             lambda f: {"notify": "notify" in f, "tracking_number": _optional(f.get("tracking_number"))}, True),
    "cancel": ("orders.process", "orders", "cancel_order",
               lambda f: {"notify": "notify" in f, "reason": _optional(f.get("reason"))}, True),
    "status": ("orders.process", "orders", "change_status",
               lambda f: {"status": f.get("status", ""), "notify": "notify" in f,
                          "reason": _optional(f.get("reason"))}, True),
    "pause": ("orders.sessions", "orders", "pause_order", lambda f: {}, True),
    "assign": ("orders.sessions", "orders", "assign_order", lambda f: {"session_id": f.get("session_id", "")}, True),
    "invoice-number": ("orders.invoice_number", "orders", "set_external_invoice_number",
                       lambda f: {"invoice_number": f.get("invoice_number", ""),
                                  "reason": _optional(f.get("reason"))}, False),
}


class Page:
    """One request to the UI: who, in which language, and how to answer."""

    def __init__(self, request, calls, source, user, web_session, settings=None):
        self.request = request
        self.settings = settings or {}
        self.calls = calls
        self.source = source
        self.user = user
        self.web_session = web_session
        self.language = (user.language if user else None) or _browser_language(request)
        self.t = translator(self.language)
        self.principal = Principal(user.id, user.username, user.role) if user else None
        self.zone = shop_zone(self.settings)

    @property
    def actor(self):
        # the listener put a trusted proxy's X-Forwarded-For here and dropped anyone else's
        address = self.request.remote_addr or "unknown"
        return {"name": self.user.username, "kind": "user", "role": self.user.role, "origin": f"web {address}"[:200]}

    def can(self, permission):
        return bool(self.user) and allowed(self.user.role, permission)

    def require(self, permission):
        if not self.can(permission):
            raise Forbidden(self.t("You may not do this."))

    def render(self, template, status=200, **values):
        html = environment.get_template(template).render(
            t=self.t, page=self, user=self.user, customer_number=customer_number, can=self.can, languages=LANGUAGES,
            language=self.language,
            csrf=self.web_session.csrf_token if self.web_session else "",
            when=lambda v: format_when(v, self.language, self.zone), zone=self.zone.key,
            date_pattern=date_pattern(self.language),
            date_input=lambda v: format_date_input(v, self.language),
            reason=lambda text: translate_reason(text, self.t),
            money=lambda amount, currency: format_money(amount, currency, self.language),
            request=self.request, **values)
        response = Response(html, status=status, mimetype="text/html")
        _secure_headers(response)
        return response


def _browser_language(request):
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best or "en"


def _secure_headers(response):
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def handle(request, calls, source, settings=None):
    """Entry point from the gateway service for every /admin request."""
    adapter = url_map.bind("oms", path_info=request.path)
    try:
        endpoint, values = adapter.match(request.path, method=request.method)
    except WerkzeugNotFound:
        return problem_response(NotFound("No such page."))
    except MethodNotAllowed as error:
        return problem_response(MethodNotAllowedProblem(f"Use {', '.join(error.valid_methods)}.",
                                                        allowed=error.valid_methods))
    if endpoint == "static":
        return static(values["name"])
    if request.method == "POST" and not same_origin(request):
        return problem_response(Forbidden("A form from another site was refused.",
                                          {"Origin": ["Not this site's origin."]}))
    if endpoint == "login":
        return login(request, source, settings)
    found = sessions.current_session(source, request.cookies.get(sessions.COOKIE_NAME))
    if found is None:
        if request.method == "POST":
            page = Page(request, calls, source, None, None)
            token = _login_token(request)
            return _with_login_token(request, token, page.render(
                "login.html", status=401, error=page.t("Your session has expired; please sign in again."),
                login_csrf=token))
        return redirect("/admin/login?" + urlencode({"next": request.full_path.rstrip("?")}))
    user, web_session = found
    page = Page(request, calls, source, user, web_session, settings)
    if request.method == "POST" and not sessions.csrf_ok(web_session, request.form.get("csrf_token")):
        return page.render("error.html", status=403, message=page.t("The form has expired; please try again."))
    try:
        return VIEWS[endpoint](page, **values)
    except Problem as problem:
        return page.render("error.html", status=problem.status, message=_problem_text(page, problem),
                           problem=problem)


def _problem_text(page, problem):
    if isinstance(problem, ServiceTimedOut) and page.request.method == "POST":
        # asked to change something and got no answer: it may have happened all the same
        return page.t("The service did not answer in time; the change may have been applied all the same. "
                      "Check the order's history before trying again.")
    if isinstance(problem, ServiceUnavailable):
        return page.t("A service is not available right now; please try again shortly.")
    if isinstance(problem, NotFound):
        return page.t("Not found.")
    return problem.detail


def same_origin(request):
    """State-changing posts only from our own pages: a foreign Origin (or a cross-site fetch) is refused.

    Browsers send Origin on every POST; a client that sends none (curl, scripts) is judged by the
    CSRF token alone."""
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return False
    if origin is None:
        return True
    return origin == f"{request.scheme}://{request.host}"


def safe_target(value, default="/admin/orders"):
    """A redirect target inside the admin UI, or the default: never another site, never a broken header."""
    if (not value or len(value) > 2000 or not value.startswith("/admin") or value.startswith("//")
            or "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7f for c in value)):
        return default
    return value


STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def static(name):
    if not STATIC_NAME.match(name) or not (STATIC / name).is_file():
        return problem_response(NotFound("No such file.", {"name": ["No such static file."]}))
    path = STATIC / name
    response = Response(path.read_bytes(), mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream")
    response.headers["Cache-Control"] = "max-age=3600"
    return response


def _login_token(request):
    # no session yet: the sign-in form's token is tied to a cookie of its own (double submit)
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return token if LOGIN_CSRF_SHAPE.match(token) else secrets.token_urlsafe(24)


def _with_login_token(request, token, response):
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure,
                        path="/admin/login")
    return response


SIGN_IN_REFUSED = "The sign-in failed: unknown user, wrong password, or too many attempts; try again in a moment."


def login(request, source, settings=None):
    page = Page(request, None, source, None, None)
    target = safe_target(request.values.get("next"))
    form_token = _login_token(request)

    def answer(response):
        return _with_login_token(request, form_token, response)

    if request.method == "GET":
        return answer(page.render("login.html", next=target, login_csrf=form_token))
    submitted = request.form.get("csrf_token", "")
    if not (request.cookies.get(LOGIN_CSRF_COOKIE) and hmac.compare_digest(submitted, form_token)):
        return answer(page.render("login.html", status=403, next=target, login_csrf=form_token,
                                  error=page.t("The form has expired; please try again.")))
    try:
        token = sessions.sign_in(source, request.form.get("username", "")[:80], request.form.get("password", "")[:200],
                                 request.remote_addr, sessions.throttle.ThrottlePolicy.from_settings(settings))
    except sessions.SignInRefused as refused:
        # one answer for every refusal; only a throttled attempt says when to retry
        response = page.render("login.html", status=429 if refused.retry_after else 401,
                               error=page.t(SIGN_IN_REFUSED), next=target, username=request.form.get("username", ""),
                               login_csrf=form_token)
        if refused.retry_after:
            response.headers["Retry-After"] = str(refused.retry_after)
        return answer(response)
    response = redirect(target, code=303)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin/login")
    secure = request.is_secure  # X-Forwarded-Proto counts only from a trusted proxy (the listener)
    response.set_cookie(sessions.COOKIE_NAME, token, httponly=True, samesite="Strict", secure=secure, path="/admin",
                        max_age=int(sessions.SESSION_LIFETIME.total_seconds()))
    return response


def logout(page):
    sessions.sign_out(page.source, page.request.cookies.get(sessions.COOKIE_NAME))
    response = redirect("/admin/login", code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/admin")
    return response


def set_language(page):
    from ..users import set_language as store

    language = page.request.form.get("language")
    if language in LANGUAGES:
        store(page.source, page.user.id, language)
    return redirect(safe_target(page.request.form.get("back")), code=303)


def home(page):
    return redirect("/admin/orders")


# ---------------------------------------------------------------- orders

def _list_query(args):
    return order_list.list_query(args)


def _service_query(page, query):
    return order_list.service_query(page, query)


def _list_link(page, query):
    """Links of the list keep its filters and the chosen columns."""
    columns = order_list.columns_of(page.request.args)
    kept = {**query, "columns": ",".join(columns) if columns != order_list.DEFAULT_COLUMNS else None,
            "view": page.request.args.get("view")}
    return lambda **changes: _link("/admin/orders", kept, changes)


def orders(page, view_error=None, export_refused=None):
    page.require("read")
    opened_with_default = views.opening(page)
    if opened_with_default is not None and view_error is None and export_refused is None:
        return opened_with_default
    query = _list_query(page.request.args)
    query.setdefault("page_size", "25")
    error = None
    try:
        result = with_latest_notes(page.calls, page.calls("orders", "list_orders", _service_query(page, query)))
    except Problem as problem:
        if problem.status >= 500:
            raise
        error = problem
        result = {"items": [], "page": 1, "page_size": 25, "total": 0, "pages": 1}
    link = _list_link(page, query)
    return page.render("orders.html", status=view_error.status if view_error else 200, result=result, query=query,
                       error=error, page_sizes=PAGE_SIZES, link=link, bulk_results=None, view_error=view_error,
                       export_refused=export_refused, **list_export.template_values(page, query),
                       **order_list.template_values(page, query, link), **views.template_values(page))


def _link(path, query, changes):
    merged = {**query, **{k: v for k, v in changes.items()}}
    merged = {k: v for k, v in merged.items() if v not in (None, "", [])}
    return path + ("?" + urlencode(merged, doseq=True) if merged else "")


def bulk(page):
    page.require("orders.process")
    form = page.request.form
    references = form.getlist("references")
    body = {"references": references, "status": form.get("status", ""), "notify": "notify" in form,
            "reason": _optional(form.get("reason"))}
    query = _list_query(page.request.args)
    try:
        if cancelling.cancels(body):
            cancelling.check_cancel(page.can, page.calls, cancelling.bulk_references(body))
        outcome = page.calls("orders", "bulk_change_status", body, page.actor)
        error = None
    except Problem as problem:
        if problem.status >= 500:
            raise
        outcome, error = None, problem
    try:
        result = with_latest_notes(page.calls, page.calls("orders", "list_orders", {
            **_service_query(page, query), "page_size": query.get("page_size", "25")}))
    except ValidationFailed:
        result = {"items": [], "page": 1, "page_size": 25, "total": 0, "pages": 1}
    link = _list_link(page, query)
    return page.render("orders.html", status=200 if error is None else error.status, result=result, query=query,
                       error=error, page_sizes=PAGE_SIZES, link=link, bulk_results=outcome,
                       **list_export.template_values(page, query),
                       **order_list.template_values(page, query, link), **views.template_values(page))


def order(page, reference, errors=None, status=200, done=None):
    page.require("read")
    detail = order_detail(page.calls, reference, with_history=True)
    targets = list(detail["allowed_transitions"])
    # cancelling refunds captured money: offered only to who may refund, or when nothing was captured
    cancel_needs_refund = ("cancelled" in targets and not page.can(cancelling.REFUND_PERMISSION)
                           and cancelling.holds_captured_money(detail["payment"]))
    if cancel_needs_refund:
        targets.remove("cancelled")
    owner = None
    if page.can("orders.customer"):
        try:  # the order count of today's customer, for the reassign confirmation
            owner = page.calls("orders", "get_customer", detail["customer"]["id"])
        except Problem as problem:
            if problem.status < 500 and not isinstance(problem, NotFound):
                raise
    done = done or page.request.args.get("done")
    return page.render("order.html", status=status, order=detail, history=detail["history"],
                       notes=notes.notes_for(page, reference),
                       payment=detail["payment"], mails=detail["emails"],
                       unavailable=detail["unavailable"], targets=targets, errors=errors or {},
                       cancel_needs_refund=cancel_needs_refund, owner=owner,
                       done=done, done_text=_done_text(page, done, detail, page.request.args.get("mailed") == "1"))


def _done_text(page, action, order, mailed):
    """What the action just did, to that order and whom it mailed (read back from the order itself)."""
    t, reference, email = page.t, order["reference"], order["customer"]["email"]
    payment = order.get("payment") or {}
    if action == "ship":
        return t("Order {reference} shipped; shipping e-mail queued to {email}." if mailed
                 else "Order {reference} shipped.", reference=reference, email=email)
    if action == "cancel":
        return t("Order {reference} cancelled; cancellation e-mail queued to {email}." if mailed
                 else "Order {reference} cancelled.", reference=reference, email=email)
    if action == "status":
        return t("Order {reference} is now “{status}”; e-mail queued to {email}." if mailed
                 else "Order {reference} is now “{status}”.", reference=reference, status=t(order["status"]),
                 email=email)
    if action == "pause":
        return t("Order {reference} paused.", reference=reference)
    if action == "assign":
        return t("Order {reference} assigned to session {session}.", reference=reference,
                 session=order.get("session_id") or "—")
    if action == "customer":
        return t("Order {reference} now belongs to {name} ({number}).", reference=reference,
                 name=order["customer"].get("name", ""), number=customer_number(order["customer"]["id"]))
    if action in ("note", "note-edited"):
        return t("Note added to order {reference}." if action == "note" else "Note on order {reference} saved.",
                 reference=reference)
    if action == "invoice-number":
        return t("Invoice number of order {reference} set to {number}.", reference=reference,
                 number=order.get("invoice_number") or "—")
    if action == "payment-status":
        return t("Payment status of order {reference} is now “{status}”.", reference=reference,
                 status=t(order["payment_status"]))
    if action == "dunning":
        return t("Order {reference} is at reminder level {level}; reminder e-mail queued to {email}." if mailed
                 else "Order {reference} is at reminder level {level}.", reference=reference,
                 level=payment.get("dunning_level") or "—", email=email)
    if action in ("complete", "refund"):
        return t("Payment status of order {reference} is now “{status}”." if action == "complete"
                 else "Refund of order {reference} requested; payment status “{status}”.",
                 reference=reference, status=t(order["payment_status"]))
    return None


def order_action(page, reference, action):
    from .extra_actions import EXTRA_ORDER_ACTIONS

    spec = ORDER_ACTIONS.get(action) or EXTRA_ORDER_ACTIONS.get(action)
    if spec is None:
        raise NotFound("Unknown action.")
    permission, service, method, build, versioned = spec
    page.require(permission)
    form = page.request.form
    body = build(form)
    if action == "cancel" or (action == "status" and cancelling.cancels(body)):
        cancelling.check_cancel(page.can, page.calls, [reference])
    if versioned and form.get("version", "").isdigit():
        body["version"] = int(form["version"])
    try:
        page.calls(service, method, reference, body, page.actor)
    except Problem as problem:
        if problem.status >= 500 or isinstance(problem, NotFound):
            raise
        return order(page, reference, errors={action: problem}, status=problem.status)
    mailed = "&mailed=1" if body.get("notify") else ""
    return redirect(f"/admin/orders/{reference}?done={action}{mailed}", code=303)


# ---------------------------------------------------------------- customers

def customers(page):
    page.require("read")
    query = {key: page.request.args[key] for key in ("q", "page", "page_size") if page.request.args.get(key)}
    result = page.calls("orders", "list_customers", query)
    return page.render("customers.html", result=result, query=query,
                       link=lambda **changes: _link("/admin/customers", query, changes))


PICK_LIMIT = 8


def customer_pick(page):
    """Customers matching what staff type (name, e-mail, number), with their order counts, as JSON."""
    page.require("read")
    q = page.request.args.get("q", "").strip()[:100]
    items = []
    if len(q) >= 2:
        found = page.calls("orders", "list_customers", {"q": q, "page_size": PICK_LIMIT})["items"]
        for item in found:
            counted = page.calls("orders", "get_customer", item["id"])
            items.append({"id": item["id"], "customer_number": item["customer_number"],
                          "name": f"{item['first_name']} {item['last_name']}".strip(), "email": item["email"],
                          "order_count": counted.get("order_count", 0),
                          "label": page.t("{count} orders", count=counted.get("order_count", 0))})
    response = Response(json.dumps({"items": items}), mimetype="application/json")
    _secure_headers(response)
    return response


def customer(page, customer_id, error=None, status=200):
    page.require("read")
    query = _list_query(page.request.args)
    detail = page.calls("orders", "get_customer", customer_id)
    history = page.calls("orders", "customer_orders", customer_id, query)
    merged = page.request.args.get("merged")
    done_text = (page.t("Customer {merged} merged into {number}.", merged=merged, number=detail["customer_number"])
                 if merged and re.fullmatch(r"C\d{1,12}", merged) else None)
    return page.render("customer.html", status=status, customer=detail, result=history, error=error,
                       done_text=done_text,
                       link=lambda **changes: _link(f"/admin/customers/{customer_id}", query, changes))


def merge(page, customer_id):
    page.require("orders.customer")
    into = page.request.form.get("into", "")
    try:
        # the id or the customer number as the UI shows it (C000009); orders reads both
        merged = page.calls("orders", "merge_customers", customer_id,
                            {"into": int(into) if into.isdigit() else into}, page.actor)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return customer(page, customer_id, error=problem, status=problem.status)
    number = customer_number(merged["customer_id"])
    return redirect(f"/admin/customers/{merged['into']}?" + urlencode({"merged": number}), code=303)


# ---------------------------------------------------------------- report, exports, settings, users

def report(page):
    page.require("read")
    args = page.request.args
    query = {key: args[key] for key in ("article", "from", "to") if args.get(key)}
    result, error = None, None
    if query:
        try:
            result = page.calls("orders", "article_report", _report_dates(page, query))
        except Problem as problem:
            if problem.status >= 500:
                raise
            error = problem
    if result is not None and args.get("format") == "csv":
        from ..routes.reports import report_csv

        return report_csv(result)
    return page.render("report.html", status=error.status if error else 200, query=query, result=result, error=error,
                       csv_link=_link("/admin/reports/article-orders", query, {"format": "csv"}))


def _report_dates(page, query):
    """The report's typed dates (locale order) as the ISO dates the orders service takes."""
    asked, errors = dict(query), {}
    for key in ("from", "to"):
        if key in asked:
            day = parse_date_input(asked[key], page.language)
            if day is None:
                errors[key] = [page.t("Enter the date as {pattern}.", pattern=date_pattern(page.language))]
            else:
                asked[key] = day
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    return asked


def exports(page, error=None, status=200):
    page.require("exports.read")
    unavailable = []
    jobs = runs = None
    try:
        jobs = page.calls("exports", "list_jobs")
        runs = page.calls("exports", "list_runs", {})["items"]
    except Problem:
        unavailable.append("exports")
    return page.render("exports.html", status=status, jobs=jobs, runs=runs, unavailable=unavailable, error=error)


def export_job_create(page):
    page.require("exports.manage")
    form = page.request.form
    body = {"name": form.get("name", ""), "cron": form.get("cron", ""), "kind": form.get("kind", ""),
            "format": form.get("format", ""), "target": form.get("target", ""), "incremental": "incremental" in form}
    try:
        page.calls("exports", "create_job", body, page.actor)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return exports(page, error=problem, status=problem.status)
    return redirect("/admin/exports", code=303)


def export_job_action(page, job_id, action):
    page.require("exports.manage")
    method = {"delete": "delete_job", "run": "run_job_now"}.get(action)
    if method is None:
        raise NotFound("Unknown action.")
    page.calls("exports", method, job_id, page.actor)
    return redirect("/admin/exports", code=303)


def export_download(page, name):
    from ..routes.exports import DOWNLOADS, stream_download

    page.require("exports.read")
    if name not in DOWNLOADS:
        raise NotFound("No such export.")
    return stream_download(page.settings, name, page.request.query_string.decode("ascii", "replace"))


def numbering(page):
    page.require("settings.read")
    error, done = None, False
    if page.request.method == "POST":
        page.require("settings.write")
        form = page.request.form
        body = {"invoice_prefix": form.get("invoice_prefix", ""),
                "invoice_numbers_enabled": "invoice_numbers_enabled" in form}
        for key in ("order_reference_start", "invoice_number_start"):
            value = form.get(key, "").strip()
            body[key] = int(value) if value.isdigit() else value
        try:
            page.calls("orders", "update_numbering", body, page.actor)
            done = True
        except Problem as problem:
            if problem.status >= 500:
                raise
            error = problem
    state = page.calls("orders", "get_numbering")
    done_text = page.t("Numbering saved: next reference {reference}, next invoice number {number}.",
                       reference=state.get("next_order_reference"), number=state.get("next_invoice_number")) \
        if done else None
    return page.render("numbering.html", status=error.status if error else 200, state=state, error=error, done=done,
                       done_text=done_text)


def users(page, created_token=None, error=None):
    from .. import users as accounts

    page.require("users.manage")
    done_text = None
    if page.request.method == "POST" and created_token is None and error is None:
        form = page.request.form
        try:
            accounts.create_user(page.source, form.get("username", ""), form.get("role", ""),
                                 form.get("password", ""), form.get("language", "en"))
            done_text = page.t("User {name} created with role “{role}”.", name=form.get("username", ""),
                               role=page.t(form.get("role", "")))
        except accounts.AccountProblem as problem:
            error = problem
    return page.render("users.html", status=error.status if error else 200, users=accounts.list_users(page.source),
                       roles=ROLES, least_role=ROLES[-1], created_token=created_token, error=error,
                       done_text=done_text)


def user_update(page, user_id):
    from .. import users as accounts

    page.require("users.manage")
    form = page.request.form
    try:
        accounts.update_user(page.source, user_id, role=form.get("role"), active="active" in form,
                             password=form.get("password") or None, acting_user_id=page.user.id,
                             keep_session=page.web_session.id)
    except accounts.AccountProblem as problem:
        return users(page, error=problem)
    return redirect("/admin/users", code=303)


def token_create(page, user_id):
    from .. import users as accounts

    page.require("users.manage")
    try:
        token = accounts.create_token(page.source, user_id, page.request.form.get("name", "api"))
    except accounts.AccountProblem as problem:
        return users(page, error=problem)
    return users(page, created_token=token)


def token_revoke(page, token_id):
    from .. import users as accounts

    page.require("users.manage")
    accounts.revoke_token(page.source, token_id)
    return redirect("/admin/users", code=303)


VIEWS = {
    "home": home, "logout": logout, "language": set_language, "orders": orders, "bulk": bulk, "order": order,
    "order_action": order_action, "customers": customers, "customer": customer, "customer_pick": customer_pick, "merge": merge,
    "report": report, "exports": exports, "export_download": export_download,
    "export_job_create": export_job_create, "export_job_action": export_job_action, "numbering": numbering,
    "users": users, "user_update": user_update,
    "token_create": token_create, "token_revoke": token_revoke,
}

from . import outbox  # noqa: E402 - the local outbox of `make run` (tools/mail_catcher.py)
from . import notes  # noqa: E402 - internal notes on the order detail
from . import views  # noqa: E402 - saved views of the order list
from . import list_export  # noqa: E402 - export of the listed or ticked orders
from . import documents  # noqa: E402 - the documents service's pages (order documents, shop profile)
from . import bank_statements  # noqa: E402,F401 - registers the bank-statement pages on url_map

outbox.register(url_map, VIEWS, environment)
notes.register(url_map, VIEWS)
views.register(url_map, VIEWS)
list_export.register(url_map, VIEWS)
documents.register(url_map, VIEWS, environment)
