"""Sign-in for the web UI: argon2 passwords, session cookies, CSRF tokens, lockout."""
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from oms_common.db import utcnow

from ..models import User, WebSession
from ..passwords import verify_password

COOKIE_NAME = "oms_session"
SESSION_LIFETIME = timedelta(hours=8)
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)


class SignInRefused(Exception):
    pass


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(value):
    from datetime import timezone

    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def sign_in(source, username, password):
    """Returns the new session's cookie token; refuses with a message fit to show."""
    with source.unit_of_work() as uow:
        session = uow.session
        user = session.execute(select(User).where(User.username == username).with_for_update()).scalar_one_or_none()
        now = utcnow()
        if user is None or not user.active:
            verify_password(None, password)  # same work either way
            raise SignInRefused("unknown_or_wrong")
        if user.locked_until and _aware(user.locked_until) > now:
            raise SignInRefused("locked")
        if not verify_password(user.password_hash, password):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILED_SIGN_INS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
            uow.commit()
            raise SignInRefused("unknown_or_wrong")
        user.failed_logins = 0
        user.locked_until = None
        token = secrets.token_urlsafe(32)
        session.add(WebSession(id=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                               created_at=now, expires_at=now + SESSION_LIFETIME))
        session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
        uow.commit()
        return token


def current_session(source, token):
    """(user, web_session) for a valid cookie, else None."""
    if not token or len(token) > 100:
        return None
    with source.read_session() as session:
        row = session.execute(
            select(WebSession, User).join(User, User.id == WebSession.user_id)
            .where(WebSession.id == _digest(token), User.active.is_(True))
        ).first()
    if row is None or _aware(row.WebSession.expires_at) < utcnow():
        return None
    return row.User, row.WebSession


def sign_out(source, token):
    with source.unit_of_work() as uow:
        uow.session.execute(delete(WebSession).where(WebSession.id == _digest(token)))
        uow.commit()


def csrf_ok(web_session, submitted):
    return bool(submitted) and hmac.compare_digest(web_session.csrf_token, submitted)
