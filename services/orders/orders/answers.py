"""The order answer of the contracts, filled from an order row: the customer it was placed by, and
the parts this service's own rules compute (tax breakdown per rate, the status changes allowed now)."""

from marshmallow import fields

from oms_contracts.orders import OrderSchema
from oms_contracts.orders.answers import TaxRowSchema

from .domain import status_change_targets
from .models import Order
from .tax import order_tax_breakdown

_tax_rows = TaxRowSchema(many=True)


def _customer(order: Order) -> dict[str, object]:
    return {"id": order.customer_id, "email": order.customer_email, "name": order.customer_name}


class OrderDump(OrderSchema):
    customer = fields.Function(_customer)
    tax_breakdown = fields.Function(lambda order: _tax_rows.dump(order_tax_breakdown(order)))
    allowed_transitions = fields.Function(lambda order: status_change_targets(order.status))
