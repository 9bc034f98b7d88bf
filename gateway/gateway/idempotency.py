"""Mutations that are safe to retry, and 503s that say what may have happened.

Every mutating API route (``Route.idempotent``) accepts an ``Idempotency-Key``; a POST marked
``changes_nothing`` (a read whose request needs a body) is answered as a read. The gateway
keeps, per caller and key, a hash of the request (method, path, body) and the answer it gave:

- same key, same request, answered before → the stored answer again (``Idempotency-Replayed``),
  nothing is sent to any service;
- same key, another request → 409 naming ``Idempotency-Key``;
- same key while the first request is still running → 409 with ``Retry-After``;
- the first attempt ended in a 5xx (a service timed out or failed), or the gateway running it
  died → its outcome is unknown, so a retry runs again. The services' own guards make that
  safe: order creation stores the key with the order, status changes and merges refuse to
  happen twice.

"Still running" is known, not guessed from the clock: the gateway running a request holds a
PostgreSQL advisory lock on its key on a connection of its own for as long as it runs. A
gateway killed mid-request loses its connection and with it the lock, so the client's retry
on another replica runs at once instead of being refused until a time limit ran out.

A mutation whose service did not answer in time may still have been applied. Its 503 says so
(``may_have_applied``) and points at the order's history; only a request that never reached a
service gets the plain "not available" answer.
"""

import hashlib
import json
import time
from datetime import timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from werkzeug.wrappers import Response

from oms_common.db import utcnow
from oms_common.problems import BadRequest, Conflict, Problem, ServiceUnavailable
from oms_common.web import json_response, problem_response

from .models import IdempotentRequest
from .rpc import ServiceNotReached

KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
RETENTION = timedelta(hours=24)
# what a client is told to wait before it retries a request that is still running
RETRY_AFTER_SECONDS = 2
_PURGE_EVERY_SECONDS = 300
_last_purge = 0.0


class StillRunning(Conflict):
    """409 for a retry that came while the first request with its key is still running."""

    retry_after = RETRY_AFTER_SECONDS


class MayHaveApplied(ServiceUnavailable):
    """503 for a mutation whose service did not answer: the change may have been applied."""

    def __init__(self, detail, history=None):
        super().__init__(detail)
        self.history = history

    def as_dict(self):
        body = super().as_dict()
        body["may_have_applied"] = True
        if self.history:
            body["history"] = self.history
        return body


def as_response(result):
    """What a route handler returned, as the HTTP response."""
    if isinstance(result, Response):
        return result
    status, payload = result if isinstance(result, tuple) else (200, result)
    return json_response(payload, status)


def dispatch(source, ctx, route, values):
    """Runs a route handler: mutations with their key and an honest 503; reads as they are."""
    if not route.mutating:
        return as_response(route.handler(ctx, **values))
    key = ctx.request.headers.get(KEY_HEADER)
    if not route.idempotent or key is None:
        return _run_mutation(ctx, route, values)
    _check_key(key)
    fingerprint = _fingerprint(ctx.request)
    with _RunningKey(source, ctx.principal.user_id, key):
        stored, rerun = _claim(source, ctx.principal.user_id, key, fingerprint)
        if stored is not None:
            return stored
        try:
            response = _run_mutation(ctx, route, values)
        except BaseException:
            _settle(source, ctx.principal.user_id, key, None)  # unexpected: outcome unknown
            raise
        if rerun and response.status_code == 409:
            response = _after_unanswered_attempt(response, values.get("reference"))
        _settle(source, ctx.principal.user_id, key, response)
        return response


class _RunningKey:
    """Holds the advisory lock that says "a request with this key is running" (see above), on a
    connection of its own, from before the key is claimed until its answer is stored. Entering
    raises ``StillRunning`` when a living request holds it."""

    def __init__(self, source, user_id, key):
        digest = hashlib.sha256(f"{user_id}\0{key}".encode("utf-8", "surrogateescape")).digest()
        self.lock = int.from_bytes(digest[:8], "big", signed=True)
        self.engine = source.engine
        self.connection = None

    def __enter__(self):
        self.connection = self.engine.connect()
        try:
            held = self.connection.execute(text("SELECT pg_try_advisory_lock(:lock)"), {"lock": self.lock}).scalar()
            self.connection.commit()
        except BaseException:
            self.connection.close()
            raise
        if not held:
            self.connection.close()
            raise StillRunning(
                f"A request with this {KEY_HEADER} is still being processed; retry in a few seconds.",
                {KEY_HEADER: ["The first request with this key has not finished yet."]},
            )
        return self

    def __exit__(self, *exc_info):
        try:
            self.connection.execute(text("SELECT pg_advisory_unlock(:lock)"), {"lock": self.lock})
            self.connection.commit()
        except Exception:  # noqa: BLE001 - the lock goes with a connection that is dropped
            self.connection.invalidate()
        finally:
            self.connection.close()


