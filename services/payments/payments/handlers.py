"""Use cases of the payments service: each one a unit of work over the domain rules.

Every change locks the payment row (``FOR UPDATE``), leaves an audit entry and writes ``payment_status_changed`` to the outbox in the
same transaction. PSP calls that change money run while the row is locked and carry an
idempotency key derived from what they do, so a retry after a crash repeats nothing.
"""
import json
import logging
import weakref
from datetime import timedelta

from sqlalchemy import false, func, or_, select, text
from sqlalchemy.exc import IntegrityError

from oms_common.audit import audit_columns
from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ServiceUnavailable, ValidationFailed, load
from oms_contracts.actors import SYSTEM, load_actor, psp_actor

from . import amounts, domain, provider_settings, psp_reports
from .currencies import CurrencyError
from .models import Payment, PaymentAudit, Refund, WebhookInbox
from .psp import PayPalAdapter, PspError, PspNotConfigured, StripeAdapter
from .schemas import (
    AuditSchema, CompleteSchema, DunningSchema, InboxQuerySchema, InboxSchema, ManualStatusSchema,
    OrderEventSchema, PaymentSchema, RefundSchema, StuckQuerySchema,
)
from .webhooks import InvalidWebhook, parse_paypal, verify_stripe

log = logging.getLogger(__name__)


RECONCILER = {"name": "reconciliation", "kind": "system", "role": None, "origin": "payments:reconcile"}
CONSUMER_ORDER_SUBMITTED = "payments.order_submitted"
CONSUMER_ORDER_CREATED = "payments.order_created"
CONSUMER_ORDER_CANCELLED = "payments.order_cancelled"
CONSUMER_ORDER_STATUS = "payments.order_status_changed"
DESCRIBE = {"stripe": StripeAdapter.describe_event, "paypal": PayPalAdapter.describe_event}

_payment_dump = PaymentSchema()


MONEY_FIELDS = ("amount", "captured_amount", "refunded_amount", "refundable_amount", "dispute_amount",
                "overpaid_amount")


def provider_configuration(adapters, config):
    """Which providers can run now and, per payment method, what a PSP method is missing."""
    providers = {}
    for provider in domain.PROVIDERS:
        adapter = adapters.get(provider)
        configured = adapter is None or bool(adapter.configured)
        missing = [] if configured else [name for name in provider_settings.PROVIDER_SETTINGS[provider]
                                         if not config.get(name[len("OMS_"):])]
        providers[provider] = {"name": provider_settings.PROVIDER_NAMES[provider], "configured": configured, "missing": missing,
                               "reason": None if configured else provider_settings.not_configured_reason(provider, missing)}
    methods = {method: {"provider": provider, **providers[provider]} for method, provider in domain.PSP_METHODS.items()}
    return {"providers": providers, "methods": methods}


def payment_view(payment, configuration=None):
    """The payment as callers see it; with ``configuration`` (provider_configuration), the
    operations are narrowed to what the configured provider can do, and the ones left out
    for want of settings are named with the reason."""
    view = {column: getattr(payment, column) for column in (
        "order_reference", "method", "provider", "status", "currency", "amount", "captured_amount",
        "refunded_amount", "psp_reference", "psp_capture_id", "completed_by_hand_reference", "order_status",
        "dunning_level", "failure_reason", "sequence", "version", "created_at", "updated_at", "status_changed_at",
        "psp_charge_id", "psp_capture_status", "dispute_id", "dispute_status", "dispute_amount", "dispute_reason",
        "dispute_evidence_due_by", "capture_mode", "authorized_at", "authorization_expires_at",
        "authorization_expired_at", "qr_reference", "creditor_reference", "overpaid_amount")}
    view["authorization_expired"] = payment.authorization_expired_at is not None
    view["refundable_amount"] = amounts.refundable(payment.captured_amount or 0, payment.refunded_amount or 0)
    for field in MONEY_FIELDS:
        view[field] = amounts.shown(view[field], payment.currency)
    view["pending_refund_amount"] = amounts.shown(_pending_refunds(payment), payment.currency)
    view["disputed"] = payment.status == "disputed"
    view["refunds"] = [dict({c: getattr(r, c) for c in ("kind", "status", "psp_refund_id", "reason", "actor",
                                                        "created_at", "failure_reason")},
                            amount=amounts.shown(r.amount, payment.currency)) for r in payment.refunds]
    view["capabilities"] = sorted(domain.CAPABILITIES[payment.provider])
    state = (configuration or {}).get("providers", {}).get(payment.provider) or {"configured": True}
    state_of = (payment.provider, payment.status, payment.captured_amount or 0, payment.refunded_amount or 0,
               payment.dunning_level)
    view["allowed_operations"] = domain.allowed_operations(*state_of, provider_configured=state["configured"])
    view["operations_unavailable"] = {
        operation: state["reason"] for operation in domain.allowed_operations(*state_of)
        if operation not in view["allowed_operations"]}
    return _payment_dump.dump(view)


def _find_payment(session, reference=None, psp_reference=None, lock=True):
    if reference:
        query = select(Payment).where(Payment.order_reference == str(reference))
    elif psp_reference:
        query = select(Payment).where(Payment.psp_reference == psp_reference).order_by(Payment.id).limit(1)
    else:
        return None
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def _lock_payment(session, reference):
    payment = _find_payment(session, reference)
    if payment is None:
        raise NotFound(f"No payment for order '{reference}'.")
    return payment


def _audit(session, reference, actor, action, from_status=None, to_status=None, reason=None, details=None):
    session.add(PaymentAudit(order_reference=reference, action=action, from_status=from_status,
                             to_status=to_status, reason=reason, details=details, **audit_columns(actor)))


def _touch(payment):
    payment.version += 1
    payment.updated_at = utcnow()


def _set_status(uow, payment, target, actor, reason=None, action="status_changed", details=None, flush=True):
    """The one place a payment changes: audit entry plus payment_status_changed in the outbox.

    ``flush=False`` leaves the rows to the transaction's next flush: a bank statement books
    thousands of payments in one transaction, and one flush writes them in batches."""
    previous = payment.status
    payment.status = target
    payment.sequence = (payment.sequence or 0) + 1
    payment.status_changed_at = utcnow()
    _touch(payment)
    if flush:
        uow.session.flush()
    _audit(uow.session, payment.order_reference, actor, action, previous, target, reason, details)
    uow.emit("payment_status_changed", {
        "order_reference": payment.order_reference, "status": target, "previous_status": previous,
        "sequence": payment.sequence, "actor": actor, "reason": reason, "payment": payment_view(payment),
    })


