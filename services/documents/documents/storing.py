"""What every kind of document shares: storing it once (its bytes and their SHA-256, never
changed), and keeping an order whose document waits for the shop profile until it is saved."""

import hashlib
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oms_common.db import utcnow
from oms_contracts.events import stamp

from .labels import language_of
from .models import Document
from .profile import current_profile

log = logging.getLogger(__name__)
CONSUMER = "documents"
PENDING_BATCH = 50


def store(session, order, kind, number, content, event_id, corrects_id=None, amount=None):
    """The document as issued; ``amount`` is None for a document that names no money."""
    document = Document(
        order_reference=order["reference"],
        kind=kind,
        number=number,
        language=language_of(order),
        currency=order.get("currency") or "CHF",
        amount=amount,
        corrects_id=corrects_id,
        source_event_id=event_id,
        content=content,
        order_data=order,
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=utcnow(),
    )
    session.add(document)
    session.flush()
    return document


def announce(uow, document, **more):
    """``document_issued`` for ``document`` (with ``more``: a credit note's ``corrects``, …)."""
    facts = {
        "order_reference": document.order_reference,
        "kind": document.kind,
        "document_id": document.id,
        "number": document.number,
        "sha256": document.sha256,
    }
    uow.emit("document_issued", stamp("document_issued", {**facts, **more}))


def issue_once(source, event_id, order, kind, waiting, issue, wanted=lambda order: True):
    """The order's one document of ``kind`` from the event ``event_id``, claimed with it: nothing
    when the event was seen, the document exists or ``wanted(order)`` says none is due; kept in
    ``waiting`` while there is no shop profile. ``issue(uow, order, profile, event_id)`` makes
    it. Answers the document's id or None."""
    with source.unit_of_work() as uow:
        if not uow.claim_event(event_id, CONSUMER):
            return None
        if not wanted(order):
            uow.commit()
            return None
        existing = issued(uow.session, order["reference"], kind)
        if existing is not None:
            uow.commit()
            return existing
        profile = current_profile(uow.session)
        if profile is None:
            wait_for_profile(uow.session, waiting, order, event_id)
            log.info("order %s waits for the shop profile to get its %s", order["reference"], kind)
            uow.commit()
            return None
        try:
            document = issue(uow, order, profile, event_id)
            uow.commit()
        except IntegrityError:
            return None  # another delivery issued it at the same moment
        return document.id


def issued(session, reference, kind):
    """The id of the order's one document of ``kind`` (an invoice, a delivery note), or None."""
    return session.execute(
        select(Document.id).where(Document.order_reference == str(reference), Document.kind == kind)
    ).scalar_one_or_none()


def wait_for_profile(session, waiting, order, event_id):
    """Keeps ``order`` in the table ``waiting`` until the shop profile is saved (once per order:
    the first event that asked is the one the document is issued from)."""
    if session.get(waiting, order["reference"]) is None:
        session.add(
            waiting(order_reference=order["reference"], event_id=event_id, order_data=order, received_at=utcnow())
        )


def issue_waiting(source, waiting, kind, issue):
    """Issues the documents that waited in ``waiting`` for the shop profile, in the order they
    came, a batch per transaction (replicas share the work: rows another one holds are skipped).
    ``issue(uow, order, profile, event_id)`` issues one. Answers how many were issued."""
    count = 0
    while True:
        with source.unit_of_work() as uow:
            profile = current_profile(uow.session)
            if profile is None:
                return count
            rows = (
                uow.session.execute(
                    select(waiting).order_by(waiting.received_at).limit(PENDING_BATCH).with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
            if not rows:
                return count
            for row in rows:
                if issued(uow.session, row.order_reference, kind) is None:
                    issue(uow, row.order_data, profile, row.event_id)
                    count += 1
                uow.session.delete(row)
            uow.commit()
