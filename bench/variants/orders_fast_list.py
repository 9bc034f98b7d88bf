"""The orders service with a leaner order list — a bench-only variant measuring a proposed change.

    python bench/list_search.py --orders-variant fast_list

Same service class, same SQL filters, indexes and totals; only ``queries.list_orders`` differs:

  1. the list does not load order lines (the model's ``lazy="selectin"`` fires one more query
     and builds ~150 ORM objects per page that the summary never shows): ``noload(Order.lines)``;
  2. only the columns the summary shows are loaded (no JSON address decoding): ``load_only``;
  3. the customer reference is built as a dict, not by instantiating ``CustomerRefSchema()``
     for every row (a marshmallow Schema instance per row costs ~0.15 ms).

The proposal for services/orders is the same three edits in queries.py/schemas.py.
"""
import math

from marshmallow import fields
from sqlalchemy import and_, select
from sqlalchemy.orm import load_only, noload

from oms_common.problems import load
from orders import queries
from orders.models import Order
from orders.schemas import ListQuerySchema, OrderSummarySchema


class LeanSummarySchema(OrderSummarySchema):
    customer = fields.Function(lambda o: {"id": o.customer_id, "email": o.customer_email, "name": o.customer_name})


_summary = LeanSummarySchema()
SUMMARY_COLUMNS = (Order.id, Order.reference, Order.invoice_number, Order.status, Order.payment_status,
                   Order.payment_status_rank, Order.payment_method, Order.currency, Order.total, Order.customer_id,
                   Order.customer_email, Order.customer_name, Order.created_at, Order.updated_at)


def list_orders(source, query):
    params = load(ListQuerySchema(), query or {})
    conditions = queries._filters(params)
    sort = params["sort"]
    columns = queries.SORT_COLUMNS[sort.lstrip("-")]
    order_by = [column.desc() for column in columns] if sort.startswith("-") else [c.asc() for c in columns]
    page, page_size = params["page"], params["page_size"]
    with source.read_session() as session:
        rows = session.execute(
            select(Order).options(noload(Order.lines), load_only(*SUMMARY_COLUMNS))
            .where(and_(*conditions)).order_by(*order_by)
            .limit(page_size).offset((page - 1) * page_size)
        ).scalars().all()
        total = queries._total(session, params, conditions)
        items = [_summary.dump(order) for order in rows]
    return {"items": items, "page": page, "page_size": page_size, "total": total,
            "pages": max(1, math.ceil(total / page_size))}


queries.list_orders = list_orders

from orders.service import OrdersService  # noqa: E402,F401 - the service, now with the lean list
