"""Sign-in for the web UI: argon2 passwords, session cookies, CSRF tokens, throttling."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from oms_common.db import utcnow

from .. import throttle
from ..models import User, WebSession
from ..passwords import verify_password

COOKIE_NAME = "oms_session"
SESSION_LIFETIME = timedelta(hours=8)


class SignInRefused(Exception):
    """Every refusal is the same to the caller (no hint whether the user exists); only a
    throttled attempt carries ``retry_after`` (seconds)."""

    def __init__(self, retry_after=0):
        super().__init__("refused")
        self.retry_after = retry_after


def _digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign_in(source, username, password, address, policy=None):
    """Returns the new session's cookie token, or raises SignInRefused.

    The throttle keys of (address) and (address, user name) are locked for the attempt, so
    attempts racing on several replicas are counted one after the other.
    """
    policy = policy or throttle.ThrottlePolicy()
    with source.unit_of_work() as uow:
        session = uow.session
        now = utcnow()
        keys = throttle.lock_keys(session, address, username, now)
        wait = throttle.retry_after(keys, now)
        if wait:
            raise SignInRefused(retry_after=wait)
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        usable = user is not None and user.active and bool(user.password_hash)
        # the same argon2 work whether or not the user exists
        if not verify_password(user.password_hash if usable else None, password) or not usable:
            throttle.record_failure(keys, utcnow(), policy)  # delays count from the answer, after argon2
            uow.commit()
            raise SignInRefused()
        throttle.record_success(session, keys)
        token = secrets.token_urlsafe(32)
        session.add(
            WebSession(
                id=_digest(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(24),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
        uow.commit()
        return token


def end_sessions(session, user_id, keep=None):
    """Signs a user out of every browser (but ``keep``, the digest of the acting session)."""
    condition = WebSession.user_id == user_id
    if keep:
        condition = condition & (WebSession.id != keep)
    session.execute(delete(WebSession).where(condition))


def current_session(source, token):
    """(user, web_session) for a valid cookie, else None."""
    if not token or len(token) > 100:
        return None
    with source.read_session() as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.id == _digest(token), User.active.is_(True))
        ).first()
    if row is None or row.WebSession.expires_at < utcnow():
        return None
    return row.User, row.WebSession


def sign_out(source, token):
    with source.unit_of_work() as uow:
        uow.session.execute(delete(WebSession).where(WebSession.id == _digest(token)))
        uow.commit()


def csrf_ok(web_session, submitted):
    return bool(submitted) and hmac.compare_digest(web_session.csrf_token, submitted)
