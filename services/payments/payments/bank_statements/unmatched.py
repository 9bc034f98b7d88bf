"""Credits staff must look at (unmatched, overpaid, partial) and assigning an unmatched one
to an order by hand, with the same effect as a match found by the import."""

from sqlalchemy import select

from oms_common.problems import Conflict, ValidationFailed, load
from oms_common.row_locks import lock_one_or_404
from oms_contracts.bank_statements import AssignSchema, EntrySchema, UnmatchedQuerySchema

from .. import amounts
from ..changes import payment_view
from ..models import BankStatementEntry
from . import matching
from .booking import bank_actor, book, facts, lock_payments, now


def entry_view(entry):
    view = EntrySchema().dump(entry)
    view["amount"] = str(amounts.shown(entry.amount, entry.currency))
    return view


def list_entries(source, query=None):
    params = load(UnmatchedQuerySchema(), query or {})
    with source.read_session() as session:
        statement = (
            select(BankStatementEntry)
            .where(BankStatementEntry.outcome == params["outcome"])
            .order_by(BankStatementEntry.id.desc())
            .limit(params["limit"])
        )
        if params["before_id"]:
            statement = statement.where(BankStatementEntry.id < params["before_id"])
        items = [entry_view(entry) for entry in session.execute(statement).scalars()]
    return {"outcome": params["outcome"], "items": items, "count": len(items)}


def assign(source, entry_id, data, actor=None):
    """Books the unmatched credit ``entry_id`` on the order named in ``data``."""
    payload = load(AssignSchema(), data)
    actor = bank_actor(actor)
    with source.unit_of_work() as uow:
        entry = lock_one_or_404(
            uow.session,
            BankStatementEntry,
            BankStatementEntry.id == int(entry_id),
            f"No bank statement entry {entry_id}.",
        )
        if entry.reversal:
            raise Conflict("A reversal cannot be assigned to an order.", {"entry": ["A reversal."]})
        if entry.outcome != matching.UNMATCHED:
            raise Conflict(
                f"The credit is '{entry.outcome}' already; only unmatched credits are assigned.",
                {"entry": [f"Outcome {entry.outcome}."]},
            )
        reference = payload["order_reference"]
        payment = lock_payments(uow.session, [reference]).get(reference)
        if payment is None:
            raise ValidationFailed(
                f"No payment for order '{reference}'.", {"order_reference": [f"No payment for order '{reference}'."]}
            )
        effect = matching.credit_effect(facts(payment), amounts.money(entry.amount), entry.currency)
        if effect.outcome == matching.UNMATCHED:
            raise Conflict(effect.reason, {"order_reference": [effect.reason]})
        entry.outcome, entry.order_reference = effect.outcome, payment.order_reference
        entry.reason = "; ".join(filter(None, (f"Assigned by {actor['name']}", payload.get("note"), effect.reason)))
        entry.assigned_by, entry.assigned_at = actor["name"], now()
        book(uow, payment, effect, actor, entry, action="bank_credit_assigned")
        result = {"entry": entry_view(entry), "payment": payment_view(payment)}
        uow.commit()
        return result
