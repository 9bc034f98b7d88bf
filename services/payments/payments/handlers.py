"""Use cases of the payments service: each one a unit of work over the domain rules.

Every change locks the payment row (``FOR UPDATE``), leaves an audit entry and writes ``payment_status_changed`` to the outbox in the
same transaction. PSP calls that change money run while the row is locked and carry an
idempotency key derived from what they do, so a retry after a crash repeats nothing.
"""
import json
import logging
import weakref
from datetime import timedelta

from sqlalchemy import false, or_, select, text
from sqlalchemy.exc import IntegrityError

from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ServiceUnavailable, ValidationFailed, load

from . import domain
from .models import Payment, PaymentAudit, Refund, WebhookInbox
from .psp import PayPalAdapter, PspError, PspNotConfigured, StripeAdapter
from .schemas import (
    ActorSchema, AuditSchema, CompleteSchema, DunningSchema, InboxQuerySchema, InboxSchema, ManualStatusSchema,
    OrderEventSchema, PaymentSchema, RefundSchema, StuckQuerySchema,
)
from .webhooks import InvalidWebhook, parse_paypal, verify_stripe

log = logging.getLogger(__name__)


SYSTEM = {"name": "system", "kind": "system", "role": None, "origin": "internal"}
RECONCILER = {"name": "reconciliation", "kind": "system", "role": None, "origin": "payments:reconcile"}
CONSUMER_ORDER_SUBMITTED = "payments.order_submitted"
CONSUMER_ORDER_CREATED = "payments.order_created"
CONSUMER_ORDER_CANCELLED = "payments.order_cancelled"
CONSUMER_ORDER_STATUS = "payments.order_status_changed"
DESCRIBE = {"stripe": StripeAdapter.describe_event, "paypal": PayPalAdapter.describe_event}

_payment_dump = PaymentSchema()


def _actor(actor):
    return ActorSchema().load(actor or SYSTEM)


def psp_actor(provider):
    return {"name": provider, "kind": "psp", "role": None, "origin": f"webhook:{provider}"}


def payment_view(payment):
    view = {column: getattr(payment, column) for column in (
        "order_reference", "method", "provider", "status", "currency", "amount", "captured_amount",
        "refunded_amount", "psp_reference", "psp_capture_id", "completed_by_hand_reference", "order_status",
        "dunning_level", "failure_reason", "sequence", "version", "created_at", "updated_at", "status_changed_at")}
    view["refundable_amount"] = domain.refundable(payment.captured_amount or 0, payment.refunded_amount or 0)
    view["refunds"] = payment.refunds
    view["capabilities"] = sorted(domain.CAPABILITIES[payment.provider])
    view["allowed_operations"] = domain.allowed_operations(
        payment.provider, payment.status, payment.captured_amount or 0, payment.refunded_amount or 0,
        payment.dunning_level)
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
    session.add(PaymentAudit(
        order_reference=reference, at=utcnow(), actor=actor["name"], actor_kind=actor["kind"],
        origin=actor.get("origin") or "internal", action=action, from_status=from_status, to_status=to_status,
        reason=reason, details=details))


def _touch(payment):
    payment.version += 1
    payment.updated_at = utcnow()


def _set_status(uow, payment, target, actor, reason=None, action="status_changed", details=None):
    """The one place a payment changes: audit entry plus payment_status_changed in the outbox."""
    previous = payment.status
    payment.status = target
    payment.sequence = (payment.sequence or 0) + 1
    payment.status_changed_at = utcnow()
    _touch(payment)
    uow.session.flush()
    _audit(uow.session, payment.order_reference, actor, action, previous, target, reason, details)
    uow.emit("payment_status_changed", {
        "order_reference": payment.order_reference, "status": target, "previous_status": previous,
        "sequence": payment.sequence, "actor": actor, "reason": reason, "payment": payment_view(payment),
    })


def _psp_problem(error):
    if isinstance(error, PspNotConfigured) or error.retryable:
        return ServiceUnavailable(str(error))
    return Conflict(str(error))


# ---------------------------------------------------------------- reads

def get_payment(source, reference):
    with source.read_session() as session:
        payment = _find_payment(session, reference, lock=False)
        if payment is None:
            raise NotFound(f"No payment for order '{reference}'.")
        return payment_view(payment)


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