def _psp_problem(error):
    if isinstance(error, PspNotConfigured):
        # a refusal for configuration, not an outage: say what is missing
        return Conflict(str(error), {"provider": [str(error)]})
    if error.retryable:
        return ServiceUnavailable(str(error))
    return Conflict(str(error))


# ---------------------------------------------------------------- reads

def get_payment(source, reference, configuration=None):
    with source.read_session() as session:
        payment = _find_payment(session, reference, lock=False)
        if payment is None:
            raise NotFound(f"No payment for order '{reference}'.")
        view = payment_view(payment, configuration)
        flagged = session.execute(
            select(WebhookInbox).where(WebhookInbox.order_reference == payment.order_reference,
                                       WebhookInbox.status == "flagged").order_by(WebhookInbox.id).limit(50)
        ).scalars().all()
        view["flagged_events"] = _inbox_dump(flagged)
        return view


def payment_history(source, reference):
    with source.read_session() as session:
        rows = session.execute(
            select(PaymentAudit).where(PaymentAudit.order_reference == str(reference)).order_by(PaymentAudit.id)
        ).scalars().all()
        return AuditSchema(many=True).dump(rows)


def list_stuck_payments(source, query, default_age_seconds):
    """PSP payments still pending after the configured age (S9): what staff should look at."""
    params = load(StuckQuerySchema(), query or {})
    age = params["older_than_seconds"] if params["older_than_seconds"] is not None else default_age_seconds
    cutoff = utcnow() - timedelta(seconds=age)
    with source.read_session() as session:
        rows = session.execute(
            select(Payment).where(Payment.status.in_(domain.STUCK_STATUSES), Payment.provider != "manual",
                                  Payment.created_at <= cutoff)
            .order_by(Payment.created_at).limit(params["limit"])
        ).scalars().all()
        now = utcnow()
        items = []
        for payment in rows:
            item = payment_view(payment)
            item["pending_seconds"] = int((now - payment.created_at).total_seconds())
            item["reconcile_checks"] = payment.reconcile_checks
            item["last_psp_status"] = payment.last_psp_status
            items.append(item)
        return {"older_than_seconds": age, "items": items, "count": len(items)}


def _inbox_dump(rows):
    items = InboxSchema(many=True).dump(rows)
    for item, row in zip(items, rows):
        if row.amount is not None:
            item["amount"] = str(amounts.shown(row.amount, row.currency or ""))
    return items


UNMATCHED_STATUSES = ("flagged", "unmatched", "waiting")


def list_unmatched_webhook_events(source, query=None):
    """What staff must look at: events about a payment that do not fit it (flagged), events that
    name nothing OMS knows (unmatched) and events still waiting for their order."""
    params = dict(query or {})
    params.setdefault("status", list(UNMATCHED_STATUSES))
    return list_webhook_events(source, params)


def list_webhook_events(source, query=None):
    params = load(InboxQuerySchema(), query or {})
    with source.read_session() as session:
        statement = select(WebhookInbox).order_by(WebhookInbox.id.desc()).limit(params["limit"])
        if params["status"]:
            statement = statement.where(WebhookInbox.status.in_(params["status"]))
        if params["order_reference"]:
            statement = statement.where(WebhookInbox.order_reference == params["order_reference"])
        if params.get("provider"):
            statement = statement.where(WebhookInbox.provider == params["provider"])
        return {"items": _inbox_dump(session.execute(statement).scalars().all())}


# ---------------------------------------------------------------- orders events

def record_order(source, adapters, event, consumer, open_at_psp=True):
    """Creates the payment record of a submitted order; applies webhooks that came first."""
    payload = load(OrderEventSchema(), event)
    order = payload["order"]
    if order["status"] == "open":
        return None
    reference = order["reference"]
    with source.unit_of_work() as uow:
        uow.claim_event(payload["event_id"], consumer)
        payment = _find_payment(uow.session, reference)
        if payment is None:
            payment = _create_payment(uow, order, load_actor(payload.get("actor")))
            if payment is None:  # created concurrently by the sibling event
                payment = _find_payment(uow.session, reference)
            else:
                _apply_waiting(uow, payment, adapters)
        needs_psp = (open_at_psp and payment.provider != "manual" and not payment.psp_reference
                     and payment.status == "pending" and adapters[payment.provider].configured)
        uow.commit()
    if needs_psp:
        _open_at_psp(source, adapters, reference)
    return reference


def _create_payment(uow, order, actor):
    now = utcnow()
    method = order["payment_method"]
    payment = Payment(
        order_reference=order["reference"], method=method, provider=domain.provider_for(method),
        status=domain.initial_status(method), currency=order["currency"], amount=amounts.money(order["total"]),
        captured_amount=amounts.ZERO, refunded_amount=amounts.ZERO, order_status=order["status"], dunning_level=0,
        sequence=0, reconcile_checks=0, version=1, created_at=now, updated_at=now, status_changed_at=now,
        **domain.payment_references(order["reference"]))
    try:
        with uow.session.begin_nested():
            uow.session.add(payment)
            uow.session.flush()
    except IntegrityError:
        return None
    _audit(uow.session, payment.order_reference, actor, "payment_created", None, payment.status,
           details={"method": method, "provider": payment.provider, "amount": str(payment.amount),
                    "currency": payment.currency})
    return payment


def _open_at_psp(source, adapters, reference):
    """Opens the PaymentIntent / PayPal order; the key makes a retried event reuse it."""
    with source.read_session() as session:
        payment = _find_payment(session, reference, lock=False)
        amount, currency, provider = payment.amount, payment.currency, payment.provider
    try:
        result = adapters[provider].create_payment(reference, amount, currency, key=f"oms-payment-{reference}")
    except CurrencyError as error:
        # refused visibly: staff see why the PSP was not asked (never a rounded amount)
        with source.unit_of_work() as uow:
            payment = _lock_payment(uow.session, reference)
            payment.failure_reason = f"Not opened at {provider}: {error}"[:1000]
            _touch(payment)
            _audit(uow.session, reference, SYSTEM, "psp_amount_refused", payment.status, payment.status,
                   reason=payment.failure_reason, details={"amount": str(amount), "currency": currency})
            uow.commit()
        return
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        if not payment.psp_reference:
            payment.psp_reference = result["psp_reference"]
            payment.capture_mode = result.get("capture_mode") or "checkout"
            _touch(payment)
            _audit(uow.session, reference, SYSTEM, "psp_payment_opened",
                   details={"provider": provider, "psp_reference": result["psp_reference"],
                            "capture_mode": payment.capture_mode})
        uow.commit()