def _after_unanswered_attempt(response, reference):
    """A retry refused as a conflict after an attempt that got no answer: most likely that
    attempt was applied (the order is already where the retry wanted it). Say so."""
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return response
    history = f"/api/v1/orders/{reference}/history" if reference else None
    body["detail"] = (body.get("detail") or "") + (
        " An earlier attempt with this Idempotency-Key got no answer in time and has probably been applied"
        + (f": see {history}." if history else ".")
    )
    body["may_have_applied"] = True
    if history:
        body["history"] = history
    return Response(
        json.dumps(body, ensure_ascii=False), status=response.status_code, content_type=response.content_type
    )


def _run_mutation(ctx, route, values):
    """The handler's answer as a response; refusals included, so that a retry gets them too."""
    try:
        return as_response(route.handler(ctx, **values))
    except ServiceNotReached as problem:
        return problem_response(problem)  # never delivered: nothing happened
    except ServiceUnavailable as problem:
        return problem_response(
            _may_have_applied(problem, values.get("reference"), ctx.request.headers.get(KEY_HEADER))
        )
    except Problem as problem:
        return problem_response(problem)


def _may_have_applied(problem, reference, key):
    history = f"/api/v1/orders/{reference}/history" if reference else None
    detail = problem.detail.rstrip(".") + ". The change may have been applied all the same"
    detail += f": check {history} before trying again" if history else ""
    detail += (
        ", or send the same request again with the same Idempotency-Key (it is not done twice)."
        if key
        else ", or retry it with an Idempotency-Key next time so that a retry is safe."
    )
    return MayHaveApplied(detail, history)


def _check_key(key):
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(
            f"The {KEY_HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters.",
            {KEY_HEADER: ["Too long, empty or not printable."]},
        )


def _fingerprint(request):
    """The request as a hash: method, path and body (JSON compared by value, not by spacing)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode() if raw.strip() else b""
    except (ValueError, UnicodeDecodeError):
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode("utf-8", "surrogateescape"), request.query_string, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _claim(source, user_id, key, fingerprint):
    """(None, rerun) when this request may run now (the key is ours; ``rerun`` when an earlier
    attempt ended without an answer); otherwise (the answer to give, False)."""
    _purge_expired(source)
    now = utcnow()
    with source.unit_of_work() as uow:
        session = uow.session
        inserted = session.execute(
            pg_insert(IdempotentRequest)
            .values(user_id=user_id, key=key, fingerprint=fingerprint, state="pending", created_at=now, claimed_at=now)
            .on_conflict_do_nothing(index_elements=["user_id", "key"])
            .returning(IdempotentRequest.key)
        ).first()
        if inserted is not None:
            uow.commit()
            return None, False
        row = session.execute(
            select(IdempotentRequest)
            .where(IdempotentRequest.user_id == user_id, IdempotentRequest.key == key)
            .with_for_update()
        ).scalar_one()
        if row.created_at < now - RETENTION:  # an old key used anew: a new request
            row.fingerprint, row.state, row.created_at, row.claimed_at = fingerprint, "pending", now, now
            row.status = row.content_type = row.body = None
            uow.commit()
            return None, False
        if row.fingerprint != fingerprint:
            raise Conflict(
                f"This {KEY_HEADER} was used with a different request.",
                {KEY_HEADER: ["Already used for another request."]},
            )
        elif row.state == "done":
            response = Response(row.body, status=row.status, content_type=row.content_type)
            response.headers["Idempotency-Replayed"] = "true"
            return response, False
        # pending while we hold its running lock: the gateway that ran it died. Either way an
        # earlier attempt ended without an answer (5xx, or its gateway died): run again
        rerun = True
        row.state = "pending"
        row.claimed_at = now
        uow.commit()
        return None, rerun


def _settle(source, user_id, key, response):
    """Keeps the answer for retries; after a 5xx the outcome is unknown and a retry runs again."""
    stored = response is not None and response.status_code < 500 and not response.is_streamed
    values = (
        {
            "state": "done",
            "status": response.status_code,
            "content_type": response.content_type,
            "body": response.get_data(),
        }
        if stored
        else {"state": "unknown"}
    )
    with source.unit_of_work() as uow:
        uow.session.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.user_id == user_id, IdempotentRequest.key == key)
            .values(**values)
        )
        uow.commit()


def _purge_expired(source):
    global _last_purge
    if time.monotonic() - _last_purge < _PURGE_EVERY_SECONDS:
        return
    _last_purge = time.monotonic()
    with source.unit_of_work() as uow:
        uow.session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < utcnow() - RETENTION))
        uow.commit()
