"""Bearer-token authentication and the role rules of api.md."""
import hashlib
import hmac
import secrets
import threading
import time

from nameko.extensions import DependencyProvider

from sqlalchemy import select

from oms_common.db import utcnow
from oms_common.problems import Forbidden, Unauthorized

from .models import ApiToken, User

ROLES = ("admin", "agent", "accountant", "readonly")

# permission → roles holding it. admin holds every permission.
PERMISSIONS = {
    "read": {"agent", "accountant", "readonly"},
    "orders.create": {"agent"},
    "orders.process": {"agent"},          # ship, status, cancel, bulk status
    "orders.sessions": {"agent"},         # open orders: lines, submit, pause, assign
    "orders.customer": {"agent"},         # reassign order, merge customers
    "orders.invoice_number": {"accountant"},
    "payments.manage": {"accountant"},    # payment status, dunning, manual completion
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
    """Resolves bearer tokens; a short cache keeps the database off the hot path."""

    def __init__(self, source, ttl=30.0):
        self.source = source
        self.ttl = ttl
        self._cache = {}
        self._lock = threading.Lock()

    def verify(self, authorization):
        token = bearer_token(authorization)
        if not token or len(token) > 200:
            raise Unauthorized("The bearer token is not valid.")
        digest = hash_token(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached and cached[0] > now:
            return cached[1]
        principal = self._lookup(digest)
        with self._lock:
            self._cache[digest] = (now + self.ttl, principal)
        return principal

    def _lookup(self, digest):
        with self.source.read_session() as session:
            row = session.execute(
                select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active.is_(True))
            ).first()
        if row is None or not hmac.compare_digest(row.ApiToken.token_hash, digest):
            raise Unauthorized("The bearer token is not valid.")
        return Principal(row.User.id, row.User.username, row.User.role)

    def forget(self):
        with self._lock:
            self._cache.clear()


def ensure_bootstrap_admin(source, token, password=None, password_hasher=None):
    """Makes the configured admin user and its token exist (idempotent, safe on every start).

    Replicas starting together race to create the user: the loser's insert fails on the
    unique user name, and its second attempt finds the winner's row.
    """
    from sqlalchemy.exc import IntegrityError

    try:
        _ensure_bootstrap_admin(source, token, password, password_hasher)
    except IntegrityError:
        _ensure_bootstrap_admin(source, token, password, password_hasher)


def _ensure_bootstrap_admin(source, token, password, password_hasher):
    with source.unit_of_work() as uow:
        session = uow.session
        user = session.execute(select(User).where(User.username == "admin")).scalar_one_or_none()
        if user is None:
            user = User(username="admin", role="admin", active=True, created_at=utcnow(), failed_logins=0, language="en")
            session.add(user)
            session.flush()
        user.role = "admin"
        user.active = True
        if password and password_hasher:
            user.password_hash = password_hasher(password)
        digest = hash_token(token)
        existing = session.execute(select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()
        if existing is None:
            session.add(ApiToken(user_id=user.id, name="bootstrap", token_hash=digest, created_at=utcnow()))
        elif existing.revoked_at is not None or existing.user_id != user.id:
            existing.revoked_at = None
            existing.user_id = user.id
        uow.commit()


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
        from oms_common.providers import Database

        for dependency in self.container.dependencies:
            if isinstance(dependency, Database):
                return dependency.source
        raise RuntimeError("The gateway needs a Database dependency for its users.")

    def start(self):
        self.verifier = TokenVerifier(self._source())
        config = self.container.config
        token = config.get("BOOTSTRAP_ADMIN_TOKEN")
        if token:
            from .passwords import hash_password

            ensure_bootstrap_admin(self._source(), str(token), config.get("BOOTSTRAP_ADMIN_PASSWORD") or None,
                                   hash_password)

    def get_dependency(self, worker_ctx):
        return self.verifier
