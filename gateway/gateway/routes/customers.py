"""Customer routes of api.md: list, detail with totals, order history."""

from functools import partial

from oms_contracts import orders as wire
from oms_contracts.customers import parse_customer_ref

from ..psp_search import list_with_psp_search
from ..router import router
from ..schemas import CustomerDetailSchema, CustomerPageSchema, OrderPageSchema
from .forward import forward
from .orders import REPEATABLE

TAGS = ["customers"]


def _customer_id(value):
    """The id, or the customer number as the UI shows it (C000009)."""
    from oms_common.problems import NotFound

    customer_id = parse_customer_ref(value)
    if customer_id is None:
        raise NotFound(f"No customer with id {value!r}.")
    return customer_id


_forward = partial(forward, "orders", TAGS)

_forward(
    "list_customers",
    "GET",
    "/api/v1/customers",
    "read",
    "Search customers",
    query=wire.CustomerQuerySchema,
    response=CustomerPageSchema,
)

_forward(
    "get_customer",
    "GET",
    "/api/v1/customers/<customer_id>",
    "read",
    "Customer with order count and totals",
    convert=_customer_id,
    response=CustomerDetailSchema,
)


@router.route(
    "GET",
    "/api/v1/customers/<customer_id>/orders",
    "read",
    "The customer's complete order history",
    TAGS,
    query=wire.ListQuerySchema,
    response=OrderPageSchema,
)
def customer_orders(ctx, customer_id):
    query = ctx.query(repeatable=REPEATABLE, drop=("customer_id",))
    return list_with_psp_search(ctx, "customer_orders", _customer_id(customer_id), query=query)


_forward(
    "merge_customers",
    "POST",
    "/api/v1/customers/<customer_id>/merge",
    "orders.customer",
    "Merge a duplicate customer into another: every order moves, the duplicate is retired",
    convert=_customer_id,
    body=wire.MergeCustomersSchema,
    response=CustomerDetailSchema,
)
