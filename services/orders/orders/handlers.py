"""Use cases of the orders service: each one a unit of work over the domain rules.

Every change locks the order row (``FOR UPDATE``), checks the caller's ``version`` when
given, records an audit entry, keeps the per-status counts in step and writes its events to
the outbox in the same transaction. Locks are always taken in one order — customer rows,
order rows, count rows, the invoice number sequence — so that concurrent use cases wait for
each other instead of deadlocking. The invoice sequence row is the one lock every submitted
order needs: it is taken inside COMMIT (migration 0005), so creations queue behind each
other only for the length of a commit, never for the service's own round trips. References
come from a PostgreSQL sequence (no lock).
"""
import hashlib
import json

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from oms_common.audit import audit_columns
from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ServiceUnavailable, ValidationFailed, load
from oms_contracts.actors import load_actor
from oms_contracts.customers import customer_number, parse_customer_ref

from . import domain, money, numbering_rules, tax
from .models import (
    Customer, IdempotencyKey, InvoiceNumberRequest, NumberSequence, Order, OrderHistory, OrderLine,
)
from .schemas.answers import OrderSchema
from .schemas.inputs import (
    BulkStatusSchema, CancelSchema, CreateOrderSchema, InvoiceNumberSchema, MergeCustomersSchema,
    NumberingSchema, PaymentStatusEventSchema, ReassignCustomerSchema, ReplaceLinesSchema,
    SessionSchema, ShipSchema, StatusChangeSchema,
)

_order_dump = OrderSchema()
MAX_IDEMPOTENCY_KEY = 200  # the column's width


def as_problem(error):
    """The domain's refusals, as the problems callers understand."""
    return Conflict(str(error), error.errors)


def _lock_order(session, reference):
    order = session.execute(
        select(Order).where(Order.reference == str(reference)).with_for_update()
    ).scalar_one_or_none()
    if order is None:
        raise NotFound(f"No order with reference '{reference}'.")
    return order


def _check_version(order, expected):
    if expected is not None and expected != order.version:
        raise Conflict(
            f"The order was changed meanwhile (version {order.version}, you had {expected}); reload and retry.",
            {"version": [f"Current version is {order.version}."]},
        )


def _audit(session, order, actor, action, from_status=None, to_status=None, reason=None, details=None):
    session.add(OrderHistory(order_id=order.id, action=action, from_status=from_status, to_status=to_status,
                             reason=reason, details=details, **audit_columns(actor)))


COUNT_SHARDS = 64
# An upsert (two transactions creating the first row of a pair must not collide) into this
# connection's own shard: a connection runs one transaction at a time, so concurrent creations
# add to different rows instead of queueing for the one (new, unpaid) row. Plain SQL: SQLAlchemy
# does not cache the compiled form of INSERT … ON CONFLICT.
_COUNT = text(
    "INSERT INTO order_counts (status, payment_status, shard, count)"
    f" VALUES (:status, :payment_status, pg_backend_pid() % {COUNT_SHARDS}, :delta)"
    " ON CONFLICT (status, payment_status, shard) DO UPDATE SET count = order_counts.count + EXCLUDED.count")


def _count(session, status, payment_status, delta):
    session.execute(_COUNT, {"status": status, "payment_status": payment_status, "delta": delta})


def _move_count(session, order, new_status=None, new_payment_status=None):
    old_key = (order.status, order.payment_status)
    new_key = (new_status or order.status, new_payment_status or order.payment_status)
    if old_key == new_key:
        return
    # rows in a fixed order, so that opposite moves running at once cannot deadlock
    for key, delta in sorted([(old_key, -1), (new_key, 1)]):
        _count(session, *key, delta)


