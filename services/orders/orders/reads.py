"""The hot reads of the orders service: the order list, its search and a customer's orders, and
the customer list, built with SQLAlchemy Core straight into the plain dicts of the answer (no
ORM objects, no schema dump per row: at a page of 50 those cost more than the SQL).

Each list is one indexed query. The unfiltered and status-filtered totals come from the
``order_counts`` table so that a million orders cost no count scan; pages are keyset seeks
(see ``paging``). A search finds its orders as ``search`` explains: read through each source's
index when they are few, by a walk down the list's index when they are many.
"""

import math

from sqlalchemy import and_, func, literal_column, or_, select

from oms_common.problems import NotFound, load
from oms_contracts.customers import customer_number, parse_customer_ref
from oms_contracts.orders.lists import CustomerQuerySchema, ListQuerySchema

from . import paging, search
from .models import Customer, Order, OrderCount
from .notes import newest_by_order_id
from .search import escape_like

O = Order.__table__.c
C = Customer.__table__.c
SUMMARY_COLUMNS = (
    O.reference,
    O.invoice_number,
    O.status,
    O.payment_status,
    O.payment_method,
    O.currency,
    O.total,
    O.customer_id,
    O.customer_email,
    O.customer_name,
    O.created_at,
    O.updated_at,
)
CUSTOMER_COLUMNS = (C.id, C.email, C.first_name, C.last_name, C.language, C.merged_into_id, C.created_at)
# filters the order_counts table answers for (any other one needs a count over the orders)
COUNTED_FILTERS = ("status", "payment_status")
# the country an order goes to (ix_orders_shipping_country)
SHIPPING_COUNTRY = literal_column("(shipping_address ->> 'country')")
OVERDUE_STATUSES = ("dunning_1", "dunning_2")
# a search counts its matches up to this many (OMS_SEARCH_COUNT_LIMIT); beyond, "total_exact" is false
SEARCH_COUNT_LIMIT = 1000


def order_summary(row):
    """One list row as api.md gives it (money as a decimal string, times in ISO 8601)."""
    (
        reference,
        invoice_number,
        status,
        payment_status,
        payment_method,
        currency,
        total,
        customer_id,
        customer_email,
        customer_name,
        created_at,
        updated_at,
    ) = row[:12]
    return {
        "reference": reference,
        "invoice_number": invoice_number,
        "status": status,
        "payment_status": payment_status,
        "payment_method": payment_method,
        "currency": currency,
        "total": f"{total:.2f}",
        "customer": {"id": customer_id, "email": customer_email, "name": customer_name},
        "created_at": created_at.isoformat(),
        "updated_at": updated_at.isoformat(),
    }


def _filters(params):
    """The conditions of every filter but the search (``_search`` adds it)."""
    conditions = []
    if params["status"]:
        conditions.append(O.status.in_(params["status"]))
    if params["payment_status"]:
        conditions.append(O.payment_status.in_(params["payment_status"]))
    if params.get("q"):
        pattern = escape_like(params["q"]) + "%"
        conditions.append(or_(O.reference.like(pattern, escape="\\"), O.invoice_number.like(pattern, escape="\\")))
    if params.get("customer_id"):
        conditions.append(O.customer_id == params["customer_id"])
    if params.get("created_from"):
        conditions.append(O.created_at >= params["created_from"])
    if params.get("created_to"):
        conditions.append(O.created_at <= params["created_to"])
    if params.get("changed_since"):
        conditions.append(O.updated_at > params["changed_since"])
    for name, column in (("payment_method", O.payment_method), ("currency", O.currency), ("country", SHIPPING_COUNTRY)):
        if params.get(name):
            conditions.append(column.in_(params[name]))
    if params.get("disputed") is not None:
        disputed = O.payment_status == "disputed"
        conditions.append(disputed if params["disputed"] else ~disputed)
    if params.get("overdue") is not None:
        overdue = O.status.in_(OVERDUE_STATUSES)
        conditions.append(overdue if params["overdue"] else ~overdue)
    return conditions


def _counted_by_table(params):
    return not any(
        value is not None and value != []
        for key, value in params.items()
        if key not in COUNTED_FILTERS and key not in ("page", "page_size", "sort", "cursor")
    )


def _search(session, params, conditions, psp_references, count_limit):
    """(conditions with the search, total, whether the total is exact): see ``search``."""
    found = search.probe(session, params["search"], psp_references, count_limit)
    if found.ids is not None:
        # every id names an order (lines and notes reference theirs): alone, they are the total
        total = _count(session, [*conditions, O.id.in_(found.ids)]) if conditions else len(found.ids)
        return [*conditions, O.id.in_(sorted(found.ids))], total, True
    searched = [*conditions, search.row_condition(found.where)]
    if found.more and not conditions:
        return searched, count_limit, False
    # other filters may leave fewer (or lines past the limit belong to fewer orders): count up
    # to one past the limit
    within = select(literal_column("1")).select_from(Order.__table__).where(*searched).limit(count_limit + 1)
    counted = session.execute(select(func.count()).select_from(within.subquery())).scalar_one()
    return searched, min(counted, count_limit), counted <= count_limit


def _count(session, conditions):
    return session.execute(select(func.count()).select_from(Order.__table__).where(and_(*conditions))).scalar_one()


def _total(session, params, conditions):
    if _counted_by_table(params):
        query = select(func.coalesce(func.sum(OrderCount.count), 0))
        if params["status"]:
            query = query.where(OrderCount.status.in_(params["status"]))
        if params["payment_status"]:
            query = query.where(OrderCount.payment_status.in_(params["payment_status"]))
        return int(session.execute(query).scalar_one())
    return _count(session, conditions)


