"""The payment record of an order, made on first use when the order event is still in flight.

A client told by a 201 that an order exists may ask for its payment (or book one) at once,
before payments has consumed ``order_created`` / ``order_submitted``. Such a call then makes
the record itself from the order's own data, asked of the orders service — the same fields
and the same initial state the event would give it. The order reference is the record's
unique key, so this and the event (or a first use on another replica) cannot both create
it: whoever comes second finds the record and leaves it as it is, newer state included.
The event still does what only it does, opening the payment at the PSP.
"""

from oms_common.problems import NotFound

from .changes import find_payment
from .checkout import create_payment
from .webhook_processing import apply_waiting

FIRST_USE = {"name": "payments", "kind": "system", "role": None, "origin": "payments:first-use"}


def ensure_payment(source, adapters, reference, fetch_order):
    """True when the order's payment record exists now (made here if it was missing).

    ``fetch_order(reference)`` returns the order as the orders service dumps it, None when
    no orders service is there to ask, or raises NotFound. An open order (a cart) has no
    payment yet: False.
    """
    with source.read_session() as session:
        if find_payment(session, reference, lock=False) is not None:
            return True
    order = fetch_order(reference)
    if order is None or order.get("status") == "open":
        return False
    with source.unit_of_work() as uow:
        payment = create_payment(uow, order, FIRST_USE)
        if payment is not None:  # None: the event or another replica made it meanwhile
            apply_waiting(uow, payment, adapters)
        uow.commit()
    return True


def on_first_use(call, source, adapters, reference, fetch_order):
    """Runs ``call()``; if it found no payment record, makes the record and runs it once more.

    A refused call rolled its transaction back, so running it again applies it once.
    """
    try:
        return call()
    except NotFound:
        if not ensure_payment(source, adapters, reference, fetch_order):
            raise
    return call()
