"""Read side of the orders service beside ``reads``: order detail, history, the article report."""

from datetime import datetime, time, timedelta, timezone

from sqlalchemy import BigInteger, cast, func, literal_column, null, select, union_all

from oms_common.problems import NotFound, load
from oms_contracts.orders.answers import HistorySchema
from oms_contracts.orders.lists import ArticleReportSchema

from .answers import OrderDump
from .models import Order, OrderHistory, OrderLine
from .search import escape_like

_detail = OrderDump()
_history = HistorySchema()


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
        entries = (
            session.execute(select(OrderHistory).where(OrderHistory.order_id == order_id).order_by(OrderHistory.id))
            .scalars()
            .all()
        )
        return [_history.dump(entry) for entry in entries]


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
            low, high = session.execute(select(func.min(Order.id + 0), func.max(Order.id + 0)).where(*in_range)).one()
            if low is None:
                return {"items": [], "totals": {"orders": 0, "quantity": 0, "revenue": {}}, "truncated": False}
            conditions.append(OrderLine.order_id.between(low, high))
        rows = session.execute(_report_statement(conditions, params["limit"])).all()
    # tuples, not Row attributes: ten thousand lines make the difference count
    listed = [row for row in rows if row[0] == 0]
    truncated = len(listed) > params["limit"]
    items = [
        {
            "reference": reference,
            "date": created_at.isoformat(),
            "customer": {"id": customer_id, "name": customer_name},
            "article_number": article_number,
            "name": name,
            "quantity": quantity,
            "line_total": f"{line_total:.2f}",
            "currency": currency,
        }
        for (
            _,
            reference,
            created_at,
            _,
            _,
            customer_id,
            customer_name,
            currency,
            article_number,
            name,
            quantity,
            line_total,
            _,
        ) in listed[: params["limit"]]
    ]
    per_currency = [
        (currency, orders, quantity, revenue)
        for (part, _, _, _, _, _, _, currency, _, _, quantity, revenue, orders) in rows
        if part == 1
    ]
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
        select(
            Order.id.label("order_id"),
            Order.reference,
            Order.created_at,
            Order.customer_id,
            Order.customer_name,
            Order.currency,
            OrderLine.position,
            OrderLine.article_number,
            OrderLine.name,
            OrderLine.quantity,
            OrderLine.line_total,
        )
        .join_from(Order, OrderLine, OrderLine.order_id == Order.id)
        .where(*conditions)
        .cte("matched")
    )
    m = matched.c
    page = (
        select(
            literal_column("0").label("part"),
            m.reference,
            m.created_at,
            m.order_id,
            m.position,
            m.customer_id,
            m.customer_name,
            m.currency,
            m.article_number,
            m.name,
            m.quantity,
            m.line_total,
            cast(null(), BigInteger).label("orders"),
        )
        .order_by(m.created_at, m.order_id, m.position)
        .limit(limit + 1)
        .subquery("page")
    )
    totals = select(
        literal_column("1"),
        null(),
        null(),
        null(),
        null(),
        null(),
        null(),
        m.currency,
        null(),
        null(),
        func.sum(m.quantity),
        func.sum(m.line_total),
        func.count(func.distinct(m.order_id)),
    ).group_by(m.currency)
    report = union_all(select(*page.c), totals).subquery("report")
    r = report.c
    return select(report).order_by(r.part, r.created_at, r.order_id, r.position, r.currency)