def list_orders(source, query, cursor_secret=None, psp_references=(), count_limit=SEARCH_COUNT_LIMIT):
    """A page of the order list; ``psp_references`` are orders payments found for the search
    text (a PSP id), listed with what the search finds here."""
    params = load(ListQuerySchema(), query or {})
    return _page(source, params, _filters(params), cursor_secret, psp_references or (), count_limit)


def _page(source, params, conditions, cursor_secret, psp_references, count_limit):
    sort = paging.Sort(params["sort"])
    page, page_size, cursor = params["page"], params["page_size"], params.get("cursor")
    digest = paging.query_digest(params)
    seek = None
    if cursor:
        seek = sort.after(paging.decode_cursor(cursor_secret, cursor, sort, digest))
    keys = slice(len(SUMMARY_COLUMNS), len(SUMMARY_COLUMNS) + len(sort.columns))
    with source.read_session() as session:
        if params.get("search"):
            conditions, total, exact = _search(session, params, conditions, psp_references, count_limit)
        else:
            total, exact = _total(session, params, conditions), True
        if not cursor and page > 1:
            skip = (page - 1) * page_size
            key = paging.start_key(session, sort, conditions, skip, total if exact else None)
            seek = sort.after(key, inclusive=True) if key is not None else False
        rows = []
        if seek is not False:
            rows = session.execute(
                select(*SUMMARY_COLUMNS, *sort.columns)
                .where(*conditions, *([seek] if seek is not None else []))
                .order_by(*sort.order_by())
                .limit(page_size + 1)
            ).all()
        more = len(rows) > page_size
        rows = rows[:page_size]
        # each row's newest internal note, in the same read (the list shows it beside the order)
        notes = newest_by_order_id(session, [row[keys][-1] for row in rows]) if rows else {}
    next_cursor = paging.encode_cursor(cursor_secret, sort, digest, tuple(rows[-1][keys])) if more else None
    return {
        "items": [dict(order_summary(row), latest_note=notes.get(row[keys][-1])) for row in rows],
        "page": None if cursor else page,
        "page_size": page_size,
        "total": total,
        "total_exact": exact,
        "pages": max(1, math.ceil(total / page_size)),
        "next_cursor": next_cursor,
    }


def _customer_id(value):
    """A customer id from a path (the id or the customer number); anything else names no customer."""
    customer_id = parse_customer_ref(value)
    if customer_id is None:
        raise NotFound(f"No customer with id {value!r}.")
    return customer_id


def customer_orders(source, customer_id, query, cursor_secret=None, psp_references=(), count_limit=SEARCH_COUNT_LIMIT):
    customer_id = _customer_id(customer_id)
    with source.read_session() as session:
        if session.execute(select(C.id).where(C.id == customer_id)).first() is None:
            raise NotFound(f"No customer with id {customer_id}.")
    query = {**(query or {}), "customer_id": customer_id}
    return list_orders(source, query, cursor_secret, psp_references, count_limit)


# ---------------------------------------------------------------- customers


def customer_record(row):
    customer_id, email, first_name, last_name, language, merged_into_id, created_at = row[:7]
    return {
        "id": customer_id,
        "customer_number": customer_number(customer_id),
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "language": language,
        "merged_into_id": merged_into_id,
        "created_at": created_at.isoformat(),
    }


def list_customers(source, query):
    params = load(CustomerQuerySchema(), query or {})
    conditions = [C.merged_into_id.is_(None)]
    q = params.get("q")
    if q:
        pattern = "%" + escape_like(q.lower()) + "%"
        # a full name matches as staff type it: "Maria Keller", "Keller Maria", "Keller, Maria"
        name_pattern = "%" + escape_like(" ".join(q.lower().replace(",", " ").split())) + "%"
        first_last = func.lower(C.first_name + " " + C.last_name)
        last_first = func.lower(C.last_name + " " + C.first_name)
        alternatives = [
            func.lower(C.email).like(pattern, escape="\\"),
            func.lower(C.last_name).like(pattern, escape="\\"),
            func.lower(C.first_name).like(pattern, escape="\\"),
            first_last.like(name_pattern, escape="\\"),
            last_first.like(name_pattern, escape="\\"),
        ]
        number = parse_customer_ref(q)
        if number is not None:
            alternatives.append(C.id == number)
        conditions.append(or_(*alternatives))
    page, page_size = params["page"], params["page_size"]
    with source.read_session() as session:
        rows = session.execute(
            select(*CUSTOMER_COLUMNS)
            .where(*conditions)
            .order_by(C.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        total = session.execute(select(func.count()).select_from(Customer.__table__).where(*conditions)).scalar_one()
    return {
        "items": [customer_record(row) for row in rows],
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": max(1, math.ceil(total / page_size)),
    }


def get_customer(source, customer_id):
    customer_id = _customer_id(customer_id)
    with source.read_session() as session:
        row = session.execute(select(*CUSTOMER_COLUMNS).where(C.id == customer_id)).first()
        if row is None:
            raise NotFound(f"No customer with id {customer_id}.")
        result = customer_record(row)
        totals = session.execute(
            select(O.currency, func.count(), func.sum(O.total))
            .where(O.customer_id == customer_id, O.status.notin_(("open", "cancelled")))
            .group_by(O.currency)
            .order_by(O.currency)
        ).all()
        result["order_count"] = session.execute(
            select(func.count()).select_from(Order.__table__).where(O.customer_id == customer_id)
        ).scalar_one()
    result["totals"] = [
        {"currency": currency, "orders": count, "revenue": f"{total:.2f}"} for currency, count, total in totals
    ]
    return result
