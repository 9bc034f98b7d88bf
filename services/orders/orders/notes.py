"""Use cases of internal notes: write, edit (author only, within the edit window), list.

A note is no change of the order itself (no version step, no event): it is written with an
audit entry (action ``note``) in one transaction, so the order's history shows it.
"""

from marshmallow import ValidationError
from sqlalchemy import bindparam, func, select

from oms_common.db import utcnow
from oms_common.problems import Conflict, Forbidden, NotFound, ValidationFailed, from_marshmallow, load
from oms_contracts.actors import load_actor
from oms_contracts.notes import AuthorSchema, LatestNotesSchema

from . import note_rules
from .changes import audit
from .models import Order, OrderNote
from .note_schemas import NoteDump, NoteInput

_note_dump = NoteDump()


def _author(author):
    try:
        return AuthorSchema().load(author or {})
    except ValidationError as error:
        problem = from_marshmallow(error)
        errors = {f"author.{field}": messages for field, messages in problem.errors.items()}
        raise ValidationFailed(f"Invalid author: {', '.join(sorted(errors))}", errors) from None


def _order(session, reference):
    order = session.execute(select(Order).where(Order.reference == str(reference))).scalar_one_or_none()
    if order is None:
        raise NotFound(f"No order with reference '{reference}'.")
    return order


def _refusal(refused):
    if refused.kind == "not_author":
        return Forbidden(str(refused), {"author": [str(refused)]})
    return Conflict(str(refused), {"created_at": [str(refused)]})


def _noted(uow, order, note, actor, edited):
    """The audit entry of a note written or edited (its first line), committed with it."""
    audit(
        uow.session,
        order,
        actor,
        "note",
        reason=note_rules.first_line(note.body),
        details={"note_id": note.id, "edited": edited},
    )
    uow.commit()
    return _note_dump.dump(note)


def add_note(source, reference, data, author, actor=None):
    payload = load(NoteInput(), data)
    writer, actor = _author(author), load_actor(actor)
    with source.unit_of_work() as uow:
        order = _order(uow.session, reference)
        note = OrderNote(
            order_id=order.id,
            author_id=writer["id"],
            author_name=writer["name"],
            body=note_rules.clean_body(payload["body"]),
            created_at=utcnow(),
        )
        uow.session.add(note)
        uow.session.flush()
        return _noted(uow, order, note, actor, edited=False)


def edit_note(source, reference, note_id, data, author, actor=None):
    payload = load(NoteInput(), data)
    writer, actor = _author(author), load_actor(actor)
    with source.unit_of_work() as uow:
        order = _order(uow.session, reference)
        note = (
            uow.session.execute(
                select(OrderNote).where(OrderNote.id == note_id, OrderNote.order_id == order.id).with_for_update()
            ).scalar_one_or_none()
            if isinstance(note_id, int)
            else None
        )
        if note is None:
            raise NotFound(f"Order {reference} has no note {note_id}.")
        now = utcnow()
        try:
            note_rules.check_edit(note.author_id, writer["id"], note.created_at, now)
        except note_rules.NoteRefused as refused:
            raise _refusal(refused) from None
        note.body, note.edited_at = note_rules.clean_body(payload["body"]), now
        return _noted(uow, order, note, actor, edited=True)


def list_notes(source, reference):
    """The order's notes, newest first."""
    with source.read_session() as session:
        order = _order(session, reference)
        notes = (
            session.execute(select(OrderNote).where(OrderNote.order_id == order.id).order_by(OrderNote.id.desc()))
            .scalars()
            .all()
        )
        return {"items": [_note_dump.dump(note) for note in notes]}


def latest_notes(source, data):
    """For each of the given order references that has notes, the first line of its newest
    note, its author and time: one indexed query for a whole list page."""
    references = load(LatestNotesSchema(), data)["references"]
    if not references:
        return {}
    newest = (
        select(func.max(OrderNote.id))
        .join(Order, Order.id == OrderNote.order_id)
        .where(Order.reference.in_(references))
        .group_by(OrderNote.order_id)
    )
    with source.read_session() as session:
        rows = session.execute(
            select(Order.reference, OrderNote.body, OrderNote.author_name, OrderNote.created_at)
            .join(Order, Order.id == OrderNote.order_id)
            .where(OrderNote.id.in_(newest))
        ).all()
    return _latest(rows)


# built once: a list page runs it every time, and a statement made anew costs more to prepare than to run
_NEWEST_BY_ORDER_ID = select(OrderNote.order_id, OrderNote.body, OrderNote.author_name, OrderNote.created_at).where(
    OrderNote.id.in_(
        select(func.max(OrderNote.id))
        .where(OrderNote.order_id.in_(bindparam("order_ids", expanding=True)))
        .group_by(OrderNote.order_id)
    )
)


def newest_by_order_id(session, order_ids):
    """{order id: its newest note (first line, author, time)} for those of ``order_ids`` with notes."""
    return _latest(session.execute(_NEWEST_BY_ORDER_ID, {"order_ids": list(order_ids)}).all())


def _latest(rows):
    return {
        key: {"first_line": note_rules.first_line(body), "author": author, "created_at": created_at.isoformat()}
        for key, body, author, created_at in rows
    }