def list_webhook_events(source, query=None):
    params = load(InboxQuerySchema(), query or {})
    with source.read_session() as session:
        statement = select(WebhookInbox).order_by(WebhookInbox.id.desc()).limit(params["limit"])
        if params["status"]:
            statement = statement.where(WebhookInbox.status.in_(params["status"]))
        if params["order_reference"]:
            statement = statement.where(WebhookInbox.order_reference == params["order_reference"])
        return {"items": InboxSchema(many=True).dump(session.execute(statement).scalars().all())}


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
            payment = _create_payment(uow, order, _actor(payload.get("actor")))
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
        status=domain.initial_status(method), currency=order["currency"], amount=domain.money(order["total"]),
        captured_amount=domain.ZERO, refunded_amount=domain.ZERO, order_status=order["status"], dunning_level=0,
        sequence=0, reconcile_checks=0, version=1, created_at=now, updated_at=now, status_changed_at=now)
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
    result = adapters[provider].create_payment(reference, amount, currency, key=f"oms-payment-{reference}")
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        if not payment.psp_reference:
            payment.psp_reference = result["psp_reference"]
            _touch(payment)
            _audit(uow.session, reference, SYSTEM, "psp_payment_opened",
                   details={"provider": provider, "psp_reference": result["psp_reference"]})
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
            _audit(uow.session, payment.order_reference, _actor(payload.get("actor")), "dunning_level_changed",
                   reason=payload.get("reason"), details={"from": previous, "to": level, "notify": payload["notify"]})
        _touch(payment)
        uow.commit()
        return True


def order_cancelled(source, adapters, event):
    """Voids a payment not yet captured, refunds a captured one, closes an unpaid invoice."""
    payload = load(OrderEventSchema(), event)
    reference = payload["order"]["reference"]
    actor = _actor(payload.get("actor"))
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
            amount = domain.refundable(payment.captured_amount, payment.refunded_amount)
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
        verified = adapter.verify_webhook(headers, event)
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
    actor = _actor(actor)
    with source.unit_of_work() as uow:
        row = uow.session.execute(
            select(WebhookInbox).where(WebhookInbox.id == int(inbox_id)).with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No stored webhook {inbox_id}.")
        if row.status not in ("failed", "ignored", "waiting"):
            raise Conflict(f"The webhook is '{row.status}'; only failed, ignored or waiting ones are replayed.")
        previous = row.status
        row.status, row.attempts, row.next_attempt_at, row.processed_at = "received", 0, None, None
        row.note = f"replayed by {actor['name']} (was {previous})"
        uow.commit()
        return InboxSchema().dump(row)


def sweep_inbox(source, adapters, limit=100):
    """'waiting' rows whose order appeared meanwhile (a race with the payment's creation)."""
    done = 0
    with source.unit_of_work() as uow:
        rows = uow.session.execute(
            select(WebhookInbox).where(WebhookInbox.status == "waiting")
            .order_by(WebhookInbox.id).limit(limit).with_for_update(skip_locked=True)
        ).scalars().all()
        for row in rows:
            if _find_payment(uow.session, row.order_reference, row.psp_reference, lock=False) is None:
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
        .order_by(WebhookInbox.id).with_for_update(skip_locked=True)
    ).scalars().all()
    for row in rows:
        _process_row(uow, row, adapters, payment)


def _process_row(uow, row, adapters, payment=None):
    update = adapters[row.provider].parse_event(json.loads(row.body))
    row.processed_at = utcnow()
    if update is None:
        row.status, row.note = "ignored", f"'{row.event_type}' does not change a payment."
        return row.status
    reference = update.order_reference or row.order_reference
    psp_reference = update.psp_reference or row.psp_reference
    if payment is None:
        payment = _find_payment(uow.session, reference, None if reference else psp_reference)
    if payment is None:
        if not reference and not psp_reference:
            row.status, row.note = "ignored", "The event names no order."
        else:
            row.status, row.note = "waiting", "The order is not known yet; applied when it appears."
        return row.status
    label = f"{row.provider} {row.event_type} {row.provider_event_id}"
    changed, note = apply_psp_update(uow, payment, update, psp_actor(row.provider), label)
    row.status, row.note = ("applied" if changed else "ignored"), note
    return row.status


