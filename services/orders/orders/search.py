"""The order list's one search field: every place an order's identifiers live, one builder each.

A builder takes the typed text and gives the column of order ids it finds and the condition that
finds them (or None when the text cannot be one of its kind); a new source is one more line in
``SOURCES``. Texts shorter than ``MIN_CONTAINS`` only match where they are a prefix or exact: a
trigram index cannot narrow one or two characters, and a scan of every order is not a search.

A search is answered one of two ways, decided by how much it finds:

- **Few matches** (at most the count limit): every source is read through its own index (prefix
  B-trees, pg_trgm GIN indexes), each stopping one row past the limit. When none reaches it, those
  ids are all the matches: the page is sorted from them and the total is exact.
- **Many matches** (a common surname, an article half the orders contain): reading them all to
  sort and count them is what made such a search slow. The list walks down the sort's index
  instead and tests each order against the sources (``row_condition``), which meets a page of
  matches after a few hundred rows; the total is counted up to the limit (``total_exact`` false
  beyond it) and the rest of the list is reached page by page or with ``next_cursor``.
"""

from dataclasses import dataclass

from sqlalchemy import and_, exists, literal, or_, select, union_all

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


@dataclass(frozen=True)
class Source:
    """Where a search looks: ``found`` holds the order ids (``O.id``, or a table's ``order_id``)
    of the rows meeting ``condition``."""

    found: object
    condition: object

    def ids(self):
        return select(self.found).where(self.condition)

    def on_orders(self):
        """The condition on one order row: direct on the orders table; elsewhere, whether that
        order has such a row, looked up by its order id for each order walked. ``OFFSET 0`` keeps
        PostgreSQL from hashing every matching row first instead (its choice for a walk it expects
        to be long, which for a common article reads a quarter of a million lines)."""
        if self.found is O.id:
            return self.condition
        return exists(select(literal(1)).where(self.found == O.id, self.condition).offset(0))


def reference_or_invoice(term):
    pattern = escape_like(term) + "%"
    return Source(O.id, O.reference.like(pattern, escape="\\") | O.invoice_number.like(pattern, escape="\\"))


def customer_number(term):
    # only the number as shown (C000009): bare digits are references and invoice numbers
    if term[:1].upper() != CUSTOMER_NUMBER_PREFIX:
        return None
    customer_id = parse_customer_ref(term)
    return Source(O.id, O.customer_id == customer_id) if customer_id is not None else None


def customer_name(term):
    # every word somewhere in the name: "Anna Muster", "muster anna", "Muster"
    words = [word for word in term.replace(",", " ").split() if len(word) >= MIN_CONTAINS]
    if not words:
        return None
    return Source(O.id, and_(*(O.customer_name.ilike(_contains(word), escape="\\") for word in words)))


def _containing(found, column):
    def builder(term):
        return Source(found, column.ilike(_contains(term), escape="\\")) if len(term) >= MIN_CONTAINS else None

    return builder


customer_email = _containing(O.id, O.customer_email)
article_number = _containing(L.order_id, L.article_number)
tracking_number = _containing(O.id, O.tracking_number)
# staff's internal notes: never shown to the customer, but found by the people who wrote them
note_text = _containing(N.order_id, N.body)

SOURCES = [
    reference_or_invoice,
    customer_number,
    customer_name,
    customer_email,
    article_number,
    tracking_number,
    note_text,
]


def sources(term, references=()):
    """The places ``term`` can be found, and the orders another service found for it (e.g.
    payments for a PSP id) by their ``references``."""
    term = term.strip()
    found = [source for build in SOURCES if (source := build(term)) is not None]
    if references:
        found.append(Source(O.id, O.reference.in_(list(references))))
    return found


# lines and notes: one order may have several matching rows, so their probe reads further
ROWS_PER_ORDER_PROBED = 4


@dataclass
class Found:
    """What the probe of a search learnt: ``ids``, every order it finds when they are at most the
    limit (else None); ``more``, whether it surely finds more orders than that; ``where``, the
    sources that found anything (the others need not be asked again on a walk)."""

    ids: set | None
    more: bool
    where: list


def probe(session, term, references, limit):
    """Reads each source through its index, a bounded number of rows: one past ``limit``, or
    ``ROWS_PER_ORDER_PROBED`` times that for lines and notes."""
    looked_in = sources(term, references)
    probed = [limit + 1 if source.found is O.id else (limit + 1) * ROWS_PER_ORDER_PROBED for source in looked_in]
    probes = [
        select(literal(index).label("source"), source.ids().limit(rows).subquery().c[0])
        for index, (source, rows) in enumerate(zip(looked_in, probed, strict=True))
    ]
    read = [0] * len(looked_in)
    per_source: list[set] = [set() for _ in looked_in]
    for index, order_id in session.execute(union_all(*probes)):
        read[index] += 1
        per_source[index].add(order_id)
    where = [source for source, count in zip(looked_in, read, strict=True) if count]
    ids = set().union(*per_source)
    if len(ids) > limit:
        return Found(None, True, where)
    if any(count == rows for count, rows in zip(read, probed, strict=True)):
        return Found(None, False, where)  # a probe read to its end, yet named at most ``limit`` orders
    return Found(ids, False, where)


def row_condition(where):
    """The search as a condition on each order row (for a walk down the list's index), asking
    only the sources that found anything."""
    return or_(*(source.on_orders() for source in where))
