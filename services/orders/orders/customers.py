"""Use cases of an order's customer (S15): give an order to another customer, merge duplicates."""

from sqlalchemy import select

from oms_common.db import SessionSource, utcnow
from oms_common.problems import NotFound, ValidationFailed, load
from oms_contracts.actors import load_actor
from oms_contracts.customers import customer_number, parse_customer_ref
from oms_contracts.events import stamp
from oms_contracts.orders.inputs import MergeCustomersSchema, ReassignCustomerSchema

from . import domain
from .changes import Actor, Answer, Data, OrderChange, changing, customer_record, refusals
from .models import Customer, Order
from .units import SqlOrderUnit, session_of


def _active_customer(session, customer_id, field):
    customer = session.get(Customer, customer_id)
    if customer is None or customer.merged_into_id is not None:
        raise ValidationFailed("Unknown customer.", {field: ["No such customer (or merged into another)."]})
    return customer


def _customer_facts(customer):
    return {
        "id": customer.id,
        "customer_number": customer.customer_number,
        "email": customer.email,
        "name": f"{customer.first_name} {customer.last_name}".strip(),
    }


def _move_to_customer(order, customer):
    """The order now belongs to ``customer``: its customer e-mail and name follow (answers, lists
    and later e-mails name the new customer); addresses, language and invoice stay as they were.
    Returns the customer before, for the history entry."""
    before = {
        "id": order.customer_id,
        "customer_number": customer_number(order.customer_id),
        "email": order.customer_email,
        "name": order.customer_name,
    }
    order.customer_id = customer.id
    order.customer_email = customer.email
    order.customer_name = f"{customer.first_name} {customer.last_name}".strip()
    return before


def reassign_customer(source: SessionSource, reference: str, data: Data, actor: Actor | None = None) -> Answer:
    """Gives the order to another customer (a wrong account, a guest who registered)."""
    payload = load(ReassignCustomerSchema(), data)
    with changing(source, reference, payload.get("version"), actor) as change:
        customer = _active_customer(session_of(change.unit), payload["customer_id"], "customer_id")
        domain.check_reassign(change.order.customer_id, customer.id)
        before = _move_to_customer(change.order, customer)
        change.record(
            "customer_reassigned",
            reason=payload.get("reason"),
            details={
                "from": before["id"],
                "to": customer.id,
                "from_customer": before,
                "to_customer": _customer_facts(customer),
            },
        )
    return change.answer


def merge_customers(source: SessionSource, customer_id: int | str, data: Data, actor: Actor | None = None) -> Answer:
    """Moves every order of a duplicate customer to the one kept, then retires the duplicate."""
    payload = load(MergeCustomersSchema(), data)
    actor = load_actor(actor)
    duplicate_id = parse_customer_ref(customer_id)
    if duplicate_id is None:
        raise NotFound(f"No customer with id {customer_id!r}.")
    with refusals():
        domain.check_merge(duplicate_id, payload["into"])
    with source.unit_of_work() as uow, refusals():
        session = uow.session
        # both customer rows in id order: two opposite merges wait instead of deadlocking
        locked = {
            c.id: c
            for c in session.execute(
                select(Customer)
                .where(Customer.id.in_((duplicate_id, payload["into"])))
                .order_by(Customer.id)
                .with_for_update()
            ).scalars()
        }
        duplicate = locked.get(duplicate_id)
        if duplicate is None:
            raise NotFound(f"No customer with id {duplicate_id}.")
        domain.check_mergeable(duplicate_id, duplicate.merged_into_id)
        kept = locked.get(payload["into"])
        if kept is None:
            raise ValidationFailed("Unknown customer.", {"into": ["No such customer."]})
        domain.check_takes_orders(kept.id, kept.merged_into_id)
        orders = (
            session.execute(select(Order).where(Order.customer_id == duplicate_id).order_by(Order.id).with_for_update())
            .scalars()
            .all()
        )
        for order in orders:
            _move_to_customer(order, kept)
            OrderChange(SqlOrderUnit(uow), order, actor).record(
                "customer_merged", reason=payload.get("reason"), details={"from": duplicate_id, "to": kept.id}
            )
        duplicate.merged_into_id = kept.id
        duplicate.updated_at = utcnow()
        uow.emit(
            "customers_merged",
            stamp(
                "customers_merged",
                {
                    "customer_id": duplicate_id,
                    "into": kept.id,
                    "orders_moved": len(orders),
                    "customer": customer_record(duplicate),
                    "actor": actor,
                },
            ),
        )
        uow.commit()
        return {"customer_id": duplicate_id, "into": kept.id, "orders_moved": len(orders)}