def order_status_changed(source, event):
    """Keeps the copy of the order status and the dunning level (also when set in orders)."""
    payload = load(OrderEventSchema(), event)
    order = payload["order"]
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER_ORDER_STATUS):
            return False
        payment = _find_payment(uow.session, order["reference"])
        if payment is None:
            uow.commit()
            return False
        payment.order_status = order["status"]
        level = {"dunning_1": 1, "dunning_2": 2}.get(payload.get("to_status"))
        if level and level > (payment.dunning_level or 0):
            previous = payment.dunning_level
            payment.dunning_level = level
            _audit(uow.session, payment.order_reference, load_actor(payload.get("actor")), "dunning_level_changed",
                   reason=payload.get("reason"), details={"from": previous, "to": level, "notify": payload["notify"]})
        _touch(payment)
        uow.commit()
        return True


def order_cancelled(source, adapters, event):
    """Voids a payment not yet captured, refunds a captured one, closes an unpaid invoice."""
    payload = load(OrderEventSchema(), event)
    reference = payload["order"]["reference"]
    actor = load_actor(payload.get("actor"))
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER_ORDER_CANCELLED):
            return False
        payment = _find_payment(uow.session, reference)
        if payment is None:
            uow.commit()
            return False
        payment.order_status = "cancelled"
        plan = domain.cancellation_plan(payment.provider, payment.status)
        reason = f"Order cancelled{': ' + payload['reason'] if payload.get('reason') else ''}."
        if plan == "close":
            _set_status(uow, payment, "voided", actor, reason, action="closed_on_cancel")
        elif plan == "void":
            _void(uow, adapters, payment, actor, reason, key=f"oms-cancel-void-{reference}")
        elif plan == "refund":
            amount = amounts.refundable(payment.captured_amount, payment.refunded_amount)
            _refund(uow, adapters, payment, amount, actor, reason, key=f"oms-cancel-refund-{reference}")
        else:
            _touch(payment)
            _audit(uow.session, reference, actor, "cancel_needs_manual_refund" if payment.status in (
                "paid", "partially_refunded") else "cancel_no_payment_action", payment.status, payment.status,
                reason="Money taken outside a PSP is returned by hand." if payment.status in (
                    "paid", "partially_refunded") else "Nothing to void or refund.")
        uow.commit()
        return True


# ---------------------------------------------------------------- webhooks: verify, persist, ack

def receive_stripe_webhook(source, raw_body, signature_header, secrets, tolerance):
    """Verifies and stores a Stripe event; InvalidWebhook means 400 and nothing stored."""
    event = verify_stripe(raw_body, signature_header, secrets, tolerance)
    return _store_inbox(source, "stripe", event, raw_body)


def receive_paypal_webhook(source, adapter, raw_body, headers):
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
    " ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id")


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
        inbox_id = connection.execute(_INSERT_INBOX, {
            "provider": provider, "provider_event_id": event_id, "event_type": str(event_type),
            "order_reference": reference, "psp_reference": psp_reference, "body": body, "received_at": utcnow(),
        }).scalar_one_or_none()
    return {"received": True, "duplicate": inbox_id is None}


def process_inbox(source, adapters, limit=100, max_attempts=5, retry_base_seconds=1.0, pause=lambda: None):
    """Applies stored webhooks (the 'process after' half), oldest first; returns how many.

    Several replicas may run it: a batch is claimed with ``FOR UPDATE SKIP LOCKED`` and
    applied in one transaction. If a row raises, the batch is redone row by row, each in a
    savepoint; the failing row is retried later with growing delays and, after
    ``max_attempts``, left as ``failed`` for an operator (``replay_webhook_event``).
    ``pause`` is called between rows so that the caller's scheduler can let others in.
    """
    now = utcnow()
    with source.unit_of_work() as uow:
        rows = uow.session.execute(
            select(WebhookInbox).where(
                WebhookInbox.status == "received",
                or_(WebhookInbox.next_attempt_at.is_(None), WebhookInbox.next_attempt_at <= now))
            .order_by(WebhookInbox.id).limit(limit).with_for_update(skip_locked=True)
        ).scalars().all()
        if not rows:
            return 0
        ids = [row.id for row in rows]
        try:
            # fast path: the whole batch in one go (no savepoint per row)
            with uow.session.begin_nested():
                for row in rows:
                    _process_row(uow, row, adapters)
                    pause()
        except Exception:  # noqa: BLE001 - find the culprit row by row below
            log.warning("a webhook batch failed; applying its rows one by one", exc_info=True)
            uow.session.expire_all()
            rows = uow.session.execute(
                select(WebhookInbox).where(WebhookInbox.id.in_(ids)).order_by(WebhookInbox.id)).scalars().all()
            for row in rows:
                try:
                    with uow.session.begin_nested():
                        _process_row(uow, row, adapters)
                except Exception as error:  # noqa: BLE001 - recorded on the row, retried, then parked
                    log.exception("webhook %s %s failed", row.provider, row.provider_event_id)
                    row.attempts = (row.attempts or 0) + 1
                    row.note = f"{type(error).__name__}: {error}"[:1000]
                    if row.attempts >= max_attempts:
                        row.status = "failed"
                        row.processed_at = utcnow()
                    else:
                        row.next_attempt_at = utcnow() + timedelta(seconds=retry_base_seconds * 2 ** row.attempts)
        uow.commit()
        return len(ids)


