"""The gateway's own tables: who may call the API. No business data lives here."""

import sqlalchemy as sa

from oms_common.declarative import Id, Language, schema_base

Base, infrastructure = schema_base()


class User(Base):
    __tablename__ = "users"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    username = sa.Column(sa.String(80), nullable=False, unique=True)
    role = sa.Column(sa.String(20), nullable=False)
    password_hash = sa.Column(sa.String(255))
    language = sa.Column(Language, nullable=False, default="en")
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    # Sign-in throttling lives in ``sign_in_throttle`` (by address and user); these two columns
    # of the former per-account lock are no longer read.
    failed_logins = sa.Column(sa.Integer, nullable=False, default=0)
    locked_until = sa.Column(sa.DateTime(timezone=True))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class ApiToken(Base):
    """Only a SHA-256 of each token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    user_id = sa.Column(Id, sa.ForeignKey("users.id"), nullable=False)
    name = sa.Column(sa.String(80), nullable=False)
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    revoked_at = sa.Column(sa.DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"
    id = sa.Column(sa.String(64), primary_key=True)
    user_id = sa.Column(Id, sa.ForeignKey("users.id"), nullable=False)
    csrf_token = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class SignInThrottle(Base):
    """Failed web sign-ins per client address (``scope`` 'address', ``username`` '') and per
    address and user name (``scope`` 'user'), shared by every gateway replica. A user name is
    counted whether or not such a user exists, so the throttle tells nothing about accounts."""

    __tablename__ = "sign_in_throttle"
    scope = sa.Column(sa.String(10), primary_key=True)
    address = sa.Column(sa.String(64), primary_key=True)
    username = sa.Column(sa.String(80), primary_key=True)
    failures = sa.Column(sa.Integer, nullable=False, default=0)
    last_failure_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    blocked_until = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_sign_in_throttle_username", "username"),)


class IdempotentRequest(Base):
    """A mutation sent with an ``Idempotency-Key``: who sent it, what it was (a hash of method,
    path and body) and, once answered, the answer a retry gets back. ``state`` is ``pending``
    while it runs, ``done`` once answered, ``unknown`` after a 5xx (it may or may not have
    taken effect: a retry runs it again, and the services' own guards keep that safe)."""

    __tablename__ = "idempotent_requests"
    user_id = sa.Column(Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key = sa.Column(sa.String(200), primary_key=True)
    fingerprint = sa.Column(sa.String(64), nullable=False)
    state = sa.Column(sa.String(10), nullable=False)
    status = sa.Column(sa.Integer)
    content_type = sa.Column(sa.String(100))
    body = sa.Column(sa.LargeBinary)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    claimed_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (sa.Index("ix_idempotent_requests_created", "created_at"),)


class SavedOrderView(Base):
    """A named order list (filters, sort, columns) of one user; admins may share one with the team.
    At most one default per user (a partial unique index): the list opens with it."""

    __tablename__ = "saved_order_views"
    id = sa.Column(Id, primary_key=True, autoincrement=True)
    owner_id = sa.Column(Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name = sa.Column(sa.String(80), nullable=False)
    filters = sa.Column(sa.JSON, nullable=False)
    sort = sa.Column(sa.String(30), nullable=False)
    columns = sa.Column(sa.JSON, nullable=False)
    is_default = sa.Column(sa.Boolean, nullable=False, default=False)
    shared = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (
        sa.Index("uq_saved_order_views_owner_name", "owner_id", "name", unique=True),
        sa.Index("uq_saved_order_views_one_default", "owner_id", unique=True, postgresql_where=is_default.is_(True)),
        sa.Index("ix_saved_order_views_shared", "shared", postgresql_where=shared.is_(True)),
    )


metadata = Base.metadata
