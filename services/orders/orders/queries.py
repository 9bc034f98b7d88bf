"""Read side of the orders service: lists, search, detail, history, customers.

Each list is one indexed query; the unfiltered and status-filtered totals come from the
``order_counts`` table so that a million orders cost no count scan.
"""
import math
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import BigInteger, and_, cast, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import load_only, noload

from oms_common.problems import NotFound, load

from .domain import parse_customer_ref
from .models import Customer, Order, OrderCount, OrderHistory, OrderLine
from .schemas import (
    ArticleReportSchema, CustomerQuerySchema, CustomerSchema, HistorySchema, ListQuerySchema, OrderSchema,
    OrderSummarySchema,
)

_summary = OrderSummarySchema()
_detail = OrderSchema()
_customer = CustomerSchema()
_history = HistorySchema()

SUMMARY_COLUMNS = (Order.reference, Order.invoice_number, Order.status, Order.payment_status, Order.payment_method,
                   Order.currency, Order.total, Order.customer_id, Order.customer_email, Order.customer_name,
                   Order.created_at, Order.updated_at)
SORT_COLUMNS = {
    "created_at": (Order.created_at, Order.id),
    "payment_status": (Order.payment_status_rank, Order.created_at, Order.id),
    "total": (Order.total, Order.id),
    "status": (Order.status, Order.created_at, Order.id),
}


def escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(params):
    conditions = []
    if params["status"]:
        conditions.append(Order.status.in_(params["status"]))
    if params["payment_status"]:
        conditions.append(Order.payment_status.in_(params["payment_status"]))
    if params.get("q"):
        pattern = escape_like(params["q"]) + "%"
        conditions.append(or_(Order.reference.like(pattern, escape="\\"),
                              Order.invoice_number.like(pattern, escape="\\")))
    if params.get("customer_id"):
        conditions.append(Order.customer_id == params["customer_id"])
    if params.get("created_from"):
        conditions.append(Order.created_at >= params["created_from"])
    if params.get("created_to"):
        conditions.append(Order.created_at <= params["created_to"])
    if params.get("changed_since"):
        conditions.append(Order.updated_at > params["changed_since"])
    return conditions


def _total(session, params, conditions):
    counted_by_table = not any(params.get(key) for key in ("q", "customer_id", "created_from", "created_to",
                                                          "changed_since"))
    if counted_by_table:
        query = select(func.coalesce(func.sum(OrderCount.count), 0))
        if params["status"]:
            query = query.where(OrderCount.status.in_(params["status"]))
        if params["payment_status"]:
            query = query.where(OrderCount.payment_status.in_(params["payment_status"]))
        return int(session.execute(query).scalar_one())
    return session.execute(select(func.count()).select_from(Order).where(and_(*conditions))).scalar_one()


def list_orders(source, query):
    params = load(ListQuerySchema(), query or {})
    conditions = _filters(params)
    sort = params["sort"]
    columns = SORT_COLUMNS[sort.lstrip("-")]
    order_by = [column.desc() for column in columns] if sort.startswith("-") else [c.asc() for c in columns]
    page, page_size = params["page"], params["page_size"]
    with source.read_session() as session:
        rows = session.execute(
            select(Order).where(and_(*conditions)).order_by(*order_by)
            .limit(page_size).offset((page - 1) * page_size)
            # a list shows summaries: no lines, no address documents
            .options(noload(Order.lines), load_only(*SUMMARY_COLUMNS))
        ).scalars().all()
        total = _total(session, params, conditions)
        items = [_summary.dump(order) for order in rows]
    return {"items": items, "page": page, "page_size": page_size, "total": total,
            "pages": max(1, math.ceil(total / page_size))}


def get_order(source, reference):
    with source.read_session() as session:
        order = session.execute(select(Order).where(Order.reference == str(reference))).scalar_one_or_none()
        if order is None:
            raise NotFound(f"No order with reference '{reference}'.")
        return _detail.dump(order)


def order_history(source, reference):
    with source.read_session() as session:
        order_id = session.execute(select(Order.id).where(Order.reference == str(reference))).scalar_one_or_none()
        if order_id is None:
            raise NotFound(f"No order with reference '{reference}'.")
        entries = session.execute(
            select(OrderHistory).where(OrderHistory.order_id == order_id).order_by(OrderHistory.id)
        ).scalars().all()
        return [_history.dump(entry) for entry in entries]


def list_customers(source, query):
    params = load(CustomerQuerySchema(), query or {})
    conditions = [Customer.merged_into_id.is_(None)]
    q = params.get("q")
    if q:
        pattern = "%" + escape_like(q.lower()) + "%"
        # a full name matches as staff type it: "Maria Keller", "Keller Maria", "Keller, Maria"
        name_pattern = "%" + escape_like(" ".join(q.lower().replace(",", " ").split())) + "%"
        first_last = func.lower(Customer.first_name + " " + Customer.last_name)
        last_first = func.lower(Customer.last_name + " " + Customer.first_name)
        alternatives = [func.lower(Customer.email).like(pattern, escape="\\"),
                        func.lower(Customer.last_name).like(pattern, escape="\\"),
                        func.lower(Customer.first_name).like(pattern, escape="\\"),
                        first_last.like(name_pattern, escape="\\"),
                        last_first.like(name_pattern, escape="\\")]
        number = parse_customer_ref(q)
        if number is not None:
            alternatives.append(Customer.id == number)
        conditions.append(or_(*alternatives))
    page, page_size = params["page"], params["page_size"]
    with source.read_session() as session:
        rows = session.execute(
            select(Customer).where(*conditions).order_by(Customer.id.desc())
            .limit(page_size).offset((page - 1) * page_size)
        ).scalars().all()
        total = session.execute(select(func.count()).select_from(Customer).where(*conditions)).scalar_one()
        items = [_customer.dump(customer) for customer in rows]
    return {"items": items, "page": page, "page_size": page_size, "total": total,
            "pages": max(1, math.ceil(total / page_size))}


