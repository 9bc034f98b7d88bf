"""Use cases of numbering (S7, S8): where order references and invoice numbers start, whether OMS
issues invoice numbers, and the invoice number staff give an order while it does not."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oms_common.db import SessionSource
from oms_common.problems import load
from oms_contracts.actors import load_actor
from oms_contracts.events import stamp
from oms_contracts.orders.inputs import InvoiceNumberSchema, NumberingSchema

from . import numbering_rules, sequences
from .changes import Actor, Answer, Data, as_problem, changing, refusals
from .models import NumberSequence, Order
from .units import session_of

# the fields that set a start, and the sequence each one starts
STARTS = (("order_reference_start", "reference"), ("invoice_number_start", "invoice"))


def get_numbering(source: SessionSource) -> Answer:
    with source.read_session() as session:
        reference = session.get(NumberSequence, "reference")
        invoice = session.get(NumberSequence, "invoice")
        return _numbering_dump(reference, invoice, sequences.reference_position(session, reference))


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
            invoice.prefix, numbering_rules.next_number(invoice.start_at, invoice.last_issued)
        ),
    }


def update_numbering(source: SessionSource, data: Data, actor: Actor | None = None) -> Answer:
    payload = load(NumberingSchema(), data)
    with source.unit_of_work() as uow:
        session = uow.session
        # the reference row (settings) before the invoice row; creations lock only the latter
        rows = {name: sequences.locked_sequence(session, name) for name in ("reference", "invoice")}
        last_reference, next_reference = sequences.reference_position(session, rows["reference"])
        last_issued = {"reference": last_reference, "invoice": rows["invoice"].last_issued}
        with refusals():
            for field, name in STARTS:
                if field in payload and payload[field] != rows[name].start_at:
                    numbering_rules.check_new_start(field, payload[field], last_issued[name])
        for field, name in STARTS:
            if field in payload:
                rows[name].start_at = payload[field]
        if "invoice_prefix" in payload:
            rows["invoice"].prefix = payload["invoice_prefix"]
        if "invoice_numbers_enabled" in payload:
            rows["invoice"].enabled = payload["invoice_numbers_enabled"]
        moved_to = numbering_rules.moved_sequence_start(rows["reference"].start_at, next_reference)
        if moved_to is not None:
            rows["reference"].last_issued = last_reference
            next_reference = moved_to
        result = _numbering_dump(rows["reference"], rows["invoice"], (last_reference, next_reference))
        uow.emit("numbering_changed", stamp("numbering_changed", {"settings": result, "actor": load_actor(actor)}))
        if moved_to is not None:
            sequences.move_references(session, moved_to)
        uow.commit()
        return result


def set_external_invoice_number(
    source: SessionSource, reference: str, data: Data, actor: Actor | None = None
) -> Answer:
    payload = load(InvoiceNumberSchema(), data)
    number = payload["invoice_number"]
    try:
        with changing(source, reference, actor=actor) as change:
            order, session = change.order, session_of(change.unit)
            numbering_rules.check_external_invoice_number(
                session.get(NumberSequence, "invoice").enabled,
                order.invoice_number,
                order.status,
                order.invoice_number_external,
            )
            numbering_rules.check_invoice_number_free(
                number,
                session.execute(
                    select(Order.reference).where(Order.invoice_number == number, Order.id != order.id)
                ).scalar_one_or_none(),
            )
            previous = order.invoice_number
            order.invoice_number, order.invoice_number_external = number, True
            change.record("invoice_number_set", reason=payload.get("reason"), details={"from": previous, "to": number})
    except IntegrityError:
        # another order took the same number between our check and our commit
        raise as_problem(numbering_rules.InvoiceNumberTaken(number)) from None
    return change.answer
