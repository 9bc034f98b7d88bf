"""Order references and invoice numbers as the database issues them.

References come from a PostgreSQL sequence (no lock). Invoice numbers are gapless: the
``invoice`` row of ``number_sequences`` is the one lock every submitted order needs, and it is
taken inside COMMIT (migration 0005), so creations queue behind each other only for the
length of a commit, never for the service's own round trips.
"""

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from . import numbering_rules
from .models import InvoiceNumberRequest, NumberSequence, Order

_NEXT_REFERENCE = text("SELECT nextval('order_reference_seq')")
_REFERENCE_POSITION = text("SELECT last_value, is_called FROM order_reference_seq")
_MOVE_REFERENCES = text("SELECT setval('order_reference_seq', :start, false)")


def locked_sequence(session: Session, name: str) -> NumberSequence:
    # populate_existing: a row read earlier in this session must not hide what the lock sees
    return session.execute(
        select(NumberSequence)
        .where(NumberSequence.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def next_reference(session: Session) -> int:
    """Unique and increasing, with no lock held to commit; a creation that rolls back leaves
    a gap in the references (harmless: they are not legal records like invoice numbers)."""
    return session.execute(_NEXT_REFERENCE).scalar_one()


def reference_position(session: Session, reference_row: NumberSequence) -> tuple[int | None, int]:
    """(last reference issued, next one) as the sequence stands."""
    last_value, is_called = session.execute(_REFERENCE_POSITION).one()
    return numbering_rules.sequence_position(last_value, is_called, reference_row.last_issued)


def move_references(session: Session, start: int) -> None:
    """The next reference drawn is ``start``. setval is not undone by a rollback: the last
    statement before the commit, after every check. Only ever forward, so no reference can be
    drawn twice."""
    session.flush()
    session.execute(_MOVE_REFERENCES, {"start": start})


def invoice_placeholder(session: Session, order: Order) -> str | None:
    """What the order's events and audit entry say instead of the invoice number until the
    commit issues it (migration 0005); None when generation is switched off (S8). The unlocked
    read of ``enabled`` only decides whether to ask: the commit checks it again under the lock."""
    if not session.get(NumberSequence, "invoice").enabled:
        return None
    return f"@@oms-invoice-number:{order.id}@@"


def request_invoice_number(session: Session, order: Order, events: list[dict[str, Any]]) -> None:
    """The number is issued inside COMMIT, under the invoice row lock: gapless and unique, and
    the lock is never held while this service works. ``events`` get the number written in."""
    session.add(InvoiceNumberRequest(order_id=order.id, event_ids=[event["event_id"] for event in events]))


def issued_invoice_number(session: Session, order: Order) -> str | None:
    """After the commit: the number the commit gave the order."""
    return session.execute(select(Order.invoice_number).where(Order.id == order.id)).scalar_one()
