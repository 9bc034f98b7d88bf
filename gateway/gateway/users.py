"""Users, roles and API tokens of the gateway (admins manage them in the web UI and the CLI)."""

import re

from sqlalchemy import select

from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ValidationFailed
from oms_contracts.values import LANGUAGES, ROLES

from .auth import hash_token, new_token
from .models import ApiToken, User
from .passwords import hash_password

USERNAME = re.compile(r"^[A-Za-z0-9._@-]{2,80}$")
MIN_PASSWORD = 10


class AccountProblem(ValidationFailed):
    pass


def _check(username=None, role=None, password=None):
    errors = {}
    if username is not None and not USERNAME.match(username):
        errors["username"] = ["2–80 letters, digits or . _ @ -"]
    if role is not None and role not in ROLES:
        errors["role"] = [f"One of: {', '.join(ROLES)}"]
    if password is not None and len(password) < MIN_PASSWORD:
        errors["password"] = [f"At least {MIN_PASSWORD} characters."]
    if errors:
        raise AccountProblem("Invalid input: " + ", ".join(sorted(errors)), errors)


def list_users(source):
    with source.read_session() as session:
        users = session.execute(select(User).order_by(User.username)).scalars().all()
        tokens = (
            session.execute(select(ApiToken).where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)).scalars().all()
        )
        by_user = {}
        for token in tokens:
            by_user.setdefault(token.user_id, []).append(
                {"id": token.id, "name": token.name, "created_at": token.created_at.isoformat()}
            )
        return [
            {
                "id": user.id,
                "username": user.username,
                "role": user.role,
                "active": user.active,
                "language": user.language,
                "has_password": bool(user.password_hash),
                "tokens": by_user.get(user.id, []),
            }
            for user in users
        ]


def create_user(source, username, role, password, language="en"):
    _check(username=username, role=role, password=password)
    with source.unit_of_work() as uow:
        if uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            raise Conflict(f"The user name '{username}' is taken.", {"username": ["Taken."]})
        user = User(
            username=username,
            role=role,
            password_hash=hash_password(password),
            active=True,
            language=language if language in LANGUAGES else "en",
            failed_logins=0,
            created_at=utcnow(),
        )
        uow.session.add(user)
        uow.commit()
        return user.id


def update_user(source, user_id, role=None, active=None, password=None, acting_user_id=None, keep_session=None):
    """Changes role, active flag and/or password. A new role or password (or deactivation) ends
    the user's web sessions at once (but ``keep_session``, the acting admin's own); API tokens
    need nothing, their role and state are read on every request."""
    from .throttle import unlock
    from .ui.sessions import end_sessions

    _check(role=role, password=password)
    with source.unit_of_work() as uow:
        user = uow.session.get(User, user_id)
        if user is None:
            raise NotFound("No such user.")
        if user_id == acting_user_id and (active is False or (role and role != "admin")):
            raise AccountProblem("You cannot demote or deactivate yourself.", {"role": ["Not for yourself."]})
        ends_sessions = bool(password) or bool(role and role != user.role) or (active is False and user.active)
        if role:
            user.role = role
        if active is not None:
            user.active = active
        if password:
            user.password_hash = hash_password(password)
        if ends_sessions:
            end_sessions(uow.session, user.id, keep=keep_session if user_id == acting_user_id else None)
        username = user.username
        uow.commit()
    if password:
        unlock(source, username)  # a new password starts without the old one's failures


def find_user_id(source, username):
    with source.read_session() as session:
        user_id = session.execute(select(User.id).where(User.username == username)).scalar_one_or_none()
    if user_id is None:
        raise NotFound(f"No user named '{username}'.")
    return user_id


def set_language(source, user_id, language):
    with source.unit_of_work() as uow:
        user = uow.session.get(User, user_id)
        user.language = language
        uow.commit()


def create_token(source, user_id, name):
    name = (name or "api").strip()[:80] or "api"
    token = new_token()
    with source.unit_of_work() as uow:
        if uow.session.get(User, user_id) is None:
            raise NotFound("No such user.")
        uow.session.add(ApiToken(user_id=user_id, name=name, token_hash=hash_token(token), created_at=utcnow()))
        uow.commit()
    return token


def revoke_token(source, token_id):
    with source.unit_of_work() as uow:
        token = uow.session.get(ApiToken, token_id)
        if token is not None and token.revoked_at is None:
            token.revoked_at = utcnow()
        uow.commit()
