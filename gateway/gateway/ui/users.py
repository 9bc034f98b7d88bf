"""Users and their API tokens, for admins (the accounts themselves are ``gateway.users``)."""

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_common.problems import Problem
from oms_contracts.values import ROLES

from .. import users as accounts
from .page import Page


def users(page: Page, created_token: str | None = None, error: Problem | None = None) -> Response:
    page.require("users.manage")
    done_text = None
    if page.request.method == "POST" and created_token is None and error is None:
        form = page.request.form
        try:
            accounts.create_user(
                page.source,
                form.get("username", ""),
                form.get("role", ""),
                form.get("password", ""),
                form.get("language", "en"),
            )
            done_text = page.t(
                "User {name} created with role “{role}”.",
                name=form.get("username", ""),
                role=page.t(form.get("role", "")),
            )
        except accounts.AccountProblem as problem:
            error = problem
    return page.render_form(
        "users.html",
        error,
        users=accounts.list_users(page.source),
        roles=ROLES,
        least_role=ROLES[-1],
        created_token=created_token,
        done_text=done_text,
    )


def user_update(page: Page, user_id: int) -> Response:
    page.require("users.manage")
    form = page.request.form
    try:
        accounts.update_user(
            page.source,
            user_id,
            role=form.get("role"),
            active="active" in form,
            password=form.get("password") or None,
            acting_user_id=page.user.id,
            keep_session=page.web_session.id,
        )
    except accounts.AccountProblem as problem:
        return users(page, error=problem)
    return redirect("/admin/users", code=303)


def token_create(page: Page, user_id: int) -> Response:
    page.require("users.manage")
    try:
        token = accounts.create_token(page.source, user_id, page.request.form.get("name", "api"))
    except accounts.AccountProblem as problem:
        return users(page, error=problem)
    return users(page, created_token=token)


def token_revoke(page: Page, token_id: int) -> Response:
    page.require("users.manage")
    accounts.revoke_token(page.source, token_id)
    return redirect("/admin/users", code=303)
