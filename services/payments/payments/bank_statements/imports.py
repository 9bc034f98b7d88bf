"""Importing a camt file: read and check it whole, find each credit's order, book it once.

1. ``parse.read_statement`` refuses a bad file (422 naming the place) before anything is read
   from the database or written to it.
2. Each booked credit's order is found (``_resolve``): by its QR / creditor reference, else by
   an order reference or invoice number in the remittance text (invoice numbers are asked of
   the orders service, which owns them; outside the transaction).
3. One transaction books everything, under an advisory lock so that two imports of the same
   file (two replicas, a double click) run one after the other: an entry whose key is stored
   already is a duplicate and changes nothing. The import's report is stored with it.
"""

import hashlib
from collections import Counter

from sqlalchemy import select, text

from oms_common.problems import NotFound
from oms_contracts.bank_statements import ReportSchema

from .. import amounts
from ..models import BankStatementEntry, BankStatementImport, Payment
from . import matching, parse
from .booking import CHUNK, DeferredEvents, bank_actor, book, facts, lock_payments, now

IMPORT_LOCK = 0x0B4_5747  # pg_advisory_xact_lock key of bank-statement imports
MAX_INVOICE_LOOKUPS = 200  # per import: unstructured texts that need the orders service
COUNTED = ("matched", "partial", "overpaid", "unmatched", "reversals", "duplicates", "ignored")


def import_statement(source, data, max_bytes, actor, find_invoice):
    """The report of importing ``data`` (camt bytes); ``find_invoice(number)`` answers the
    order reference of an invoice number, or None."""
    statement = parse.read_statement(data, max_bytes)
    actor = bank_actor(actor)
    relevant = [t for t in statement.transactions if t.booked and t.credit != t.reversal]
    ignored = [t for t in statement.transactions if not (t.booked and t.credit != t.reversal)]
    targets = _resolve(source, relevant, find_invoice)
    counts, items = Counter({name: 0 for name in COUNTED}), []
    with source.unit_of_work() as uow:
        session = uow.session
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
        stored = _stored_keys(session, [t.key for t in relevant])
        record = BankStatementImport(
            received_at=now(),
            actor=actor["name"],
            document=statement.document,
            message_id=(statement.message_id or "")[:120] or None,
            sha256=hashlib.sha256(bytes(data)).hexdigest(),
            report={},
        )
        session.add(record)
        session.flush()
        fresh = {index for index, t in enumerate(relevant) if t.key not in stored}
        payments = lock_payments(session, [ref for index, (ref, _) in targets.items() if ref and index in fresh])
        events = DeferredEvents(uow)
        for index, transaction in enumerate(relevant):
            if transaction.key in stored:
                counts["duplicates"] += 1
                items.append(_item(transaction, "duplicate", None, "Imported before; nothing changed."))
                continue
            stored.add(transaction.key)
            reference, reason = targets[index]
            entry = _entry(record.id, transaction)
            session.add(entry)
            payment = payments.get(reference) if reference else None
            if transaction.reversal:
                _reverse(events, entry, payment, transaction, actor)
                counts["reversals" if entry.outcome == matching.REVERSAL else "unmatched"] += 1
            else:
                _credit(events, entry, payment, reason, actor)
                counts[entry.outcome] += 1
            items.append(_item(transaction, entry.outcome, entry.order_reference, entry.reason))
        events.flush()
        for transaction in ignored:
            counts["ignored"] += 1
            items.append(_item(transaction, "ignored", None, _ignored_reason(transaction)))
        report = {
            "id": record.id,
            "document": statement.document,
            "message_id": statement.message_id,
            "sha256": record.sha256,
            "received_at": record.received_at,
            "actor": actor["name"],
            "changed": any(counts[name] for name in ("matched", "partial", "overpaid", "unmatched", "reversals")),
            "counts": dict(counts),
            "entries": items,
        }
        record.report = ReportSchema().dump(report)
        uow.commit()
        return record.report


def get_import(source, import_id):
    with source.read_session() as session:
        record = session.get(BankStatementImport, int(import_id))
        if record is None:
            raise NotFound(f"No bank statement import {import_id}.")
        return record.report


def _ignored_reason(transaction):
    if not transaction.booked:
        return "Not booked (pending or for information)."
    return "A debit: nothing to match." if not transaction.credit else "A reversed debit: nothing to match."


def _item(transaction, outcome, order_reference, reason):
    return {
        "entry_reference": transaction.entry_reference,
        "outcome": outcome,
        "amount": str(transaction.amount),
        "currency": transaction.currency,
        "order_reference": order_reference,
        "reason": reason,
    }


def _entry(import_id, transaction):
    return BankStatementEntry(
        import_id=import_id,
        entry_key=transaction.key,
        entry_reference=transaction.entry_reference,
        booking_date=transaction.booking_date,
        reversal=transaction.reversal,
        amount=amounts.money(transaction.amount),
        currency=transaction.currency,
        payment_reference=transaction.structured_reference,
        remittance_text=transaction.remittance_text,
        debtor_name=transaction.debtor_name,
        outcome=matching.UNMATCHED,
        created_at=now(),
    )


