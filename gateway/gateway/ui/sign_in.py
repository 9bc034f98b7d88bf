"""Signing in and out of the staff UI, and the signed-in user's language."""

import hmac
import re
import secrets
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .. import users as accounts
from . import sessions
from .i18n import LANGUAGES
from .page import Page

LOGIN_CSRF_COOKIE = "oms_login_csrf"
LOGIN_CSRF_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
SIGN_IN_REFUSED = "The sign-in failed: unknown user, wrong password, or too many attempts; try again in a moment."


def safe_target(value: str | None, default: str = "/admin/orders") -> str:
    """A redirect target inside the admin UI, or the default: never another site, never a broken header."""
    if (
        not value
        or len(value) > 2000
        or not value.startswith("/admin")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        return default
    return value


def _login_token(request):
    # no session yet: the sign-in form's token is tied to a cookie of its own (double submit)
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return token if LOGIN_CSRF_SHAPE.match(token) else secrets.token_urlsafe(24)


def _with_login_token(request, token, response):
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=request.is_secure, path="/admin/login"
    )
    return response


def signed_out(request: Request, calls, source) -> Response:
    """The answer to a request without a valid session: a posted form gets the sign-in form again
    (its work is not done), anything else is sent to sign in and back."""
    if request.method == "POST":
        page = Page(request, calls, source, None, None)
        token = _login_token(request)
        return _with_login_token(
            request,
            token,
            page.render(
                "login.html",
                status=401,
                error=page.t("Your session has expired; please sign in again."),
                login_csrf=token,
            ),
        )
    return redirect("/admin/login?" + urlencode({"next": request.full_path.rstrip("?")}))


def login(request: Request, source, settings: dict | None = None) -> Response:
    page = Page(request, None, source, None, None)
    target = safe_target(request.values.get("next"))
    form_token = _login_token(request)

    def answer(response):
        return _with_login_token(request, form_token, response)

    if request.method == "GET":
        return answer(page.render("login.html", next=target, login_csrf=form_token))
    submitted = request.form.get("csrf_token", "")
    if not (request.cookies.get(LOGIN_CSRF_COOKIE) and hmac.compare_digest(submitted, form_token)):
        return answer(
            page.render(
                "login.html",
                status=403,
                next=target,
                login_csrf=form_token,
                error=page.t("The form has expired; please try again."),
            )
        )
    try:
        token = sessions.sign_in(
            source,
            request.form.get("username", "")[:80],
            request.form.get("password", "")[:200],
            request.remote_addr,
            sessions.throttle.ThrottlePolicy.from_settings(settings),
        )
    except sessions.SignInRefused as refused:
        # one answer for every refusal; only a throttled attempt says when to retry
        response = page.render(
            "login.html",
            status=429 if refused.retry_after else 401,
            error=page.t(SIGN_IN_REFUSED),
            next=target,
            username=request.form.get("username", ""),
            login_csrf=form_token,
        )
        if refused.retry_after:
            response.headers["Retry-After"] = str(refused.retry_after)
        return answer(response)
    response = redirect(target, code=303)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin/login")
    secure = request.is_secure  # X-Forwarded-Proto counts only from a trusted proxy (the listener)
    response.set_cookie(
        sessions.COOKIE_NAME,
        token,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/admin",
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
    )
    return response


def logout(page: Page) -> Response:
    sessions.sign_out(page.source, page.request.cookies.get(sessions.COOKIE_NAME))
    response = redirect("/admin/login", code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/admin")
    return response


def set_language(page: Page) -> Response:
    language = page.request.form.get("language")
    if language in LANGUAGES:
        accounts.set_language(page.source, page.user.id, language)
    return redirect(safe_target(page.request.form.get("back")), code=303)
