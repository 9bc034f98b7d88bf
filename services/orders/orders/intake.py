"""Use cases of an order coming in: create (with its Idempotency-Key), the open order's lines, submit.

An open order (a cart, S14) belongs to the session it was created for; only that session changes
its lines or submits it. A submitted order gets its invoice number inside COMMIT (``sequences``).
"""

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oms_common.db import SessionSource, utcnow
from oms_common.problems import Conflict, ValidationFailed, load
from oms_contracts.actors import load_actor
from oms_contracts.amounts import amount_place_errors, line_amounts
from oms_contracts.events import stamp
from oms_contracts.orders.inputs import CreateOrderSchema, ReplaceLinesSchema, SessionSchema

from . import domain, money, sequences, tax
from .changes import Actor, Answer, Data, audit, changing, dump_order, event_payload
from .counts import count
from .models import Customer, IdempotencyKey, Order, OrderLine
from .units import session_of

MAX_IDEMPOTENCY_KEY = 200  # the column's width


def _request_hash(data):
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def create_order(
    source: SessionSource,
    data: Data,
    actor: Actor | None = None,
    idempotency_key: str | None = None,
    tax_settings: tax.TaxSettings | None = None,
) -> tuple[Answer, bool]:
    """Returns (order, replayed): a retried request with the same key gets the first order back."""
    payload = load(CreateOrderSchema(), data)
    payload["tax"] = tax_settings or tax.TaxSettings()
    supplied_on = tax.supply_date(utcnow(), payload["tax"].timezone)
    _check_tax_rates(payload["lines"], payload["tax"].country, supplied_on)
    actor = load_actor(actor)
    if idempotency_key and len(str(idempotency_key)) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(
            "The Idempotency-Key is too long.", {"Idempotency-Key": [f"Use 1 to {MAX_IDEMPOTENCY_KEY} characters."]}
        )
    request_hash = _request_hash(data)
    if idempotency_key:
        replay = _replayed_order(source, idempotency_key, request_hash)
        if replay is not None:
            return replay, True
    try:
        with source.unit_of_work() as uow:
            order, invoice_pending = _create(uow, payload, actor)
            if idempotency_key:
                uow.session.add(
                    IdempotencyKey(
                        key=idempotency_key, request_hash=request_hash, reference=order.reference, created_at=utcnow()
                    )
                )
            result = dump_order(order)
            uow.commit()
            if invoice_pending:
                result["invoice_number"] = sequences.issued_invoice_number(uow.session, order)
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
            raise Conflict(
                "This Idempotency-Key was used with a different request body.",
                {"Idempotency-Key": ["Already used for another request."]},
            )
        order = session.execute(select(Order).where(Order.reference == stored.reference)).scalar_one()
        return dump_order(order)


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
        select(Customer)
        .where(Customer.email == email, Customer.merged_into_id.is_(None))
        .order_by(Customer.id)
        .limit(1)
        .with_for_update(read=True)
    ).scalar_one_or_none()
    if customer is None:
        now = utcnow()
        customer = Customer(
            email=email,
            first_name=given["first_name"],
            last_name=given["last_name"],
            language=given["language"],
            created_at=now,
            updated_at=now,
        )
        session.add(customer)
        session.flush()
    return customer


def _build_lines(lines):
    return [
        OrderLine(
            position=index,
            article_number=line["article_number"],
            name=line["name"],
            quantity=line["quantity"],
            unit_price=money.money(line["unit_price"]),
            line_total=money.line_total(line["quantity"], line["unit_price"]),
        )
        for index, line in enumerate(lines, start=1)
    ]


def _create(uow, payload, actor):
    session = uow.session
    customer = _resolve_customer(session, payload)
    now = utcnow()
    subtotal, total = money.order_totals(
        [(line["quantity"], line["unit_price"]) for line in payload["lines"]], payload["shipping_cost"]
    )
    submit = payload["submit"]
    status = domain.status_after_submit(payload["payment_method"]) if submit else "open"
    payment_status = domain.initial_payment_status(payload["payment_method"])
    order = Order(
        reference=str(sequences.next_reference(session)),
        customer_id=customer.id,
        customer_email=customer.email,
        customer_name=f"{customer.first_name} {customer.last_name}".strip(),
        language=customer.language,
        status=status,
        payment_status=payment_status,
        payment_status_rank=domain.PAYMENT_STATUS_RANK[payment_status],
        payment_method=payload["payment_method"],
        currency=payload["currency"],
        subtotal=subtotal,
        shipping_cost=money.money(payload["shipping_cost"]),
        total=total,
        billing_address=payload["billing_address"],
        shipping_address=payload["shipping_address"],
        session_id=payload.get("session_id"),
        paused=False,
        version=1,
        created_at=now,
        updated_at=now,
        submitted_at=now if submit else None,
        lines=_build_lines(payload["lines"]),
    )
    tax.apply_to_order(
        order,
        [line.get("tax_rate") for line in payload["lines"]],
        payload["tax"],
        tax.supply_date(now, payload["tax"].timezone),
    )
    session.add(order)
    session.flush()
    count(session, order.status, order.payment_status, 1)
    placeholder = sequences.invoice_placeholder(session, order) if submit else None
    audit(
        session, order, actor, "created", None, status, details={"invoice_number": placeholder} if placeholder else None
    )
    events = [uow.emit("order_created", stamp("order_created", event_payload(order, actor, placeholder)))]
    if submit:
        events.append(uow.emit("order_submitted", stamp("order_submitted", event_payload(order, actor, placeholder))))
    if placeholder:
        sequences.request_invoice_number(session, order, events)
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


def replace_lines(source: SessionSource, reference: str, data: Data, actor: Actor | None = None) -> Answer:
    payload = load(ReplaceLinesSchema(), data)
    with changing(source, reference, payload.get("version"), actor) as change:
        order = change.order
        domain.check_session_may_edit(order.status, order.session_id, order.paused, payload["session_id"])
        errors = amount_place_errors(line_amounts(payload["lines"]), order.currency)
        if errors:
            raise ValidationFailed(f"Invalid input: {', '.join(sorted(errors))}", errors)
        before = [(line.article_number, line.quantity) for line in order.lines]
        order.lines = _build_lines(payload["lines"])
        order.subtotal, order.total = money.order_totals(
            [(line["quantity"], line["unit_price"]) for line in payload["lines"]], order.shipping_cost
        )
        _retax(order, payload["lines"])
        session_of(change.unit).flush()
        change.record(
            "lines_replaced",
            details={
                "session_id": payload["session_id"],
                "before": before,
                "after": [(line.article_number, line.quantity) for line in order.lines],
            },
        )
    return change.answer


def submit_order(source: SessionSource, reference: str, data: Data, actor: Actor | None = None) -> Answer:
    payload = load(SessionSchema(), data)
    with changing(source, reference, payload.get("version"), actor) as change:
        order = change.order
        domain.check_session_may_edit(
            order.status, order.session_id, order.paused, payload["session_id"], action="submitted"
        )
        previous = domain.move(order, domain.status_after_submit(order.payment_method), through="submit")
        order.submitted_at = utcnow()
        placeholder = sequences.invoice_placeholder(session_of(change.unit), order)
        # the count rows now, the invoice sequence inside COMMIT: the same lock order as create
        change.record(
            "submitted",
            previous,
            order.status,
            invoice_placeholder=placeholder,
            events={
                "order_submitted": {},
                "order_status_changed": {"from_status": previous, "to_status": order.status, "notify": False},
            },
        )
    return change.answer