def _locked_sequence(session, name):
    # populate_existing: a row read earlier in this session must not hide what the lock sees
    return session.execute(
        select(NumberSequence).where(NumberSequence.name == name)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


_NEXT_REFERENCE = text("SELECT nextval('order_reference_seq')")
_REFERENCE_POSITION = text("SELECT last_value, is_called FROM order_reference_seq")


def _next_reference(session):
    """Unique and increasing, with no lock held to commit; a creation that rolls back leaves
    a gap in the references (harmless: they are not legal records like invoice numbers)."""
    return session.execute(_NEXT_REFERENCE).scalar_one()


def _reference_position(session, reference_row):
    """(last reference issued, next one) as the sequence stands."""
    last_value, is_called = session.execute(_REFERENCE_POSITION).one()
    return numbering_rules.sequence_position(last_value, is_called, reference_row.last_issued)


def _invoice_placeholder(session, order):
    """What the order's events and audit entry say instead of the invoice number until the
    commit issues it (migration 0005); None when generation is switched off (S8). The unlocked
    read of ``enabled`` only decides whether to ask: the commit checks it again under the lock."""
    if not session.get(NumberSequence, "invoice").enabled:
        return None
    return f"@@oms-invoice-number:{order.id}@@"


def _request_invoice_number(session, order, events):
    """The number is issued inside COMMIT, under the invoice row lock: gapless and unique, and
    the lock is never held while this service works. ``events`` get the number written in."""
    session.add(InvoiceNumberRequest(order_id=order.id, event_ids=[event["event_id"] for event in events]))


def _issued_invoice_number(session, order):
    """After the commit: the number the commit gave the order."""
    return session.execute(select(Order.invoice_number).where(Order.id == order.id)).scalar_one()


def _touch(order):
    order.version += 1
    order.updated_at = utcnow()


def customer_record(customer):
    """The customer as this service keeps it (an order's own ``customer`` is the e-mail and name it
    was placed with): what read copies of customers, like the exports', take over as it is."""
    return {"id": customer.id, "email": customer.email,
            "name": f"{customer.first_name} {customer.last_name}".strip(), "language": customer.language,
            "merged_into": customer.merged_into_id, "updated_at": customer.updated_at.isoformat()}


def _event(order, actor, invoice_placeholder=None, **extra):
    payload = {"order": _order_dump.dump(order), "actor": actor}
    if invoice_placeholder:
        payload["order"]["invoice_number"] = invoice_placeholder
    session = object_session(order)
    customer = session.get(Customer, order.customer_id) if session is not None else None
    if customer is not None:
        payload["customer"] = customer_record(customer)
    payload.update(extra)
    return payload


def _request_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------- creation

def create_order(source, data, actor=None, idempotency_key=None, tax_settings=None):
    """Returns (order, replayed): a retried request with the same key gets the first order back."""
    payload = load(CreateOrderSchema(), data)
    payload["tax"] = tax_settings or tax.TaxSettings()
    supplied_on = tax.supply_date(utcnow(), payload["tax"].timezone)
    _check_tax_rates(payload["lines"], payload["tax"].country, supplied_on)
    actor = load_actor(actor)
    if idempotency_key and len(str(idempotency_key)) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed("The Idempotency-Key is too long.",
                               {"Idempotency-Key": [f"Use 1 to {MAX_IDEMPOTENCY_KEY} characters."]})
    request_hash = _request_hash(data)
    if idempotency_key:
        replay = _replayed_order(source, idempotency_key, request_hash)
        if replay is not None:
            return replay, True
    try:
        with source.unit_of_work() as uow:
            order, invoice_pending = _create(uow, payload, actor)
            if idempotency_key:
                uow.session.add(IdempotencyKey(
                    key=idempotency_key, request_hash=request_hash, reference=order.reference, created_at=utcnow()))
            result = _order_dump.dump(order)
            uow.commit()
            if invoice_pending:
                result["invoice_number"] = _issued_invoice_number(uow.session, order)
            return result, False
    except IntegrityError:
        if idempotency_key:
            replay = _replayed_order(source, idempotency_key, request_hash)
            if replay is not None:
                return replay, True
        raise


def _replayed_order(source, key, request_hash):
    with source.read_session() as session:
        stored = session.get(IdempotencyKey, key)
        if stored is None:
            return None
        if stored.request_hash != request_hash:
            raise Conflict("This Idempotency-Key was used with a different request body.",
                           {"Idempotency-Key": ["Already used for another request."]})
        order = session.execute(select(Order).where(Order.reference == stored.reference)).scalar_one()
        return _order_dump.dump(order)


def _resolve_customer(session, payload):
    # FOR SHARE: a merge running at the same time waits, so no order lands on a retired customer
    if "customer_id" in payload:
        customer = session.execute(
            select(Customer).where(Customer.id == payload["customer_id"]).with_for_update(read=True)
        ).scalar_one_or_none()
        if customer is None or customer.merged_into_id is not None:
            raise ValidationFailed("Unknown customer.", {"customer_id": ["No such customer."]})
        return customer
    given = payload["customer"]
    email = given["email"].strip().lower()
    customer = session.execute(
        select(Customer).where(Customer.email == email, Customer.merged_into_id.is_(None)).order_by(Customer.id)
        .limit(1).with_for_update(read=True)
    ).scalar_one_or_none()
    if customer is None:
        now = utcnow()
        customer = Customer(email=email, first_name=given["first_name"], last_name=given["last_name"],
                            language=given["language"], created_at=now, updated_at=now)
        session.add(customer)
        session.flush()
    return customer


def _build_lines(lines):
    return [
        OrderLine(position=index, article_number=line["article_number"], name=line["name"],
                  quantity=line["quantity"], unit_price=money.money(line["unit_price"]),
                  line_total=money.line_total(line["quantity"], line["unit_price"]))
        for index, line in enumerate(lines, start=1)
    ]


def _create(uow, payload, actor):
    session = uow.session
    customer = _resolve_customer(session, payload)
    now = utcnow()
    subtotal, total = money.order_totals(
        [(line["quantity"], line["unit_price"]) for line in payload["lines"]], payload["shipping_cost"])
    submit = payload["submit"]
    status = domain.status_after_submit(payload["payment_method"]) if submit else "open"
    payment_status = domain.initial_payment_status(payload["payment_method"])
    reference_number = _next_reference(session)
    order = Order(
        reference=str(reference_number), customer_id=customer.id, customer_email=customer.email,
        customer_name=f"{customer.first_name} {customer.last_name}".strip(), language=customer.language,
        status=status, payment_status=payment_status,
        payment_status_rank=domain.PAYMENT_STATUS_RANK[payment_status],
        payment_method=payload["payment_method"], currency=payload["currency"],
        subtotal=subtotal, shipping_cost=money.money(payload["shipping_cost"]), total=total,
        billing_address=payload["billing_address"], shipping_address=payload["shipping_address"],
        session_id=payload.get("session_id"), paused=False, version=1,
        created_at=now, updated_at=now, submitted_at=now if submit else None,
        lines=_build_lines(payload["lines"]),
    )
    tax.apply_to_order(order, [line.get("tax_rate") for line in payload["lines"]], payload["tax"],
                       tax.supply_date(now, payload["tax"].timezone))
    session.add(order)
    session.flush()
    _count(session, order.status, order.payment_status, 1)
    placeholder = _invoice_placeholder(session, order) if submit else None
    _audit(session, order, actor, "created", None, status,
           details={"invoice_number": placeholder} if placeholder else None)
    events = [uow.emit("order_created", _event(order, actor, placeholder))]
    if submit:
        events.append(uow.emit("order_submitted", _event(order, actor, placeholder)))
    if placeholder:
        _request_invoice_number(session, order, events)
    return order, bool(placeholder)


def _check_tax_rates(lines, country, on_date):
    errors = tax.rate_errors(lines, country, on_date)
    if errors:
        raise ValidationFailed(f"Invalid input: {', '.join(sorted(errors))}", errors)


def _retax(order, lines):
    """New lines of an open order get their rates on today's table, with the order's own basis."""
    if order.prices_include_tax is None:
        return  # placed before rates were kept: stays without
    settings = tax.TaxSettings(order.tax_country, "gross" if order.prices_include_tax else "net")
    today = tax.supply_date(utcnow(), settings.timezone)
    _check_tax_rates(lines, settings.country, today)
    tax.apply_to_order(order, [line.get("tax_rate") for line in lines], settings, today)


# ---------------------------------------------------------------- open orders

def replace_lines(source, reference, data, actor=None):
    payload = load(ReplaceLinesSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        order = _lock_order(uow.session, reference)
        _check_version(order, payload.get("version"))
        try:
            domain.check_session_may_edit(order.status, order.session_id, order.paused, payload["session_id"])
        except domain.DomainError as error:
            raise as_problem(error) from None
        errors = money.amount_place_errors(money.line_amounts(payload["lines"]), order.currency)
        if errors:
            raise ValidationFailed(f"Invalid input: {', '.join(sorted(errors))}", errors)
        before = [(line.article_number, line.quantity) for line in order.lines]
        order.lines = _build_lines(payload["lines"])
        order.subtotal, order.total = money.order_totals(
            [(line["quantity"], line["unit_price"]) for line in payload["lines"]], order.shipping_cost)
        _retax(order, payload["lines"])
        _touch(order)
        uow.session.flush()
        _audit(uow.session, order, actor, "lines_replaced", details={
            "session_id": payload["session_id"], "before": before,
            "after": [(line.article_number, line.quantity) for line in order.lines]})
        uow.emit("order_updated", _event(order, actor))
        result = _order_dump.dump(order)
        uow.commit()
        return result


def submit_order(source, reference, data, actor=None):
    payload = load(SessionSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        order = _lock_order(uow.session, reference)
        _check_version(order, payload.get("version"))
        try:
            domain.check_session_may_edit(order.status, order.session_id, order.paused, payload["session_id"],
                                          action="submitted")
        except domain.DomainError as error:
            raise as_problem(error) from None
        target = domain.status_after_submit(order.payment_method)
        # the count rows now, the invoice sequence inside COMMIT: the same lock order as create
        _move_count(uow.session, order, new_status=target)  # a refused move rolls this back
        try:
            previous = domain.move(order, target, through="submit")
        except domain.DomainError as error:
            raise as_problem(error) from None
        order.submitted_at = utcnow()
        _touch(order)
        placeholder = _invoice_placeholder(uow.session, order)
        _audit(uow.session, order, actor, "submitted", previous, target)
        events = [uow.emit("order_submitted", _event(order, actor, placeholder)),
                  uow.emit("order_status_changed", _event(order, actor, placeholder, from_status=previous,
                                                          to_status=target, notify=False))]
        if placeholder:
            _request_invoice_number(uow.session, order, events)
        result = _order_dump.dump(order)
        uow.commit()
        if placeholder:
            result["invoice_number"] = _issued_invoice_number(uow.session, order)
        return result


def pause_order(source, reference, data, actor=None):
    data = load(SessionSchema(partial=("session_id",)), data or {})
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        order = _lock_order(uow.session, reference)
        _check_version(order, data.get("version"))
        try:
            previous_session = domain.pause(order)
        except domain.DomainError as error:
            raise as_problem(error) from None
        _touch(order)
        _audit(uow.session, order, actor, "paused", details={"session_id": previous_session})
        uow.emit("order_updated", _event(order, actor))
        result = _order_dump.dump(order)
        uow.commit()
        return result


def assign_order(source, reference, data, actor=None):
    payload = load(SessionSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        order = _lock_order(uow.session, reference)
        _check_version(order, payload.get("version"))
        try:
            domain.assign(order, payload["session_id"])
        except domain.DomainError as error:
            raise as_problem(error) from None
        _touch(order)
        _audit(uow.session, order, actor, "assigned", details={"session_id": payload["session_id"]})
        uow.emit("order_updated", _event(order, actor))
        result = _order_dump.dump(order)
        uow.commit()
        return result


# ---------------------------------------------------------------- expired open orders (S14)

CLEANUP_ACTOR = {"name": "system", "kind": "system", "role": None, "origin": "open-order cleanup"}


def cancel_expired_open_orders(source, ttl_seconds, batch_size=100, now=None):
    """Cancels open, not paused orders nobody touched for ``ttl_seconds`` (their session is
    gone); returns the references cancelled. Paused orders are kept.

    Each batch is one transaction: its orders are locked with ``FOR UPDATE SKIP LOCKED``, so
    several replicas sweeping at once split the work instead of cancelling an order twice, and
    an order someone is changing right now is left alone (and no longer expired once they
    commit: the lock re-reads the row). Each cancellation is an ordinary status change: audited
    with the system as actor, counted, announced through the outbox.
    """
    now = now or utcnow()
    cutoff = domain.open_order_expiry_cutoff(now, ttl_seconds)
    if cutoff is None:
        return []
    cancelled = []
    while True:
        with source.unit_of_work() as uow:
            candidates = uow.session.execute(
                select(Order)
                .where(Order.status == "open", Order.paused.is_(False), Order.updated_at <= cutoff)
                .order_by(Order.updated_at, Order.id).limit(batch_size)
                .with_for_update(skip_locked=True)
            ).scalars().all()
            batch = []
            for order in candidates:
                if domain.open_order_expired(order.status, order.paused, order.updated_at, now, ttl_seconds):
                    _change_status(uow, order, "cancelled", CLEANUP_ACTOR, reason=domain.OPEN_ORDER_EXPIRY_REASON)
                    batch.append(order.reference)
            uow.commit()
        cancelled.extend(batch)
        if len(candidates) < batch_size or not batch:
            return cancelled


# ---------------------------------------------------------------- status changes

def _change_status(uow, order, target, actor, notify=False, reason=None, tracking_number=None, through="status"):
    _move_count(uow.session, order, new_status=target)  # a refused move rolls this back
    try:
        previous = domain.move(order, target, through=through)
    except domain.DomainError as error:
        raise as_problem(error) from None
    if target == "shipped" and tracking_number:
        order.tracking_number = tracking_number
    _touch(order)
    _audit(uow.session, order, actor, "status_changed", previous, target, reason,
           details={"notify": notify, **({"tracking_number": tracking_number} if tracking_number else {})})
    common = {"from_status": previous, "to_status": target, "notify": notify, "reason": reason}
    if target == "shipped":
        uow.emit("order_shipped", _event(order, actor, tracking_number=order.tracking_number, **common))
    elif target == "cancelled":
        uow.emit("order_cancelled", _event(order, actor, **common))
    uow.emit("order_status_changed", _event(order, actor, **common))


def _status_use_case(source, reference, payload, target, actor, capture=None):
    """``capture(reference, actor)``: asks payments to collect the order's authorised money; run
    for a ship, after the order is locked and the move checked, before anything is written. A
    refusal (409) or silence (503) propagates and the order stays as it was."""
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        order = _lock_order(uow.session, reference)
        _check_version(order, payload.get("version"))
        if target == "shipped" and capture is not None and domain.ship_needs_payment_check(
                order.payment_method, order.payment_status):
            try:
                domain.check_transition(order.status, target)
            except domain.DomainError as error:
                raise as_problem(error) from None
            capture(order.reference, actor)
        _change_status(uow, order, target, actor, notify=payload.get("notify", False), reason=payload.get("reason"),
                       tracking_number=payload.get("tracking_number"))
        result = _order_dump.dump(order)
        uow.commit()
        return result


def ship_order(source, reference, data, actor=None, capture=None):
    payload = load(ShipSchema(), data)
    return _status_use_case(source, reference, payload, "shipped", actor, capture)


def cancel_order(source, reference, data, actor=None):
    payload = load(CancelSchema(), data)
    return _status_use_case(source, reference, payload, "cancelled", actor)


def change_status(source, reference, data, actor=None, capture=None):
    payload = load(StatusChangeSchema(), data)
    return _status_use_case(source, reference, payload, payload["status"], actor, capture)


def bulk_change_status(source, data, actor=None, capture=None):
    """Each order is changed (or refused) in its own transaction."""
    payload = load(BulkStatusSchema(), data)
    results = []
    for reference in payload["references"]:
        try:
            order = _status_use_case(source, reference, payload, payload["status"], actor, capture)
            results.append({"reference": reference, "ok": True, "status": order["status"], "version": order["version"]})
        except (Conflict, NotFound, ServiceUnavailable) as problem:
            results.append({"reference": reference, "ok": False, "problem": problem.as_dict()})
    return {"status": payload["status"], "results": results,
            "succeeded": sum(1 for r in results if r["ok"]), "failed": sum(1 for r in results if not r["ok"])}


# ---------------------------------------------------------------- customers (S15)

def _active_customer(session, customer_id, field):
    customer = session.get(Customer, customer_id)
    if customer is None or customer.merged_into_id is not None:
        raise ValidationFailed("Unknown customer.", {field: ["No such customer (or merged into another)."]})
    return customer


def _customer_facts(customer):
    return {"id": customer.id, "customer_number": customer.customer_number, "email": customer.email,
            "name": f"{customer.first_name} {customer.last_name}".strip()}


def _move_to_customer(session, order, customer):
    """The order now belongs to ``customer``: its customer e-mail and name follow (answers, lists
    and later e-mails name the new customer); addresses, language and invoice stay as they were.
    Returns the customer before, for the history entry."""
    before = {"id": order.customer_id, "customer_number": customer_number(order.customer_id),
              "email": order.customer_email, "name": order.customer_name}
    order.customer_id = customer.id
    order.customer_email = customer.email
    order.customer_name = f"{customer.first_name} {customer.last_name}".strip()
    _touch(order)
    return before


def reassign_customer(source, reference, data, actor=None):
    """Gives the order to another customer (a wrong account, a guest who registered)."""
    payload = load(ReassignCustomerSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        order = _lock_order(uow.session, reference)
        _check_version(order, payload.get("version"))
        customer = _active_customer(uow.session, payload["customer_id"], "customer_id")
        try:
            domain.check_reassign(order.customer_id, customer.id)
        except domain.DomainError as error:
            raise as_problem(error) from None
        before = _move_to_customer(uow.session, order, customer)
        _audit(uow.session, order, actor, "customer_reassigned", reason=payload.get("reason"),
               details={"from": before["id"], "to": customer.id, "from_customer": before,
                        "to_customer": _customer_facts(customer)})
        uow.emit("order_updated", _event(order, actor))
        result = _order_dump.dump(order)
        uow.commit()
        return result


def merge_customers(source, customer_id, data, actor=None):
    """Moves every order of a duplicate customer to the one kept, then retires the duplicate."""
    payload = load(MergeCustomersSchema(), data)
    actor = load_actor(actor)
    duplicate_id = parse_customer_ref(customer_id)
    if duplicate_id is None:
        raise NotFound(f"No customer with id {customer_id!r}.")
    try:
        domain.check_merge(duplicate_id, payload["into"])
    except domain.DomainError as error:
        raise as_problem(error) from None
    with source.unit_of_work() as uow:
        session = uow.session
        # both customer rows in id order: two opposite merges wait instead of deadlocking
        locked = {c.id: c for c in session.execute(
            select(Customer).where(Customer.id.in_((duplicate_id, payload["into"])))
            .order_by(Customer.id).with_for_update()).scalars()}
        duplicate = locked.get(duplicate_id)
        if duplicate is None:
            raise NotFound(f"No customer with id {duplicate_id}.")
        kept = locked.get(payload["into"])
        try:
            domain.check_mergeable(duplicate_id, duplicate.merged_into_id)
            if kept is None:
                raise ValidationFailed("Unknown customer.", {"into": ["No such customer."]})
            domain.check_takes_orders(kept.id, kept.merged_into_id)
        except domain.DomainError as error:
            raise as_problem(error) from None
        orders = session.execute(
            select(Order).where(Order.customer_id == duplicate_id).order_by(Order.id).with_for_update()
        ).scalars().all()
        for order in orders:
            _move_to_customer(session, order, kept)
            _audit(session, order, actor, "customer_merged", reason=payload.get("reason"),
                   details={"from": duplicate_id, "to": kept.id})
            uow.emit("order_updated", _event(order, actor))
        duplicate.merged_into_id = kept.id
        duplicate.updated_at = utcnow()
        uow.emit("customers_merged", {"customer_id": duplicate_id, "into": kept.id, "orders_moved": len(orders),
                                      "customer": customer_record(duplicate), "actor": actor})
        uow.commit()
        return {"customer_id": duplicate_id, "into": kept.id, "orders_moved": len(orders)}


# ---------------------------------------------------------------- numbering

def get_numbering(source):
    with source.read_session() as session:
        reference = session.get(NumberSequence, "reference")
        invoice = session.get(NumberSequence, "invoice")
        return _numbering_dump(reference, invoice, _reference_position(session, reference))


def _numbering_dump(reference, invoice, reference_position):
    last_reference, next_reference = reference_position
    return {
        "order_reference_start": reference.start_at,
        "invoice_number_start": invoice.start_at,
        "invoice_prefix": invoice.prefix,
        "invoice_numbers_enabled": invoice.enabled,
        "last_order_reference": last_reference,
        "last_invoice_number": invoice.last_issued,
        "next_order_reference": next_reference,
        "next_invoice_number": numbering_rules.format_invoice_number(
            invoice.prefix, numbering_rules.next_number(invoice.start_at, invoice.last_issued)),
    }


def update_numbering(source, data, actor=None):
    payload = load(NumberingSchema(), data)
    with source.unit_of_work() as uow:
        session = uow.session
        # the reference row (settings) before the invoice row; creations lock only the latter
        sequences = {name: _locked_sequence(session, name) for name in ("reference", "invoice")}
        last_reference, next_reference = _reference_position(session, sequences["reference"])
        last_issued = {"reference": last_reference, "invoice": sequences["invoice"].last_issued}
        for field, name in (("order_reference_start", "reference"), ("invoice_number_start", "invoice")):
            if field in payload and payload[field] != sequences[name].start_at:
                try:
                    numbering_rules.check_new_start(field, payload[field], last_issued[name])
                except numbering_rules.NumberingRefused as error:
                    raise as_problem(error) from None
        if "order_reference_start" in payload:
            sequences["reference"].start_at = payload["order_reference_start"]
        if "invoice_number_start" in payload:
            sequences["invoice"].start_at = payload["invoice_number_start"]
        if "invoice_prefix" in payload:
            sequences["invoice"].prefix = payload["invoice_prefix"]
        if "invoice_numbers_enabled" in payload:
            sequences["invoice"].enabled = payload["invoice_numbers_enabled"]
        moved_to = numbering_rules.moved_sequence_start(sequences["reference"].start_at, next_reference)
        if moved_to is not None:
            sequences["reference"].last_issued = last_reference
            next_reference = moved_to
        result = _numbering_dump(sequences["reference"], sequences["invoice"], (last_reference, next_reference))
        uow.emit("numbering_changed", {"settings": result, "actor": load_actor(actor)})
        if moved_to is not None:
            # setval is not undone by a rollback: the last statement before the commit, after
            # every check. Only ever forward, so no reference can be drawn twice.
            session.flush()
            session.execute(text("SELECT setval('order_reference_seq', :start, false)"), {"start": moved_to})
        uow.commit()
        return result


def set_external_invoice_number(source, reference, data, actor=None):
    payload = load(InvoiceNumberSchema(), data)
    actor = load_actor(actor)
    with source.unit_of_work() as uow:
        order = _lock_order(uow.session, reference)
        invoice = uow.session.get(NumberSequence, "invoice")
        try:
            numbering_rules.check_external_invoice_number(invoice.enabled, order.invoice_number, order.status,
                                                          order.invoice_number_external)
            numbering_rules.check_invoice_number_free(payload["invoice_number"], uow.session.execute(
                select(Order.reference).where(Order.invoice_number == payload["invoice_number"], Order.id != order.id)
            ).scalar_one_or_none())
        except numbering_rules.NumberingRefused as error:
            raise as_problem(error) from None
        previous = order.invoice_number
        order.invoice_number = payload["invoice_number"]
        order.invoice_number_external = True
        _touch(order)
        _audit(uow.session, order, actor, "invoice_number_set", reason=payload.get("reason"),
               details={"from": previous, "to": order.invoice_number})
        uow.emit("order_updated", _event(order, actor))
        result = _order_dump.dump(order)
        try:
            uow.commit()
        except IntegrityError:
            # another order took the same number between our check and our commit
            raise as_problem(numbering_rules.InvoiceNumberTaken(payload["invoice_number"])) from None
        return result


# ---------------------------------------------------------------- payment read copy

CONSUMER_PAYMENT_STATUS = "orders.payment_status_changed"


def apply_payment_status(source, event):
    """Keeps the order's copy of its payment status; moves a paid PSP order on to ``new``."""
    payload = PaymentStatusEventSchema().load(event)
    actor = load_actor(payload.get("actor") or {"name": "payments", "kind": "system"})
    with source.unit_of_work() as uow:
        if not uow.claim_event(payload["event_id"], CONSUMER_PAYMENT_STATUS):
            return False
        order = _lock_order(uow.session, payload["order_reference"])
        if not domain.payment_update_applies(order.payment_status_sequence, payload["sequence"]):
            _audit(uow.session, order, actor, "payment_status_stale", order.payment_status, payload["status"],
                   reason="An older payment update arrived late and was ignored.")
            uow.commit()
            return False
        _move_count(uow.session, order, new_payment_status=payload["status"])
        previous = domain.take_payment_status(order, payload["status"], payload["sequence"])
        _touch(order)
        _audit(uow.session, order, actor, "payment_status_changed", previous, payload["status"], payload.get("reason"))
        next_status = domain.status_after_payment(order.status, payload["status"])
        if next_status:
            _change_status(uow, order, next_status, actor, reason="Payment confirmed.", through="payment")
        uow.commit()
        return True