def _customer_id(value):
    """A customer id from a path (the id or the customer number); anything else names no customer."""
    customer_id = parse_customer_ref(value)
    if customer_id is None:
        raise NotFound(f"No customer with id {value!r}.")
    return customer_id


def get_customer(source, customer_id):
    customer_id = _customer_id(customer_id)
    with source.read_session() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"No customer with id {customer_id}.")
        result = _customer.dump(customer)
        totals = session.execute(
            select(Order.currency, func.count(), func.sum(Order.total))
            .where(Order.customer_id == customer.id, Order.status.notin_(("open", "cancelled")))
            .group_by(Order.currency).order_by(Order.currency)
        ).all()
        result["order_count"] = session.execute(
            select(func.count()).select_from(Order).where(Order.customer_id == customer.id)).scalar_one()
        result["totals"] = [{"currency": currency, "orders": count, "revenue": f"{total:.2f}"}
                            for currency, count, total in totals]
        return result


def customer_orders(source, customer_id, query):
    get_customer(source, customer_id)
    return list_orders(source, {**(query or {}), "customer_id": _customer_id(customer_id)})


# ---------------------------------------------------------------- article-order report (S12)

REPORTED_STATUSES_EXCLUDED = ("open", "cancelled")  # carts and cancelled orders sold nothing


def article_report(source, query):
    """Every line whose article number contains ``article``, of orders created between the
    dates ``from`` and ``to`` (inclusive, UTC), with totals over all of them."""
    params = load(ArticleReportSchema(), query or {})
    conditions = [
        OrderLine.article_number.ilike("%" + escape_like(params["article"]) + "%", escape="\\"),
        Order.status.notin_(REPORTED_STATUSES_EXCLUDED),
    ]
    in_range = []
    if params["date_from"]:
        in_range.append(Order.created_at >= datetime.combine(params["date_from"], time.min, timezone.utc))
    if params["date_to"]:
        day_after = params["date_to"] + timedelta(days=1)
        in_range.append(Order.created_at < datetime.combine(day_after, time.min, timezone.utc))
    conditions += in_range
    with source.read_session() as session:
        if in_range:
            # The ids of the orders in the date range, as bounds on order_lines.order_id: a
            # condition that only repeats what the join already says (so the answer cannot
            # change), but lets PostgreSQL read the range's lines through ix_order_lines_order
            # instead of every line whose article matches in all years. Ids rise with time, so
            # a month's orders are one narrow id range. ``id + 0`` keeps min/max on the date
            # index (a bare min(id) walks the primary key from the first order instead).
            low, high = session.execute(
                select(func.min(Order.id + 0), func.max(Order.id + 0)).where(*in_range)).one()
            if low is None:
                return {"items": [], "totals": {"orders": 0, "quantity": 0, "revenue": {}}, "truncated": False}
            conditions.append(OrderLine.order_id.between(low, high))
        rows = session.execute(_report_statement(conditions, params["limit"])).all()
    # tuples, not Row attributes: ten thousand lines make the difference count
    listed = [row for row in rows if row[0] == 0]
    truncated = len(listed) > params["limit"]
    items = [{
        "reference": reference, "date": created_at.isoformat(),
        "customer": {"id": customer_id, "name": customer_name},
        "article_number": article_number, "name": name, "quantity": quantity,
        "line_total": f"{line_total:.2f}", "currency": currency,
    } for (_, reference, created_at, _, _, customer_id, customer_name, currency, article_number, name, quantity,
           line_total, _) in listed[:params["limit"]]]
    per_currency = [(currency, orders, quantity, revenue)
                    for (part, _, _, _, _, _, _, currency, _, _, quantity, revenue, orders) in rows if part == 1]
    totals = {
        "orders": sum(orders for _, orders, _, _ in per_currency),
        "quantity": int(sum(quantity for _, _, quantity, _ in per_currency)),
        "revenue": {currency: f"{revenue:.2f}" for currency, _, _, revenue in per_currency},
    }
    return {"items": items, "totals": totals, "truncated": truncated}


def _report_statement(conditions, limit):
    """One statement, one pass over the matching lines: the first ``limit + 1`` of them in
    order (part 0) and the totals per currency over all of them (part 1). The matching lines
    are a CTE read twice, which PostgreSQL materialises once (a second query for the totals
    would find and join every line again)."""
    matched = (
        select(Order.id.label("order_id"), Order.reference, Order.created_at, Order.customer_id, Order.customer_name,
               Order.currency, OrderLine.position, OrderLine.article_number, OrderLine.name, OrderLine.quantity,
               OrderLine.line_total)
        .join_from(Order, OrderLine, OrderLine.order_id == Order.id).where(*conditions)
        .cte("matched")
    )
    m = matched.c
    page = (
        select(literal_column("0").label("part"), m.reference, m.created_at, m.order_id, m.position, m.customer_id,
               m.customer_name, m.currency, m.article_number, m.name, m.quantity, m.line_total,
               cast(null(), BigInteger).label("orders"))
        .order_by(m.created_at, m.order_id, m.position).limit(limit + 1)
        .subquery("page")
    )
    totals = (
        select(literal_column("1"), null(), null(), null(), null(), null(), null(), m.currency, null(), null(),
               func.sum(m.quantity), func.sum(m.line_total), func.count(func.distinct(m.order_id)))
        .group_by(m.currency)
    )
    report = union_all(select(*page.c), totals).subquery("report")
    r = report.c
    return select(report).order_by(r.part, r.created_at, r.order_id, r.position, r.currency)
