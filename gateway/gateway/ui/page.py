"""One request to the staff UI (who asks, in which language) and how its pages are rendered."""

from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Response

from oms_common.problems import Forbidden, Problem
from oms_contracts.customers import customer_number

from ..auth import Principal, allowed
from .i18n import (
    LANGUAGES,
    date_pattern,
    format_date_input,
    format_money,
    format_when,
    shop_zone,
    translate_reason,
    translator,
)

environment = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    extensions=["jinja2.ext.do"],
)


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
    def actor(self) -> dict:
        # the listener put a trusted proxy's X-Forwarded-For here and dropped anyone else's
        address = self.request.remote_addr or "unknown"
        return {"name": self.user.username, "kind": "user", "role": self.user.role, "origin": f"web {address}"[:200]}

    def can(self, permission: str) -> bool:
        return bool(self.user) and allowed(self.user.role, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(self.t("You may not do this."))

    def render(self, template: str, status: int = 200, **values) -> Response:
        html = environment.get_template(template).render(
            t=self.t,
            page=self,
            user=self.user,
            customer_number=customer_number,
            can=self.can,
            languages=LANGUAGES,
            language=self.language,
            csrf=self.web_session.csrf_token if self.web_session else "",
            when=lambda v: format_when(v, self.language, self.zone),
            zone=self.zone.key,
            date_pattern=date_pattern(self.language),
            date_input=lambda v: format_date_input(v, self.language),
            reason=lambda text: translate_reason(text, self.t),
            money=lambda amount, currency: format_money(amount, currency, self.language),
            request=self.request,
            **values,
        )
        return secure_headers(Response(html, status=status, mimetype="text/html"))

    def render_form(self, template: str, error: Problem | None, **values) -> Response:
        """A page with a form: the refusal of what was sent (if any) shown beside it, answered with its status."""
        return self.render(template, status=error.status if error else 200, error=error, **values)


def _browser_language(request):
    best = request.accept_languages.best_match(list(LANGUAGES))
    return best or "en"


def secure_headers(response: Response) -> Response:
    """The headers of every page the UI renders itself (not of static files and downloads)."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def link(path: str, query: dict, changes: dict) -> str:
    """``path`` with ``query`` as changed by ``changes``; empty values are left out."""
    merged = {**query, **changes}
    merged = {k: v for k, v in merged.items() if v not in (None, "", [])}
    return path + ("?" + urlencode(merged, doseq=True) if merged else "")


def shown_refusal(problem: Problem, *passed_up: type) -> Problem:
    """A refusal the page shows beside its form; a 5xx (or one of ``passed_up``) goes on to the error page."""
    if problem.status >= 500 or isinstance(problem, passed_up):
        raise problem
    return problem
