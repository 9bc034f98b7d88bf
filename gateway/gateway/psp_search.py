"""The order search's payments part: payments owns the PSP ids and the payment references (QR
reference, creditor reference), so a search text that looks like one is asked of payments first
and the orders it names are listed with what orders finds itself."""

import logging
import re

from oms_common.problems import NotFound, Problem

log = logging.getLogger(__name__)

# Stripe object ids (pi_…, ch_…, py_…, re_…, dp_…) and PayPal ids (17 capitals and digits)
PSP_ID = re.compile(r"(?:pi|ch|py|re|dp|du|txn|pm|src)_[A-Za-z0-9]{8,100}|[A-Z0-9]{17}")
# a QR reference (27 digits, often printed in groups) or an ISO 11649 creditor reference
PAYMENT_REFERENCE = re.compile(r"[0-9]{27}|RF[0-9]{2}[A-Z0-9]{1,21}")


def looks_like_psp_id(text):
    return isinstance(text, str) and PSP_ID.fullmatch(text.strip()) is not None


def looks_like_payment_reference(text):
    return isinstance(text, str) and PAYMENT_REFERENCE.fullmatch("".join(text.split()).upper()) is not None


def psp_references(calls, text):
    """(order references payments knows for ``text``, services that could not answer)."""
    try:
        if looks_like_psp_id(text):
            return calls("payments", "orders_for_psp_id", text.strip()), []
        if looks_like_payment_reference(text):
            try:
                return [calls("payments", "order_for_payment_reference", text)["order_reference"]], []
            except NotFound:
                return [], []
        return [], []
    except Problem as problem:
        # the search still answers with what orders finds; the answer names what is missing
        log.warning("payments could not look up a PSP id for the order search: %s", problem.detail)
        return [], ["payments"]


def list_with_psp_search(ctx, method, *args, query):
    """An order list (``method`` of orders) whose ``search`` also covers payments' PSP ids."""
    references, unavailable = psp_references(ctx.call, query.get("search"))
    # the references go along only when there are any: the call stays the plain one otherwise
    page = ctx.call("orders", method, *args, query, *([references] if references else []))
    if unavailable:
        page["unavailable"] = unavailable
    return page
