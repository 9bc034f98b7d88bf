"""Bearer-token authentication and the role rules of api.md."""

import hashlib
import hmac
import logging
import secrets

from nameko.extensions import DependencyProvider
from sqlalchemy import bindparam, select

from oms_common.db import utcnow
from oms_common.problems import Forbidden, Unauthorized
from oms_common.settings import setting

from .models import ApiToken, User

log = logging.getLogger(__name__)

# permission → roles holding it. admin holds every permission.
PERMISSIONS = {
    "read": {"agent", "accountant", "readonly"},
    "orders.create": {"agent"},
    "orders.process": {"agent"},  # ship, status, cancel, bulk status
    "orders.sessions": {"agent"},  # open orders: lines, submit, pause, assign
    "orders.customer": {"agent"},  # reassign order, merge customers
    "orders.notes": {"agent"},  # write internal notes (every reader reads them)
    "orders.invoice_number": {"accountant"},
    "payments.manage": {"accountant"},  # payment status, dunning, manual completion
    "payments.refund": {"accountant"},
    "exports.read": {"accountant"},
    "exports.manage": {"accountant"},
    "imports": set(),
    "settings.read": {"agent", "accountant", "readonly"},
    "settings.write": set(),
    "users.manage": set(),
}


def allowed(role, permission):
    return role == "admin" or role in PERMISSIONS.get(permission, set())


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token():
    return "oms_" + secrets.token_urlsafe(32)


def bearer_token(authorization):
    """The token of an ``Authorization: Bearer <token>`` header; the scheme is case-insensitive (RFC 9110)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("Send 'Authorization: Bearer <token>'.")
    return token.strip()


class Principal:
    def __init__(self, user_id, username, role):
        self.user_id = user_id
        self.username = username
        self.role = role

    def require(self, permission):
        if not allowed(self.role, permission):
            raise Forbidden(f"The role '{self.role}' may not do this ({permission}).")


class TokenVerifier:
    """Resolves bearer tokens with one lookup per request (unique index on the token's hash,
    then the user's primary key). Nothing is cached: a revoked token, a deactivated user or a
    changed role counts from the next request on, on every replica."""

    def __init__(self, source):
        self.source = source

    def verify(self, authorization):
        token = bearer_token(authorization)
        if not token or len(token) > 200:
            raise Unauthorized("The bearer token is not valid.")
        digest = hash_token(token)
        return self._lookup(digest)

    # columns, not ORM objects, on a plain connection: this runs on every API request
    _query = (
        select(ApiToken.token_hash, User.id, User.username, User.role)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None), User.active.is_(True))
    )

    def _lookup(self, digest):
        with self.source.engine.connect() as connection:
            row = connection.execute(self._query, {"digest": digest}).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            raise Unauthorized("The bearer token is not valid.")
        return Principal(row.id, row.username, row.role)


def ensure_bootstrap_admin(source, token, password=None, password_hasher=None):
    """Creates the user ``admin`` with the configured token (and password) once: when no user of
    that name exists. Later starts change nothing, so what an admin did since (a revoked token,
    a new password, a demotion) stays; access is recovered with ``oms users ...`` instead.

    Replicas starting together race to create the user: the loser's insert fails on the
    unique user name, and its second attempt finds the winner's row and leaves it alone.
    Returns True when this call created the user.
    """
    from sqlalchemy.exc import IntegrityError

    try:
        return _ensure_bootstrap_admin(source, token, password, password_hasher)
    except IntegrityError:
        return _ensure_bootstrap_admin(source, token, password, password_hasher)


def _ensure_bootstrap_admin(source, token, password, password_hasher):
    digest = hash_token(token)
    with source.unit_of_work() as uow:
        session = uow.session
        user = session.execute(select(User).where(User.username == "admin")).scalar_one_or_none()
        if user is not None:
            live = session.execute(
                select(ApiToken.id).where(
                    ApiToken.token_hash == digest, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
                )
            ).first()
            if live is None or not user.active or user.role != "admin":
                log.warning(
                    "the user 'admin' exists and is left as it is (token configured: %s, active: %s, "
                    "role: %s); recover access with `oms users ...`, see the README",
                    "live" if live else "not live",
                    user.active,
                    user.role,
                )
            return False
        user = User(
            username="admin",
            role="admin",
            active=True,
            created_at=utcnow(),
            failed_logins=0,
            language="en",
            password_hash=password_hasher(password) if password and password_hasher else None,
        )
        session.add(user)
        session.flush()
        session.add(ApiToken(user_id=user.id, name="bootstrap", token_hash=digest, created_at=utcnow()))
        uow.commit()
        return True


def create_user_with_token(source, username, role, token_name="api"):
    """Used by tests and the operator CLI; returns the new token (shown once)."""
    token = new_token()
    with source.unit_of_work() as uow:
        user = uow.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            user = User(username=username, role=role, active=True, created_at=utcnow(), failed_logins=0, language="en")
            uow.session.add(user)
            uow.session.flush()
        user.role = role
        uow.session.add(ApiToken(user_id=user.id, name=token_name, token_hash=hash_token(token), created_at=utcnow()))
        uow.commit()
    return token


class Authenticator(DependencyProvider):
    """Token verification for the gateway's workers, plus the bootstrap admin at start-up."""

    def __init__(self):
        self.verifier = None

    def _source(self):
        from oms_common.providers import sessions_of

        return sessions_of(self.container, "The gateway's token check")

    def start(self):
        self.verifier = TokenVerifier(self._source())
        config = self.container.config
        token = setting(config, "BOOTSTRAP_ADMIN_TOKEN", "gateway")
        if token:
            from .passwords import hash_password

            ensure_bootstrap_admin(
                self._source(),
                str(token),
                setting(config, "BOOTSTRAP_ADMIN_PASSWORD", "gateway") or None,
                hash_password,
            )

    def get_dependency(self, worker_ctx):
        return self.verifier
