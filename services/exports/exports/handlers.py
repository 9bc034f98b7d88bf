"""The export copy: orders and payments events applied to this service's own tables.

Locks, in this order in every writing transaction: the event id (claim), a transaction
advisory lock on the order reference (an order event and a payment event of one order are
applied one after the other, also while the order row does not exist yet), the rows, and
last the change counter (``export_counters``), taken right before commit. Its row lock is
held through the commit, so change numbers become visible in commit order — what the
incremental exports rely on — while the time the counter is held stays short.
"""

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from oms_common.db import utcnow
from oms_common.locks import lock_key
from oms_contracts.events import (
    CustomersMergedEventSchema,
    OrderEventSchema,
    OrderTaxEventSchema,
    PaymentStatusEventSchema,
)

from . import domain, serialize, serialize_v2, taxes
from .models import ExportCounter, ExportCustomer, ExportOrder, ExportPaymentStatus
from .schemas import OrderCopySchema

CONSUMER_ORDERS = "exports.orders"
CONSUMER_PAYMENTS = "exports.payments"
CONSUMER_CUSTOMERS = "exports.customers"
COUNTER = "change"
ORDER_EVENTS = (
    "order_created",
    "order_submitted",
    "order_updated",
    "order_shipped",
    "order_cancelled",
    "order_status_changed",
)


LOCK_CLASS = 0x4F4D5345  # advisory lock key space of the export copy ("OMSE")


def lock_reference(session, reference):
    """Serialises the handlers of one order."""
    lock_key(session, LOCK_CLASS, reference)


def lock_customer(session, customer_id):
    """Serialises the first insert of a customer that two orders bring at once."""
    lock_key(session, LOCK_CLASS + 1, customer_id)


def next_change(session):
    """The next change number; holds the counter's row lock until the transaction ends.

    Call it last, right before commit, and without pending ORM changes that need the number.
    """
    value = session.execute(
        update(ExportCounter)
        .where(ExportCounter.name == COUNTER)
        .values(value=ExportCounter.value + 1)
        .returning(ExportCounter.value)
    ).scalar_one_or_none()
    if value is None:
        try:
            with session.begin_nested():
                session.execute(insert(ExportCounter).values(name=COUNTER, value=0))
        except IntegrityError:
            pass
        return next_change(session)
    return value


def current_change(connection):
    return (
        connection.execute(select(ExportCounter.value).where(ExportCounter.name == COUNTER)).scalar_one_or_none() or 0
    )