def _stored_keys(session, keys):
    found = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            session.execute(
                select(BankStatementEntry.entry_key).where(
                    BankStatementEntry.entry_key.in_(keys[start : start + CHUNK])
                )
            ).scalars()
        )
    return found


def _credit(uow, entry, payment, reason, actor):
    if payment is None:
        entry.reason = reason
        return
    effect = matching.credit_effect(facts(payment), entry.amount, entry.currency)
    entry.outcome, entry.reason = effect.outcome, effect.reason
    entry.order_reference = payment.order_reference
    if effect.outcome != matching.UNMATCHED:
        book(uow, payment, effect, actor, entry, action="bank_credit")


def _reverse(uow, entry, payment, transaction, actor):
    """Undoes the credit this reversal names (same order or reference, same amount)."""
    uow.session.flush()
    credit = _reversed_credit(uow.session, entry, payment, transaction)
    if credit is None:
        entry.reason = "A reversal of a credit that was never booked here; nothing to undo."
        entry.order_reference = payment.order_reference if payment is not None else None
        return
    entry.reverses_id = credit.id
    entry.order_reference = credit.order_reference
    entry.outcome = matching.REVERSAL
    applied = credit.outcome in matching.APPLIED
    credit.outcome = matching.REVERSED
    credit.reason = f"Reversed by {entry.entry_reference}."
    if not applied:
        entry.reason = f"Reverses the unmatched credit {credit.entry_reference}."
        return
    locked = (
        payment
        if payment is not None and payment.order_reference == credit.order_reference
        else lock_payments(uow.session, [credit.order_reference]).get(credit.order_reference)
    )
    effect = matching.reversal_effect(facts(locked), credit.amount)
    entry.reason = f"Reverses {credit.entry_reference}."
    book(uow, locked, effect, actor, entry, action="bank_reversal")


def _reversed_credit(session, entry, payment, transaction):
    base = (
        select(BankStatementEntry)
        .where(
            BankStatementEntry.reversal.is_(False),
            BankStatementEntry.amount == entry.amount,
            BankStatementEntry.currency == entry.currency,
        )
        .order_by(BankStatementEntry.id.desc())
        .limit(1)
    )
    if payment is not None:
        found = session.execute(
            base.where(
                BankStatementEntry.order_reference == payment.order_reference,
                BankStatementEntry.outcome.in_(matching.APPLIED),
            ).with_for_update()
        ).scalar_one_or_none()
        if found is not None:
            return found
    if transaction.structured_reference:
        return session.execute(
            base.where(
                BankStatementEntry.payment_reference == transaction.structured_reference,
                BankStatementEntry.outcome == matching.UNMATCHED,
            ).with_for_update()
        ).scalar_one_or_none()
    return None


# ---------------------------------------------------------------- finding the order


def _resolve(source, transactions, find_invoice):
    """{index: (order_reference or None, reason when None)} for each transaction."""
    wanted = {"qr_reference": set(), "creditor_reference": set()}
    kinds, tokens = {}, {}
    for index, transaction in enumerate(transactions):
        reference = transaction.structured_reference
        kind = matching.reference_kind(reference) if reference else None
        if kind:
            kinds[index] = (kind, reference.replace(" ", "").upper())
            wanted[kind].add(kinds[index][1])
        tokens[index] = matching.text_tokens(transaction.remittance_text)
    all_tokens = {token for found in tokens.values() for token in found}
    with source.read_session() as session:
        by_reference = {kind: _lookup(session, getattr(Payment, kind), values) for kind, values in wanted.items()}
        by_order = _lookup(session, Payment.order_reference, all_tokens)
    invoices, lookups = {}, 0
    targets = {}
    for index, transaction in enumerate(transactions):
        reason = None
        if index in kinds:
            kind, value = kinds[index]
            orders = by_reference[kind].get(value, [])
            if len(orders) == 1:
                targets[index] = (orders[0], None)
                continue
            reason = (
                f"The reference {value} names several orders." if orders else f"No order has the reference {value}."
            )
        found = None
        for token in tokens[index]:
            if token in by_order:
                found = by_order[token][0]
                break
            if token not in invoices and lookups < MAX_INVOICE_LOOKUPS:
                lookups += 1
                invoices[token] = find_invoice(token)
            if invoices.get(token):
                found = invoices[token]
                break
        if found:
            targets[index] = (found, None)
        else:
            targets[index] = (
                None,
                reason
                or (
                    "No order reference or invoice number found in the remittance text."
                    if transaction.remittance_text
                    else "The credit names no reference and no text."
                ),
            )
    return targets


def _lookup(session, column, values):
    found = {}
    values = sorted(values)
    for start in range(0, len(values), CHUNK):
        rows = session.execute(
            select(column, Payment.order_reference).where(column.in_(values[start : start + CHUNK]))
        ).all()
        for value, order_reference in rows:
            found.setdefault(value, []).append(order_reference)
    return found
