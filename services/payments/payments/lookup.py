"""Which orders a PSP id belongs to: staff paste a Stripe or PayPal id into the order search."""

from sqlalchemy import or_, select

from oms_common.problems import ValidationFailed

from .models import Payment

P = Payment.__table__.c
# the ids a PSP shows for a payment, each with its own index: a lookup is a few index probes
PSP_ID_COLUMNS = (P.psp_reference, P.psp_capture_id, P.psp_charge_id)
MAX_MATCHES = 50


def orders_for_psp_id(source, psp_id):
    """The order references whose payment carries ``psp_id`` (exactly) as one of its PSP ids."""
    if not isinstance(psp_id, str) or not 1 <= len(psp_id.strip()) <= 120:
        message = "Give a PSP id of 1 to 120 characters."
        raise ValidationFailed(message, {"psp_id": [message]})
    psp_id = psp_id.strip()
    with source.read_session() as session:
        rows = session.execute(
            select(P.order_reference)
            .where(or_(*(column == psp_id for column in PSP_ID_COLUMNS)))
            .order_by(P.order_reference)
            .limit(MAX_MATCHES)
        ).all()
    return [reference for (reference,) in rows]