def replay_webhook_event(source, inbox_id, actor=None):
    """Puts a failed (or ignored) webhook back in the queue; the operator's replay."""
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        row = uow.session.execute(
            select(WebhookInbox).where(WebhookInbox.id == int(inbox_id)).with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No stored webhook {inbox_id}.")
        if row.status not in ("failed", "ignored", "waiting", "flagged", "unmatched"):
            raise Conflict(f"The webhook is '{row.status}'; only failed, ignored, waiting, flagged or unmatched "
                           "ones are replayed.")
        previous = row.status
        row.status, row.attempts, row.next_attempt_at, row.processed_at = "received", 0, None, None
        row.note = f"replayed by {actor['name']} (was {previous})"
        uow.commit()
        return InboxSchema().dump(row)


def sweep_inbox(source, adapters, limit=100):
    """'waiting' rows whose order appeared meanwhile (a race with the payment's creation)."""
    done = 0
    with source.unit_of_work() as uow:
        # least recently looked at first: rows that never match (a foreign reference) do not
        # keep newer ones from being looked at
        rows = uow.session.execute(
            select(WebhookInbox).where(WebhookInbox.status == "waiting")
            .order_by(WebhookInbox.processed_at.asc().nulls_first(), WebhookInbox.id)
            .limit(limit).with_for_update(skip_locked=True)
        ).scalars().all()
        for row in rows:
            update = _parse_row(adapters, row)
            if update is None or _match_payment(uow.session, row, update) is None:
                row.processed_at = utcnow()
                continue
            _process_row(uow, row, adapters)
            done += 1
        uow.commit()
    return done


def _apply_waiting(uow, payment, adapters):
    rows = uow.session.execute(
        select(WebhookInbox).where(
            WebhookInbox.status == "waiting",
            or_(WebhookInbox.order_reference == payment.order_reference,
                (WebhookInbox.psp_reference == payment.psp_reference) if payment.psp_reference else false()))
        # no SKIP LOCKED: a row the sweep holds is waited for, or the payment would open a second
        # PaymentIntent and the event paid on the first would then no longer fit (flagged)
        .order_by(WebhookInbox.id).with_for_update()
    ).scalars().all()
    for row in rows:
        _process_row(uow, row, adapters, payment)


def _parse_row(adapters, row):
    return adapters[row.provider].parse_event(json.loads(row.body))


# Which payment column holds each kind of PSP id an event may carry.
_ID_COLUMNS = {"intent": Payment.psp_reference, "order": Payment.psp_reference, "psp": Payment.psp_reference,
               "charge": Payment.psp_charge_id, "capture": Payment.psp_capture_id,
               "authorization": Payment.psp_authorization_id, "dispute": Payment.dispute_id}


def _match_payment(session, row, update, lock=True):
    """The payment an event is about: the order reference when it is one of ours, else any PSP id
    OMS stored (a foreign reference never blocks that fallback)."""
    reference = update.order_reference or row.order_reference
    if reference:
        payment = _find_payment(session, reference, lock=lock)
        if payment is not None:
            return payment
    for kind, value in update.ids.items():
        if kind == "refund":
            query = select(Payment).join(Refund, Refund.payment_id == Payment.id).where(Refund.psp_refund_id == value)
        else:
            query = select(Payment).where(_ID_COLUMNS[kind] == value)
        query = query.where(Payment.provider == row.provider).order_by(Payment.id).limit(1)
        payment = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        if payment is not None:
            return payment
    return None


def _process_row(uow, row, adapters, payment=None):
    update = _parse_row(adapters, row)
    row.processed_at = utcnow()
    if update is None:
        row.status, row.note = "ignored", f"'{row.event_type}' does not change a payment."
        return row.status
    row.currency = (update.currency or "")[:3].upper() or None
    try:
        row.amount = amounts.money(update.amount) if update.amount is not None else None
    except (ArithmeticError, ValueError):
        row.amount = None
    if payment is None:
        payment = _match_payment(uow.session, row, update)
    if payment is None:
        if update.order_reference or row.order_reference:
            row.status, row.note = "waiting", "The order is not known yet; applied when it appears."
        else:
            row.status, row.note = "unmatched", "The event names no order and no PSP id OMS knows."
        return row.status
    row.order_reference = payment.order_reference
    actor = psp_actor(row.provider)
    label = f"{row.provider} {row.event_type} {row.provider_event_id}"
    misfit = update.invalid or _misfit(payment, row.provider, update)
    if misfit:
        return _flag(uow, row, payment, actor, label, misfit, update)
    if update.kind == "approved":
        changed, note = _apply_approved(uow, adapters[row.provider], payment, update, actor, label)
    elif update.kind == "refund":
        changed, note = _apply_refunds(uow, payment, update, actor, label)
    elif update.kind == "dispute":
        changed, note = _apply_dispute(uow, payment, update, actor, label)
    else:
        changed, note = apply_psp_update(uow, payment, update, actor, label)
    if note and note.startswith("flag:"):
        return _flag(uow, row, payment, actor, label, note[5:], update)
    if note == "wait":
        row.status, row.note = "waiting", "The refund arrived before its capture; applied once the capture is known."
        return row.status
    row.status, row.note = ("applied" if changed else "ignored"), note
    return row.status


def _flag(uow, row, payment, actor, label, reason, update):
    """Stored and acknowledged, but changes nothing: staff see it on the payment and in the list."""
    row.status, row.note = "flagged", reason[:1000]
    _audit(uow.session, payment.order_reference, actor, "psp_event_flagged", payment.status, payment.status,
           reason=reason, details={"event": label, "amount": str(row.amount) if row.amount is not None else None,
                                   "currency": row.currency, "psp_ids": update.ids})
    return row.status


def _misfit(payment, provider, update):
    """Why an event cannot be about this payment, or None: another PSP, another intent or order,
    another currency, another amount (a first sighting must match the order's amount)."""
    if provider != payment.provider:
        return f"The order is paid through {payment.provider}, not {provider}."
    if update.currency and update.currency.upper() != payment.currency:
        return f"Currency {update.currency.upper()} does not match the payment's {payment.currency}."
    own = update.ids.get("intent") or update.ids.get("order") or update.ids.get("psp")
    if own and payment.psp_reference and own != payment.psp_reference:
        return f"The event is about {own}, not about this payment's {payment.psp_reference}."
    charge = update.ids.get("charge")
    if charge and payment.psp_charge_id and charge != payment.psp_charge_id:
        return f"The event is about charge {charge}, not this payment's {payment.psp_charge_id}."
    capture = update.ids.get("capture")
    if capture and payment.psp_capture_id and capture != payment.psp_capture_id and update.kind != "approved":
        return f"The event is about capture {capture}, not this payment's {payment.psp_capture_id}."
    amount = amounts.money(payment.amount)
    if update.requested is not None and amounts.money(update.requested) != amount:
        return (f"The PSP asks for {amounts.money(update.requested)} {payment.currency}; "
                f"the order is for {amount}.")
    if update.kind in ("payment", "approved") and update.captured is not None:
        if amounts.money(update.captured) > amount:
            return f"The PSP reports {amounts.money(update.captured)} captured; the order is for {amount}."
        if not payment.psp_reference and update.requested is None and amounts.money(update.captured) != amount:
            return (f"A first sighting must match the order's amount: {amounts.money(update.captured)} "
                    f"reported, {amount} expected.")
    return None


def _adopt_ids(payment, update):
    if not payment.psp_reference:
        payment.psp_reference = update.ids.get("intent") or update.ids.get("order") or update.ids.get("psp")
    payment.psp_charge_id = payment.psp_charge_id or update.ids.get("charge")
    payment.psp_capture_id = payment.psp_capture_id or update.ids.get("capture")
    payment.psp_authorization_id = payment.psp_authorization_id or update.ids.get("authorization")
    if isinstance(update.detail, dict):
        payment.psp_capture_id = payment.psp_capture_id or update.detail.get("capture_id")
        payment.psp_authorization_id = payment.psp_authorization_id or update.detail.get("authorization_id")


def apply_psp_update(uow, payment, update, actor, label):
    """(changed, note). Forward moves only; anything else is recorded in the audit and ignored."""
    session = uow.session
    if update.currency and update.currency.upper() != payment.currency:
        _audit(session, payment.order_reference, actor, "psp_event_ignored", payment.status, update.status,
               reason=f"Currency {update.currency} does not match {payment.currency}.", details={"event": label})
        return False, "currency mismatch"
    _adopt_ids(payment, update)
    if update.capture_state and update.status is None:
        # the PSP holds the capture: shown as such, the payment stays where it is
        if payment.psp_capture_status == update.capture_state:
            return False, f"nothing new (capture {update.capture_state})"
        payment.psp_capture_status = update.capture_state
        payment.failure_reason = update.detail if isinstance(update.detail, str) else None
        _touch(payment)
        _audit(session, payment.order_reference, actor, "psp_capture_pending", payment.status, payment.status,
               reason=payment.failure_reason, details={"event": label})
        return True, f"capture {update.capture_state}"
    refunded_total = update.refunded_total
    effective = psp_reports.PspUpdate(order_reference=payment.order_reference, status=update.status,
                                 captured=update.captured, refunded_total=refunded_total)
    effective.amount_due = payment.amount
    decision = psp_reports.decide(payment.status, payment.captured_amount, payment.refunded_amount, effective)
    if decision.ignored:
        _audit(session, payment.order_reference, actor, "psp_event_ignored", payment.status, update.status,
               reason=decision.ignored, details={"event": label})
        return False, decision.ignored
    grown = decision.refunded - amounts.money(payment.refunded_amount)
    if grown > 0:
        payment.refunds.append(Refund(kind="refund", amount=grown, status="succeeded",
                                      reason="Reported by the PSP.", actor=actor["name"], created_at=utcnow()))
    payment.captured_amount = decision.captured
    payment.refunded_amount = decision.refunded
    if decision.status == "authorized":
        _note_authorization(payment, update)
    if decision.status == "failed":
        payment.failure_reason = update.detail if isinstance(update.detail, str) else "The PSP reported a failure."
        payment.psp_capture_status = "DECLINED" if update.ids.get("capture") else payment.psp_capture_status
    elif decision.status in domain.CAPTURED_STATUSES:
        payment.psp_capture_status = None
    _set_status(uow, payment, decision.status, actor, reason=f"PSP: {label}", action="psp_update",
                details={"event": label, "captured": str(decision.captured), "refunded": str(decision.refunded)})
    return True, f"{decision.status}"


def _note_authorization(payment, update):
    """When the authorisation was made and when the PSP lets it lapse (its own time if it names
    one, else the provider's usual validity)."""
    payment.authorized_at = payment.authorized_at or utcnow()
    days = provider_settings.AUTHORIZATION_VALID_DAYS.get(payment.provider, 7)
    payment.authorization_expires_at = (update.authorization_expires_at or payment.authorization_expires_at
                                        or payment.authorized_at + timedelta(days=days))


def _apply_approved(uow, adapter, payment, update, actor, label):
    """CHECKOUT.ORDER.APPROVED: capture the order (once), or take it as paid when it came captured."""
    if update.status in ("paid", "failed", "voided", "authorized") or update.capture_state:
        return apply_psp_update(uow, payment, update, actor, label)
    if payment.status in domain.CAPTURED_STATUSES or payment.status in ("refunded", "disputed", "voided"):
        _audit(uow.session, payment.order_reference, actor, "psp_event_ignored", payment.status, payment.status,
               reason="The order is captured already.", details={"event": label})
        return False, "captured already"
    if payment.status == "authorized" and (update.order_intent or "").upper() == "AUTHORIZE":
        _audit(uow.session, payment.order_reference, actor, "psp_event_ignored", payment.status, payment.status,
               reason="The order is authorised already.", details={"event": label})
        return False, "authorized already"
    return _capture_approved(uow, adapter, payment, update.ids.get("order") or payment.psp_reference, actor, label,
                             intent=update.order_intent)


def _refusals(session, reference, action):
    return session.execute(
        select(func.count()).select_from(PaymentAudit).where(
            PaymentAudit.order_reference == reference, PaymentAudit.action == action)).scalar_one()


def _capture_approved(uow, adapter, payment, order_id, actor, label, intent=None):
    """Captures an approved PayPal order — or, for an order of intent AUTHORIZE (capture on
    shipment), authorises it; a refusal leaves it waiting for the buyer, visibly."""
    _adopt_ids(payment, psp_reports.PspUpdate(order_reference=None, ids={"order": order_id}))
    authorize = (intent or "").upper() == "AUTHORIZE" or (intent is None and payment.capture_mode == "on_ship")
    verb, refused = ("authorize", "psp_authorize_refused") if authorize else ("capture", "psp_capture_refused")
    # one key per attempt after a refusal: PayPal answers a reused key with the stored refusal
    refusals = _refusals(uow.session, payment.order_reference, refused)
    key = f"oms-{verb}-{order_id}" + (f"-{refusals}" if refusals else "")
    try:
        order = (adapter.authorize_order if authorize else adapter.capture_order)(order_id, key=key)
    except PspError as error:
        if error.retryable:
            raise   # retried by the inbox (or the next reconciliation); the key makes it capture once
        payment.psp_capture_status = "refused"
        payment.failure_reason = f"PayPal refused to {verb} the order: {error}"[:1000]
        _touch(payment)
        _audit(uow.session, payment.order_reference, actor, refused, payment.status, payment.status,
               reason=payment.failure_reason, details={"event": label, "order": order_id})
        return True, f"{verb} refused"
    captured = adapter.update_from_order(order)
    misfit = captured.invalid or _misfit(payment, adapter.name, captured)
    if misfit:
        return False, "flag:" + misfit
    _audit(uow.session, payment.order_reference, actor, "psp_authorized" if authorize else "psp_captured",
           payment.status, payment.status,
           details={"event": label, "order": order_id, "capture": captured.ids.get("capture"),
                    "authorization": captured.ids.get("authorization"),
                    "captured": str(captured.captured) if captured.captured is not None else None})
    if captured.status is None and not captured.capture_state:
        return True, f"captured, order {order.get('status')}"
    return apply_psp_update(uow, payment, captured, actor, label)


def _counted(payment):
    return sum((amounts.money(r.amount) for r in payment.refunds
                if r.kind in ("refund", "dispute") and r.status == "succeeded"), amounts.ZERO)


def _apply_refunds(uow, payment, update, actor, label):
    """Refunds as money moves: counted once succeeded, shown while pending, given back when a
    refund fails or is canceled after it had succeeded."""
    session = uow.session
    captured = amounts.money(payment.captured_amount)
    if update.captured is not None and amounts.money(update.captured) > captured:
        captured = amounts.money(update.captured)   # a refund seen before its capture implies the capture
        if captured > amounts.money(payment.amount):
            return False, f"flag:The PSP reports {captured} captured; the order is for {amounts.money(payment.amount)}."
    if captured <= amounts.ZERO:
        return False, "wait"
    # plan first (nothing changes if the result cannot be ours), then apply
    known = {r.psp_refund_id: r for r in payment.refunds if r.psp_refund_id}
    anonymous = [r for r in payment.refunds if r.psp_refund_id is None and r.kind == "refund"]
    status_of = {id(r): r.status for r in payment.refunds}
    new_rows, named, changes = [], [], []
    for item in update.refunds:
        refund = known.get(item["id"]) if item["id"] else None
        if refund is None and item["id"]:
            # a refund that the charge's total already brought in without an id: give it its id
            refund = next((r for r in anonymous if amounts.money(r.amount) == amounts.money(item["amount"])
                           and r not in [n[0] for n in named]), None)
            if refund is not None:
                named.append((refund, item["id"]))
        if refund is None:
            new_rows.append(item)
            changes.append(("added", item["id"], item["status"]))
        elif status_of[id(refund)] != item["status"] and status_of[id(refund)] not in ("failed", "canceled"):
            changes.append((status_of[id(refund)], item["id"], item["status"]))
            status_of[id(refund)] = item["status"]
    grown = amounts.ZERO
    if update.refunded_total is not None:
        # only the charge's total: its growth is a refund the PSP reports without an id
        seen = sum((amounts.money(r.amount) for r in payment.refunds
                    if r.kind == "refund" and status_of[id(r)] in ("succeeded", "pending")), amounts.ZERO)
        grown = amounts.money(update.refunded_total) - seen
        if grown > amounts.ZERO:
            changes.append(("added", None, str(grown)))
    if not changes and not named:
        _audit(session, payment.order_reference, actor, "psp_event_ignored", payment.status, payment.status,
               reason="nothing new about the refunds", details={"event": label})
        return False, "nothing new (refunds known)"
    counted = sum((amounts.money(r.amount) for r in payment.refunds
                   if r.kind in ("refund", "dispute") and status_of[id(r)] == "succeeded"), amounts.ZERO)
    counted += sum((amounts.money(i["amount"]) for i in new_rows if i["status"] == "succeeded"), amounts.ZERO)
    counted += max(grown, amounts.ZERO)
    if counted > captured:
        return False, f"flag:Refunds of {counted} would exceed the {captured} captured."
    # apply
    _adopt_ids(payment, update)
    payment.captured_amount = captured
    for refund, psp_id in named:
        refund.psp_refund_id = psp_id
    for refund in payment.refunds:
        if refund.status != status_of[id(refund)]:
            refund.status = status_of[id(refund)]
            match = next((i for i in update.refunds if i["id"] == refund.psp_refund_id), None)
            refund.failure_reason = (match or {}).get("failure_reason") or refund.failure_reason
    for item in new_rows:
        payment.refunds.append(Refund(kind="refund", psp_refund_id=item["id"], amount=amounts.money(item["amount"]),
                                      status=item["status"], failure_reason=item.get("failure_reason"),
                                      reason="Reported by the PSP.", actor=actor["name"], created_at=utcnow()))
    if grown > amounts.ZERO:
        payment.refunds.append(Refund(kind="refund", amount=grown, status="succeeded", reason="Reported by the PSP.",
                                      actor=actor["name"], created_at=utcnow()))
    previous_refunded = amounts.money(payment.refunded_amount)
    payment.refunded_amount = counted
    details = {"event": label, "refunded": str(counted),
               "changes": [[str(c) if c is not None else None for c in change] for change in changes]}
    if previous_refunded > counted:
        _audit(session, payment.order_reference, actor, "refund_reversed", payment.status, payment.status,
               reason=f"A refund of {previous_refunded - counted} {payment.currency} failed at the PSP; "
                      "the amount is back.", details=details)
    if payment.status == "disputed":
        target = payment.status
    elif payment.status in ("pending", "authorized", "failed") and counted <= amounts.ZERO:
        target = domain.capture_status(captured, payment.amount) if update.captured is not None else payment.status
    else:
        target = domain.status_after_refunds(captured, counted, payment.amount)
    if target != payment.status:
        _set_status(uow, payment, target, actor, reason=f"PSP: {label}", action="psp_update", details=details)
    else:
        _touch(payment)
        _audit(session, payment.order_reference, actor, "psp_refund_recorded", payment.status, payment.status,
               reason=f"PSP: {label}", details=details)
    return True, target


def _apply_dispute(uow, payment, update, actor, label):
    """A chargeback: disputed amount, reason and evidence due date on the payment; lost books the
    amount like a refund, won clears it."""
    dispute = update.dispute
    if payment.status not in domain.DISPUTABLE_STATUSES and payment.status != "disputed":
        return False, f"flag:A dispute on a payment in status '{payment.status}' (nothing was captured)."
    if amounts.money(dispute["amount"]) > amounts.money(payment.captured_amount):
        return False, (f"flag:The dispute is for {amounts.money(dispute['amount'])}; "
                       f"{amounts.money(payment.captured_amount)} was captured.")
    if payment.dispute_status in (domain.DISPUTE_WON + domain.DISPUTE_LOST) and payment.dispute_id == dispute["id"]:
        _audit(uow.session, payment.order_reference, actor, "psp_event_ignored", payment.status, payment.status,
               reason=f"The dispute is closed already ({payment.dispute_status}).", details={"event": label})
        return False, "dispute closed already"
    _adopt_ids(payment, update)
    payment.dispute_id = dispute["id"]
    payment.dispute_amount = amounts.money(dispute["amount"])
    payment.dispute_reason = dispute.get("reason")
    payment.dispute_evidence_due_by = dispute.get("due_by") or payment.dispute_evidence_due_by
    payment.dispute_status = dispute["status"]
    if payment.status != "disputed":
        payment.status_before_dispute = payment.status
    refunded = amounts.money(payment.refunded_amount)
    lost = dispute["status"] in domain.DISPUTE_LOST
    if lost:
        payment.refunds.append(Refund(kind="dispute", psp_refund_id=dispute["id"], amount=payment.dispute_amount,
                                      status="succeeded", reason=f"Dispute lost ({dispute.get('reason')}).",
                                      actor=actor["name"], created_at=utcnow()))
        refunded = _counted(payment)
        payment.refunded_amount = refunded
    target, _ = domain.after_dispute(dispute["status"], payment.status_before_dispute, payment.captured_amount,
                                     refunded, payment.amount)
    details = {"event": label, "dispute": dispute["id"], "dispute_status": dispute["status"],
               "amount": str(payment.dispute_amount), "reason": dispute.get("reason"),
               "evidence_due_by": dispute["due_by"].isoformat() if dispute.get("due_by") else None}
    if target != payment.status:
        _set_status(uow, payment, target, actor, reason=f"PSP: {label}", action="psp_update", details=details)
    else:
        _touch(payment)
        _audit(uow.session, payment.order_reference, actor, "psp_dispute_updated", payment.status, payment.status,
               reason=f"PSP: {label}", details=details)
    return True, f"dispute {dispute['status']}"


# ---------------------------------------------------------------- staff operations (S9, S11, S13)

def set_payment_status(source, reference, data, actor=None):
    """Manual bookkeeping: unpaid → announced → paid (S13)."""
    payload = load(ManualStatusSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        try:
            domain.check_manual_status(payment.provider, payment.status, payload["status"])
        except domain.DomainError as error:
            raise Conflict(str(error), {"status": [str(error)]}) from None
        if payload["status"] == "paid":
            payment.captured_amount = payment.amount
        _set_status(uow, payment, payload["status"], actor, payload.get("note"), action="manual_status")
        result = payment_view(payment)
        uow.commit()
        return result


def complete_payment(source, reference, data, actor=None):
    """Completes by hand a PSP payment whose success callback never came (S9)."""
    payload = load(CompleteSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        try:
            domain.check_completion(payment.provider, payment.status)
        except domain.DomainError as error:
            raise Conflict(str(error)) from None
        payment.completed_by_hand_reference = payload["psp_reference"]
        payment.psp_reference = payment.psp_reference or payload["psp_reference"]
        payment.captured_amount = payment.amount
        _set_status(uow, payment, "paid", actor, payload["reason"], action="completed_by_hand",
                    details={"psp_reference": payload["psp_reference"]})
        result = payment_view(payment)
        uow.commit()
        return result


def refund_payment(source, adapters, reference, data, actor=None):
    """Void before capture, refund (full or partial) after, through the PSP (S11)."""
    payload = load(RefundSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        try:
            action, amount = domain.plan_refund(payment.provider, payment.status, payment.captured_amount,
                                                amounts.money(payment.refunded_amount) + _pending_refunds(payment),
                                                payload.get("amount"))
        except domain.InvalidAmount as error:
            raise ValidationFailed(str(error), {error.field: [str(error)]}) from None
        except domain.DomainError as error:
            raise Conflict(str(error)) from None
        if action == "void":
            _void(uow, adapters, payment, actor, payload.get("reason"), key=f"oms-void-{reference}")
        else:
            count = sum(1 for refund in payment.refunds if refund.kind == "refund")
            key = f"oms-refund-{reference}-{count + 1}-{int(amounts.money(amount) * 1000)}"
            _refund(uow, adapters, payment, amount, actor, payload.get("reason"), key)
        result = payment_view(payment)
        uow.commit()
        return result


def _pending_refunds(payment):
    return sum((amounts.money(r.amount) for r in payment.refunds if r.kind == "refund" and r.status == "pending"),
               amounts.ZERO)


def _void(uow, adapters, payment, actor, reason, key):
    try:
        result = adapters[payment.provider].void(payment, key)
    except PspError as error:
        raise _psp_problem(error) from None
    payment.refunds.append(Refund(kind="void", amount=amounts.ZERO, status=str(result.get("status")),
                                  reason=reason, actor=actor["name"], created_at=utcnow()))
    _set_status(uow, payment, "voided", actor, reason, action="voided", details={"psp": result})


def _refund(uow, adapters, payment, amount, actor, reason, key):
    try:
        result = adapters[payment.provider].refund(payment, amount, key, reason)
    except PspError as error:
        raise _psp_problem(error) from None
    except CurrencyError as error:
        raise ValidationFailed(str(error), {"amount": [str(error)]}) from None
    if any(refund.psp_refund_id == result["refund_id"] for refund in payment.refunds):
        return  # the PSP replayed a refund we have already recorded
    status = result.get("status") or "pending"
    payment.refunds.append(Refund(kind="refund", psp_refund_id=result["refund_id"], amount=amount,
                                  status=status, reason=reason, actor=actor["name"], created_at=utcnow()))
    details = {"amount": str(amount), "psp_refund_id": result["refund_id"], "psp_status": status}
    if status != "succeeded":
        # counted once the PSP reports it succeeded (charge.refund.updated, PAYMENT.CAPTURE.REFUNDED)
        _touch(payment)
        _audit(uow.session, payment.order_reference, actor, "refund_pending", payment.status, payment.status,
               reason, details=details)
        return
    payment.refunded_amount = amounts.money(payment.refunded_amount) + amount
    target = domain.status_after_refunds(payment.captured_amount, payment.refunded_amount, payment.amount)
    _set_status(uow, payment, target, actor, reason, action="refunded", details=details)


def request_dunning(source, reference, data, actor, change_order_status):
    """Dunning level 1/2 (S3, S11): the order status moves through the orders service, whose
    order_status_changed (with ``notify``) makes notifications send the reminder."""
    payload = load(DunningSchema(), data)
    actor = load_actor(actor)
    level = payload["level"]
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        try:
            domain.check_dunning(payment.provider, payment.status, payment.dunning_level, level)
        except domain.InvalidAmount as error:
            raise ValidationFailed(str(error), {error.field: [str(error)]}) from None
        except domain.DomainError as error:
            raise Conflict(str(error), {"level": [str(error)]}) from None
        reason = payload.get("reason") or f"Dunning level {level}."
        order = change_order_status(reference, {"status": domain.DUNNING_ORDER_STATUS[level],
                                                "notify": payload["notify"], "reason": reason}, actor)
        previous = payment.dunning_level
        payment.dunning_level = level
        payment.order_status = (order or {}).get("status", domain.DUNNING_ORDER_STATUS[level])
        _touch(payment)
        _audit(uow.session, reference, actor, "dunning_level_changed", payment.status, payment.status, reason,
               details={"from": previous, "to": level, "notify": payload["notify"]})
        uow.emit("payment_dunning_changed", {"order_reference": reference, "level": level, "previous_level": previous,
                                             "notify": payload["notify"], "actor": actor, "reason": reason})
        result = payment_view(payment)
        uow.commit()
        return result


# ---------------------------------------------------------------- capture at shipment

def capture_for_shipment(source, adapters, reference, actor=None):
    """Collects the authorised money of an order that ships now (capture on shipment).

    The orders service calls this over RPC while it holds the order's row and before the ship
    commits, so an order cannot ship without its capture. It cannot capture twice: the payment
    row is locked, a captured payment answers "nothing to capture", and the PSP call carries an
    idempotency key (a ship retried after a lost answer replays the same capture). A refusal
    is recorded on the payment and answered as a 409 naming the PSP's reason (nothing shipped);
    a PSP that cannot be reached is a 503 and changes nothing.
    """
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        try:
            plan = domain.ship_capture_plan(payment.provider, payment.status)
        except domain.DomainError as error:
            raise Conflict(str(error), {"payment": [payment.failure_reason or str(error)]}) from None
        if plan is None:
            return {"captured": False, "payment": payment_view(payment)}
        adapter, provider = adapters[payment.provider], payment.provider
        refusals = _refusals(uow.session, reference, "ship_capture_refused")
        key = (f"oms-ship-capture-{payment.psp_authorization_id or payment.psp_reference}"
               + (f"-{refusals}" if refusals else ""))
        label = f"{provider} capture at shipment"
        try:
            update = adapter.capture(payment, key)
        except PspError as error:
            if isinstance(error, PspNotConfigured) or error.retryable:
                raise ServiceUnavailable(f"The payment could not be captured now: {error}") from None
            reason = f"{provider} refused the capture: {error}"[:1000]
            payment.psp_capture_status = "refused"
            payment.failure_reason = reason
            _touch(payment)
            _audit(uow.session, reference, actor, "ship_capture_refused", payment.status, payment.status,
                   reason=reason, details={"key": key})
            uow.commit()
            raise Conflict(f"The order cannot ship: {reason}", {"payment": [reason]}) from None
        misfit = update.invalid or _misfit(payment, provider, update)
        if misfit:
            _audit(uow.session, reference, actor, "psp_event_flagged", payment.status, payment.status,
                   reason=misfit, details={"event": label})
            uow.commit()
            raise Conflict(f"The order cannot ship: the PSP's capture does not fit the payment: {misfit}",
                           {"payment": [misfit]})
        _audit(uow.session, reference, actor, "psp_captured", payment.status, payment.status,
               details={"event": label, "key": key, "capture": update.ids.get("capture"),
                        "captured": str(update.captured) if update.captured is not None else None})
        apply_psp_update(uow, payment, update, actor, label)
        if payment.status == "failed":
            reason = payment.failure_reason or f"{provider} declined the capture."
            uow.commit()
            raise Conflict(f"The order cannot ship: {reason}", {"payment": [reason]})
        result = {"captured": True, "payment": payment_view(payment)}
        uow.commit()
        return result


def flag_expired_authorizations(source, now=None, batch=200):
    """Authorisations that lapsed before the order shipped: flagged for staff (audit entry,
    ``authorization_expired`` in the payment answer). The money is no longer held."""
    now = now or utcnow()
    flagged = []
    with source.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Payment).where(Payment.status == "authorized", Payment.authorization_expired_at.is_(None),
                                  Payment.authorization_expires_at <= now)
            .order_by(Payment.authorization_expires_at).limit(batch).with_for_update(skip_locked=True)
        ).scalars().all()
        for payment in rows:
            payment.authorization_expired_at = now
            payment.failure_reason = (f"The {payment.provider} authorisation expired at "
                                      f"{payment.authorization_expires_at.isoformat()} before the order shipped; "
                                      "the money is no longer held.")
            _touch(payment)
            _audit(uow.session, payment.order_reference, RECONCILER, "authorization_expired", payment.status,
                   payment.status, reason=payment.failure_reason,
                   details={"expires_at": payment.authorization_expires_at.isoformat()})
            flagged.append(payment.order_reference)
        uow.commit()
    return flagged


# ---------------------------------------------------------------- lost callbacks (S9)

def reconcile(source, adapters, older_than_seconds, batch=50, recheck_seconds=60):
    """Asks the PSP about payments pending longer than the age; completes those it reports paid.

    Several replicas may run it: a batch is leased with ``FOR UPDATE SKIP LOCKED`` and a
    ``reconcile_after`` timestamp, so each payment is asked about by one replica at a time.
    """
    now = utcnow()
    with source.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Payment).where(
                Payment.status.in_(domain.STUCK_STATUSES), Payment.provider != "manual",
                Payment.psp_reference.is_not(None),
                Payment.created_at <= now - timedelta(seconds=older_than_seconds),
                or_(Payment.reconcile_after.is_(None), Payment.reconcile_after <= now))
            .order_by(Payment.id).limit(batch).with_for_update(skip_locked=True)
        ).scalars().all()
        leased = []
        for payment in rows:
            payment.reconcile_after = now + timedelta(seconds=recheck_seconds)
            payment.reconcile_checks = (payment.reconcile_checks or 0) + 1
            leased.append((payment.order_reference, payment.provider, payment.psp_reference))
        uow.commit()
    summary = {"checked": 0, "completed": [], "still_pending": [], "errors": [],
               "authorizations_expired": flag_expired_authorizations(source)}
    for reference, provider, psp_reference in leased:
        summary["checked"] += 1
        try:
            update, psp_status = adapters[provider].retrieve(psp_reference)
        except PspError as error:
            summary["errors"].append({"order_reference": reference, "error": str(error)})
            continue
        with source.unit_of_work() as uow:
            payment = _lock_payment(uow.session, reference)
            payment.last_psp_status = str(psp_status)[:40] if psp_status else None
            changed = False
            label = f"{provider} reconciliation {psp_reference} ({psp_status})"
            misfit = update is not None and (update.invalid or _misfit(payment, provider, update))
            if misfit:
                _audit(uow.session, reference, RECONCILER, "psp_event_flagged", payment.status, payment.status,
                       reason=misfit, details={"event": label})
            elif update is not None and update.kind == "approved" and psp_status == "APPROVED" \
                    and not update.status and payment.status in ("pending", "failed", "authorized"):
                # the buyer approved but the webhook was lost: capture now (the key captures once)
                try:
                    changed, _ = _capture_approved(uow, adapters[provider], payment, psp_reference, RECONCILER,
                                                   label, intent=update.order_intent)
                except PspError as error:
                    summary["errors"].append({"order_reference": reference, "error": str(error)})
            elif update is not None and update.status:
                changed, _ = apply_psp_update(uow, payment, update, RECONCILER, label)
            uow.commit()
            done = changed and payment.status in domain.CAPTURED_STATUSES + ("refunded", "voided", "authorized")
        (summary["completed"] if done else summary["still_pending"]).append(reference)
    return summary