def apply_psp_update(uow, payment, update, actor, label):
    """(changed, note). Forward moves only; anything else is recorded in the audit and ignored."""
    session = uow.session
    if update.currency and update.currency.upper() != payment.currency:
        _audit(session, payment.order_reference, actor, "psp_event_ignored", payment.status, update.status,
               reason=f"Currency {update.currency} does not match {payment.currency}.", details={"event": label})
        return False, "currency mismatch"
    if update.psp_reference and not payment.psp_reference:
        payment.psp_reference = update.psp_reference
    if isinstance(update.detail, dict):
        payment.psp_capture_id = payment.psp_capture_id or update.detail.get("capture_id")
        payment.psp_authorization_id = payment.psp_authorization_id or update.detail.get("authorization_id")
    refunded_total = update.refunded_total
    new_refund = None
    if update.refund_id:
        if any(refund.psp_refund_id == update.refund_id for refund in payment.refunds):
            refunded_total = None
        else:
            refunded_total = domain.money(payment.refunded_amount) + domain.money(update.refund_amount)
            new_refund = (update.refund_id, domain.money(update.refund_amount))
    effective = domain.PspUpdate(order_reference=payment.order_reference, status=update.status,
                                 captured=update.captured, refunded_total=refunded_total)
    decision = domain.decide(payment.status, payment.captured_amount, payment.refunded_amount, effective)
    if decision.ignored:
        _audit(session, payment.order_reference, actor, "psp_event_ignored", payment.status, update.status,
               reason=decision.ignored, details={"event": label})
        return False, decision.ignored
    grown = decision.refunded - domain.money(payment.refunded_amount)
    if grown > 0:
        refund_id, amount = new_refund or (None, grown)
        payment.refunds.append(Refund(kind="refund", psp_refund_id=refund_id, amount=amount, status="succeeded",
                                      reason="Reported by the PSP.", actor=actor["name"], created_at=utcnow()))
    payment.captured_amount = decision.captured
    payment.refunded_amount = decision.refunded
    if decision.status == "failed":
        payment.failure_reason = update.detail if isinstance(update.detail, str) else "The PSP reported a failure."
    _set_status(uow, payment, decision.status, actor, reason=f"PSP: {label}", action="psp_update",
                details={"event": label, "captured": str(decision.captured), "refunded": str(decision.refunded)})
    return True, f"{decision.status}"


# ---------------------------------------------------------------- staff operations (S9, S11, S13)

def set_payment_status(source, reference, data, actor=None):
    """Manual bookkeeping: unpaid → announced → paid (S13)."""
    payload = load(ManualStatusSchema(), data)
    actor = _actor(actor)
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
    actor = _actor(actor)
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
    actor = _actor(actor)
    with source.unit_of_work() as uow:
        payment = _lock_payment(uow.session, reference)
        try:
            action, amount = domain.plan_refund(payment.provider, payment.status, payment.captured_amount,
                                                payment.refunded_amount, payload.get("amount"))
        except domain.InvalidAmount as error:
            raise ValidationFailed(str(error), {error.field: [str(error)]}) from None
        except domain.DomainError as error:
            raise Conflict(str(error)) from None
        if action == "void":
            _void(uow, adapters, payment, actor, payload.get("reason"), key=f"oms-void-{reference}")
        else:
            count = sum(1 for refund in payment.refunds if refund.kind == "refund")
            key = f"oms-refund-{reference}-{count + 1}-{domain.to_minor(amount, payment.currency)}"
            _refund(uow, adapters, payment, amount, actor, payload.get("reason"), key)
        result = payment_view(payment)
        uow.commit()
        return result


def _void(uow, adapters, payment, actor, reason, key):
    try:
        result = adapters[payment.provider].void(payment, key)
    except PspError as error:
        raise _psp_problem(error) from None
    payment.refunds.append(Refund(kind="void", amount=domain.ZERO, status=str(result.get("status")),
                                  reason=reason, actor=actor["name"], created_at=utcnow()))
    _set_status(uow, payment, "voided", actor, reason, action="voided", details={"psp": result})


def _refund(uow, adapters, payment, amount, actor, reason, key):
    try:
        result = adapters[payment.provider].refund(payment, amount, key, reason)
    except PspError as error:
        raise _psp_problem(error) from None
    if any(refund.psp_refund_id == result["refund_id"] for refund in payment.refunds):
        return  # the PSP replayed a refund we have already recorded
    payment.refunds.append(Refund(kind="refund", psp_refund_id=result["refund_id"], amount=amount,
                                  status=result.get("status") or "pending", reason=reason, actor=actor["name"],
                                  created_at=utcnow()))
    payment.refunded_amount = domain.money(payment.refunded_amount) + amount
    target = domain.status_after_refunds(payment.captured_amount, payment.refunded_amount)
    _set_status(uow, payment, target, actor, reason, action="refunded",
                details={"amount": str(amount), "psp_refund_id": result["refund_id"]})


def request_dunning(source, reference, data, actor, change_order_status):
    """Dunning level 1/2 (S3, S11): the order status moves through the orders service, whose
    order_status_changed (with ``notify``) makes notifications send the reminder."""
    payload = load(DunningSchema(), data)
    actor = _actor(actor)
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
    summary = {"checked": 0, "completed": [], "still_pending": [], "errors": []}
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
            if update is not None and update.status:
                changed, _ = apply_psp_update(uow, payment, update, RECONCILER,
                                              f"{provider} reconciliation {psp_reference} ({psp_status})")
            uow.commit()
        (summary["completed"] if changed else summary["still_pending"]).append(reference)
    return summary
