"""What the orders service answers and announces: orders, customers and history entries as plain
JSON (money as decimal strings, times as ISO 8601) in RPC results and events. The service fills
the computed parts (tax breakdown, allowed transitions) from its own rules (``orders.answers``)."""

from marshmallow import Schema, fields

from oms_contracts.audit import AuditEntrySchema
from oms_contracts.parts import alike


class LineSchema(Schema):
    position = fields.Integer()
    article_number, name = alike(2, fields.String)
    quantity = fields.Integer()
    unit_price, line_total = alike(2, fields.Decimal, as_string=True, places=2)
    tax_rate = fields.Decimal(as_string=True, places=2, allow_none=True)


class TaxRowSchema(Schema):
    rate, net, tax, gross = alike(4, fields.Decimal, as_string=True, places=2)


class OrderCustomerSchema(Schema):
    """Who placed the order, as they were named on it."""

    id = fields.Integer()
    email, name = alike(2, fields.String)


class OrderSummarySchema(Schema):
    reference = fields.String()
    invoice_number = fields.String(allow_none=True)
    status, payment_status, payment_method, currency = alike(4, fields.String)
    total = fields.Decimal(as_string=True, places=2)
    customer = fields.Nested(OrderCustomerSchema)
    created_at, updated_at = alike(2, fields.DateTime)


class OrderSchema(OrderSummarySchema):
    invoice_number_external = fields.Boolean()
    language = fields.String()
    subtotal, shipping_cost = alike(2, fields.Decimal, as_string=True, places=2)
    billing_address, shipping_address = alike(2, fields.Dict)
    lines = fields.List(fields.Nested(LineSchema))
    session_id = fields.String(allow_none=True)
    paused = fields.Boolean()
    tracking_number = fields.String(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    # VAT: what the tax figures rest on, and the breakdown per rate (tax.order_breakdown)
    tax_country = fields.String(allow_none=True)
    prices_include_tax = fields.Boolean(allow_none=True)
    shipping_tax_rate = fields.Decimal(as_string=True, places=2, allow_none=True)
    tax_breakdown = fields.List(fields.Nested(TaxRowSchema))
    # what staff may choose in a plain status change now: the UI offers these, it keeps no copy of the rule
    allowed_transitions = fields.List(fields.String())


class CustomerSchema(Schema):
    id = fields.Integer()
    customer_number, email, first_name, last_name, language = alike(5, fields.String)
    merged_into_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class HistorySchema(AuditEntrySchema):
    email = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