def apply_order_event(source, event):
    """Stores the order as the event carries it (its VAT facts also in columns of their own,
    ``taxes``), unless a newer version is already here; the customer record it carries is applied
    either way (it has its own, newer-wins, version: events of one order come through several
    queues, so an older order event may bring the only word about the customer the order had
    then). An order that either version of the format would refuse is refused here."""
    payload = OrderEventSchema().load(event)
    document = dict(payload["order"])
    fields = OrderCopySchema().load(document)
    tax = taxes.copy_values(OrderTaxEventSchema().load(document))
    serialize.check_exportable(document)
    serialize_v2.check_exportable(taxes.with_copy(document, tax))
    reference = domain.column_text(fields["reference"])
    record = payload["customer"]
    if record is not None and record["id"] != fields["customer"]["id"]:
        record = None
    with source.unit_of_work() as uow:
        session = uow.session
        if not uow.claim_event(payload["event_id"], CONSUMER_ORDERS):
            return False
        lock_reference(session, reference)
        row = session.execute(
            select(ExportOrder).where(ExportOrder.reference == reference).with_for_update()
        ).scalar_one_or_none()
        applies = row is None or domain.order_update_applies(row.version, fields["version"])
        if not applies and record is None:
            uow.commit()
            return False
        payment = session.get(ExportPaymentStatus, reference)
        payment_sequence = None
        if payment is not None:
            # the payments service is the authority on payment status; its newest word wins
            document["payment_status"] = payment.status
            payment_sequence = payment.sequence
        customer = _locked_customer(session, fields["customer"]["id"])
        with session.no_autoflush:
            seq = next_change(session)
        if applies:
            values = dict(
                version=fields["version"],
                change_seq=seq,
                invoice_number=domain.column_text(fields.get("invoice_number")),
                customer_id=fields["customer"]["id"],
                status=fields["status"],
                payment_status=document["payment_status"],
                payment_status_sequence=payment_sequence,
                created_at=fields["created_at"],
                updated_at=fields["updated_at"],
                document=document,
                **tax,
            )
            if row is None:
                session.add(ExportOrder(reference=reference, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        if record is not None:
            _apply_record(session, customer, record, seq)
        else:
            _apply_customer(session, customer, fields, document, seq)
        uow.commit()
        return applies


def _locked_customer(session, customer_id):
    lock_customer(session, customer_id)
    return session.execute(
        select(ExportCustomer).where(ExportCustomer.id == customer_id).with_for_update()
    ).scalar_one_or_none()


def _apply_record(session, row, record, seq):
    """Takes the orders service's customer record over, unless a newer one is already here."""
    values = {
        "email": domain.column_text(record["email"]),
        "name": domain.column_text(record["name"]),
        "language": domain.column_text(record.get("language")),
        "merged_into": record.get("merged_into"),
    }
    if row is None:
        session.add(
            ExportCustomer(
                id=record["id"],
                **values,
                change_seq=seq,
                source_updated_at=record["updated_at"],
                record_updated_at=record["updated_at"],
                updated_at=utcnow(),
            )
        )
        return
    if row.record_updated_at is not None and record["updated_at"] < row.record_updated_at:
        return  # an older word of the orders service: what we have is newer
    changed = (row.email, row.name, row.language, row.merged_into) != tuple(values.values())
    row.record_updated_at = record["updated_at"]
    if changed:
        for key, value in values.items():
            setattr(row, key, value)
        row.change_seq = seq
        row.updated_at = utcnow()


def apply_customers_merged(source, event):
    """Marks the retired customer as the orders service says (``merged_into``); its orders
    arrive as order events of the customer they moved to."""
    payload = CustomersMergedEventSchema().load(event)
    record = payload["customer"]
    with source.unit_of_work() as uow:
        session = uow.session
        if not uow.claim_event(payload["event_id"], CONSUMER_CUSTOMERS):
            return False
        row = _locked_customer(session, payload["customer_id"])
        if record is None and row is None:
            uow.commit()
            return False
        with session.no_autoflush:
            seq = next_change(session)
        if record is not None and record["id"] == payload["customer_id"]:
            _apply_record(session, row, record, seq)
        elif row is not None and row.merged_into != payload["into"]:
            row.merged_into, row.change_seq, row.updated_at = payload["into"], seq, utcnow()
        uow.commit()
        return True


def _apply_customer(session, row, fields, document, seq):
    """An event without the customer record: the order's own e-mail and name stand in for it."""
    if row is not None and row.record_updated_at is not None:
        return  # the orders service's record is here; an order's snapshot does not replace it
    customer = {
        **fields["customer"],
        "email": domain.column_text(fields["customer"]["email"]),
        "name": domain.column_text(fields["customer"]["name"]),
    }
    language = domain.column_text(document.get("language"))
    if row is None:
        session.add(
            ExportCustomer(
                id=customer["id"],
                email=customer["email"],
                name=customer["name"],
                language=language,
                change_seq=seq,
                source_updated_at=fields["updated_at"],
                updated_at=utcnow(),
            )
        )
        return
    if fields["updated_at"] < row.source_updated_at:
        return  # an older order of this customer: what we have is newer
    changed = (row.email, row.name, row.language) != (customer["email"], customer["name"], language or row.language)
    row.source_updated_at = fields["updated_at"]
    if changed:
        row.email, row.name, row.language = customer["email"], customer["name"], language or row.language
        row.change_seq = seq
        row.updated_at = utcnow()


def apply_payment_status(source, event):
    """Keeps the newest payment status per order (by the payments service's sequence)."""
    payload = PaymentStatusEventSchema().load(event)
    reference = payload["order_reference"]
    occurred_at = _parse_time(event.get("occurred_at"))
    with source.unit_of_work() as uow:
        session = uow.session
        if not uow.claim_event(payload["event_id"], CONSUMER_PAYMENTS):
            return False
        lock_reference(session, reference)
        stored = session.get(ExportPaymentStatus, reference)
        if stored is not None and not domain.payment_update_applies(stored.sequence, payload["sequence"]):
            uow.commit()
            return False
        if stored is None:
            session.add(
                ExportPaymentStatus(order_reference=reference, status=payload["status"], sequence=payload["sequence"])
            )
        else:
            stored.status, stored.sequence = payload["status"], payload["sequence"]
        row = session.execute(
            select(ExportOrder).where(ExportOrder.reference == reference).with_for_update()
        ).scalar_one_or_none()
        if row is not None:
            with session.no_autoflush:
                seq = next_change(session)
            document = dict(row.document)
            document["payment_status"] = payload["status"]
            if occurred_at and occurred_at > row.updated_at:
                row.updated_at = occurred_at
                document["updated_at"] = occurred_at.isoformat()
            row.document = document
            row.payment_status = payload["status"]
            row.payment_status_sequence = payload["sequence"]
            row.change_seq = seq
        uow.commit()
        return True


def _parse_time(value):
    from datetime import datetime

    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def copy_status(source):
    """Counts and the current change number (operators and tests)."""
    from sqlalchemy import func

    with source.read_session() as session:
        return {
            "orders": session.execute(select(func.count()).select_from(ExportOrder)).scalar_one(),
            "customers": session.execute(select(func.count()).select_from(ExportCustomer)).scalar_one(),
            "change_seq": current_change(session),
        }


def get_order_copy(source, reference):
    with source.read_session() as session:
        row = session.get(ExportOrder, str(reference))
        if row is None:
            return None
        return {
            "reference": row.reference,
            "version": row.version,
            "change_seq": row.change_seq,
            "payment_status": row.payment_status,
            "document": row.document,
        }
