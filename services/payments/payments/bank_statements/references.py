"""The payment references of an order (QR reference, creditor reference) and the order a
reference names: what invoices print and what the order search asks."""

from sqlalchemy import select

from oms_common import payment_references
from oms_common.problems import NotFound, ValidationFailed, load
from oms_contracts.bank_statements import ReferenceQuerySchema

from .. import domain
from ..models import Payment
from . import matching


def references_of(order_reference):
    """The QR and creditor references of an order (pure: the same for every caller)."""
    if not isinstance(order_reference, str) or not 1 <= len(order_reference) <= 40:
        raise ValidationFailed(
            "An order reference is 1 to 40 characters.", {"order_reference": ["1 to 40 characters."]}
        )
    return {"order_reference": order_reference, **domain.payment_references(order_reference)}


def order_for_reference(source, reference):
    """The order a QR or creditor reference (or an order reference) names, for the list search."""
    value = payment_references.compact(load(ReferenceQuerySchema(), {"reference": reference})["reference"])
    kind = matching.reference_kind(value)
    column = getattr(Payment, kind) if kind else Payment.order_reference
    with source.read_session() as session:
        rows = session.execute(
            select(Payment.order_reference, Payment.qr_reference, Payment.creditor_reference)
            .where(column == (value if kind else reference.strip()))
            .limit(2)
        ).all()
    if len(rows) != 1:
        raise NotFound(f"No single order has the payment reference {value}.")
    order_reference, qrr, scor = rows[0]
    return {"order_reference": order_reference, "qr_reference": qrr, "creditor_reference": scor}
