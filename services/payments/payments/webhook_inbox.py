"""The webhook inbox: PSP events verified, stored once and acknowledged; listed for staff and
replayed by an operator. Applying them is ``webhook_processing``."""

import weakref
from typing import Any

from sqlalchemy import select, text

from oms_common.db import SessionSource, utcnow
from oms_common.problems import ServiceUnavailable, load
from oms_common.row_locks import lock_one_or_404
from oms_contracts.actors import load_actor
from oms_contracts.payments import InboxQuerySchema, InboxSchema

from . import amounts, domain
from .changes import as_problem
from .models import WebhookInbox
from .psp import PayPalAdapter, PspError, PspNotConfigured, StripeAdapter
from .webhooks import InvalidWebhook, parse_paypal, verify_stripe

DESCRIBE = {"stripe": StripeAdapter.describe_event, "paypal": PayPalAdapter.describe_event}
UNMATCHED_STATUSES = ("flagged", "unmatched", "waiting")


def receive_stripe_webhook(
    source: SessionSource, raw_body: bytes, signature_header: str | None, secrets: list[str], tolerance: int
) -> dict[str, bool]:
    """Verifies and stores a Stripe event; InvalidWebhook means 400 and nothing stored."""
    event = verify_stripe(raw_body, signature_header, secrets, tolerance)
    return _store_inbox(source, "stripe", event, raw_body)


def receive_paypal_webhook(
    source: SessionSource, adapter: PayPalAdapter, raw_body: bytes, headers: Any
) -> dict[str, bool]:
    event = parse_paypal(raw_body)
    try:
        verified = adapter.verify_webhook(headers, raw_body)
    except PspNotConfigured as error:
        raise InvalidWebhook(str(error)) from None
    except PspError as error:
        if error.retryable:
            raise ServiceUnavailable(f"Could not verify the webhook now: {error}") from None
        verified = False
    if not verified:
        raise InvalidWebhook("PayPal did not confirm the webhook signature.")
    return _store_inbox(source, "paypal", event, raw_body)


# Plain SQL on purpose: SQLAlchemy does not cache the compiled form of INSERT … ON CONFLICT,
# and compiling it on every webhook costs more than the insert itself.
_INSERT_INBOX = text(
    "INSERT INTO webhook_inbox (provider, provider_event_id, event_type, order_reference, psp_reference, body,"
    " status, attempts, received_at) VALUES (:provider, :provider_event_id, :event_type, :order_reference,"
    " :psp_reference, :body, 'received', 0, :received_at)"
    " ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id"
)


_autocommit_engines = weakref.WeakKeyDictionary()


def _inbox_engine(engine):
    """The insert runs as its own transaction: one round trip, no separate COMMIT."""
    if engine not in _autocommit_engines:
        _autocommit_engines[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return _autocommit_engines[engine]


def _store_inbox(source, provider, event, raw_body):
    """One INSERT … ON CONFLICT DO NOTHING: the unique key per provider event makes a
    redelivery a no-op. Kept to a single round trip: this is the hot path of the listener."""
    event_id, event_type, reference, psp_reference = DESCRIBE[provider](event)
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 120 or len(str(event_type)) > 120:
        raise InvalidWebhook("The event id or type is missing or too long.")
    if not isinstance(reference, str) or not 0 < len(reference) <= 40:
        reference = None
    if not isinstance(psp_reference, str) or not 0 < len(psp_reference) <= 120:
        psp_reference = None
    body = raw_body.decode("utf-8") if isinstance(raw_body, (bytes, bytearray)) else raw_body
    with _inbox_engine(source.engine).begin() as connection:
        inbox_id = connection.execute(
            _INSERT_INBOX,
            {
                "provider": provider,
                "provider_event_id": event_id,
                "event_type": str(event_type),
                "order_reference": reference,
                "psp_reference": psp_reference,
                "body": body,
                "received_at": utcnow(),
            },
        ).scalar_one_or_none()
    return {"received": True, "duplicate": inbox_id is None}


def inbox_dump(rows: list[WebhookInbox]) -> list[dict[str, Any]]:
    items = InboxSchema(many=True).dump(rows)
    for item, row in zip(items, rows, strict=True):
        if row.amount is not None:
            item["amount"] = str(amounts.shown(row.amount, row.currency or ""))
    return items


def list_unmatched_webhook_events(source: SessionSource, query: dict[str, Any] | None = None) -> dict[str, Any]:
    """What staff must look at: events about a payment that do not fit it (flagged), events that
    name nothing OMS knows (unmatched) and events still waiting for their order."""
    params = dict(query or {})
    params.setdefault("status", list(UNMATCHED_STATUSES))
    return list_webhook_events(source, params)


def list_webhook_events(source: SessionSource, query: dict[str, Any] | None = None) -> dict[str, Any]:
    params = load(InboxQuerySchema(), query or {})
    with source.read_session() as session:
        statement = select(WebhookInbox).order_by(WebhookInbox.id.desc()).limit(params["limit"])
        if params["status"]:
            statement = statement.where(WebhookInbox.status.in_(params["status"]))
        if params["order_reference"]:
            statement = statement.where(WebhookInbox.order_reference == params["order_reference"])
        if params.get("provider"):
            statement = statement.where(WebhookInbox.provider == params["provider"])
        return {"items": inbox_dump(session.execute(statement).scalars().all())}


def replay_webhook_event(source: SessionSource, inbox_id: Any, actor: dict[str, Any] | None = None) -> dict[str, Any]:
    """Puts a failed (or ignored) webhook back in the queue; the operator's replay."""
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        row = lock_one_or_404(
            uow.session, WebhookInbox, WebhookInbox.id == int(inbox_id), f"No stored webhook {inbox_id}."
        )
        try:
            domain.check_replay(row.status)
        except domain.DomainError as error:
            raise as_problem(error) from None
        previous = row.status
        row.status, row.attempts, row.next_attempt_at, row.processed_at = "received", 0, None, None
        row.note = f"replayed by {actor['name']} (was {previous})"
        uow.commit()
        return InboxSchema().dump(row)
