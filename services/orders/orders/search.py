"""The order list's one search field: every place an order's identifiers live, one builder each.

A builder takes the typed text and gives a SELECT of matching order ids (or None when the text
cannot be one of its kind). The search is the union of them all, so each source is read through
its own index (prefix B-trees, pg_trgm GIN indexes) and a new source is one more line in
``SOURCES``. Texts shorter than ``MIN_CONTAINS`` only match where they are a prefix or exact:
a trigram index cannot narrow one or two characters, and a scan of every order is not a search.
"""

from sqlalchemy import and_, select, union_all

from oms_contracts.customers import CUSTOMER_NUMBER_PREFIX, parse_customer_ref

from .models import Order, OrderLine, OrderNote

O = Order.__table__.c
L = OrderLine.__table__.c
N = OrderNote.__table__.c
MIN_CONTAINS = 3


def escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(term):
    return "%" + escape_like(term) + "%"


def reference_or_invoice(term):
    pattern = escape_like(term) + "%"
    return select(O.id).where(O.reference.like(pattern, escape="\\") | O.invoice_number.like(pattern, escape="\\"))


def customer_number(term):
    # only the number as shown (C000009): bare digits are references and invoice numbers
    if term[:1].upper() != CUSTOMER_NUMBER_PREFIX:
        return None
    customer_id = parse_customer_ref(term)
    return select(O.id).where(O.customer_id == customer_id) if customer_id is not None else None


def customer_name(term):
    # every word somewhere in the name: "Anna Muster", "muster anna", "Muster"
    words = [word for word in term.replace(",", " ").split() if len(word) >= MIN_CONTAINS]
    if not words:
        return None
    return select(O.id).where(and_(*(O.customer_name.ilike(_contains(word), escape="\\") for word in words)))


def customer_email(term):
    return (
        select(O.id).where(O.customer_email.ilike(_contains(term), escape="\\")) if len(term) >= MIN_CONTAINS else None
    )


def article_number(term):
    if len(term) < MIN_CONTAINS:
        return None
    return select(L.order_id).where(L.article_number.ilike(_contains(term), escape="\\"))


def tracking_number(term):
    if len(term) < MIN_CONTAINS:
        return None
    return select(O.id).where(O.tracking_number.ilike(_contains(term), escape="\\"))


def note_text(term):
    # staff's internal notes: never shown to the customer, but found by the people who wrote them
    if len(term) < MIN_CONTAINS:
        return None
    return select(N.order_id).where(N.body.ilike(_contains(term), escape="\\"))


SOURCES = [
    reference_or_invoice,
    customer_number,
    customer_name,
    customer_email,
    article_number,
    tracking_number,
    note_text,
]


def search_condition(term, references=()):
    """Orders that ``term`` finds in any source, or whose reference is in ``references`` (what
    another service found for it, e.g. payments for a PSP id)."""
    term = term.strip()
    selects = [found for build in SOURCES if (found := build(term)) is not None]
    if references:
        selects.append(select(O.id).where(O.reference.in_(list(references))))
    return O.id.in_(union_all(*selects)) if len(selects) > 1 else O.id.in_(selects[0])
