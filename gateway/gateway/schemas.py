"""Response shapes the gateway composes (for the OpenAPI document); inputs reuse the owners' schemas."""

from marshmallow import Schema, fields

from oms_contracts.mails import MailLogSchema
from oms_contracts.orders import CustomerSchema, HistorySchema, OrderSchema, OrderSummarySchema
from oms_contracts.parts import alike


class ProblemSchema(Schema):
    type, title = alike(2, fields.String)
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PageSchema(Schema):
    page, page_size, total, pages = alike(4, fields.Integer)


class LatestNoteSchema(Schema):
    first_line, author = alike(2, fields.String)
    created_at = fields.DateTime()


class ListedOrderSchema(OrderSummarySchema):
    latest_note = fields.Nested(LatestNoteSchema, allow_none=True)


class OrderPageSchema(PageSchema):
    items = fields.List(fields.Nested(ListedOrderSchema))
    total_exact = fields.Boolean(
        metadata={
            "description": "false only for a `search` that found more orders than it counts "
            "(OMS_SEARCH_COUNT_LIMIT, 1000): `total` is then that limit, a lower bound"
        }
    )
    # null when the page was asked for by cursor (its number is not worked out)
    page = fields.Integer(allow_none=True)
    next_cursor = fields.String(
        allow_none=True,
        metadata={
            "description": "Pass as `cursor` (same filters and sort) for the rows after this page; null on the last "
            "page. Opaque and signed; expires after 7 days."
        },
    )
    unavailable = fields.List(
        fields.String(),
        metadata={
            "description": "The services that did not answer in time: `payments` (a search for a PSP id or payment "
            "reference misses its orders), `notes` (`latest_note` is null). Empty when all answered."
        },
    )


class OrderDetailSchema(OrderSchema):
    payment = fields.Dict(allow_none=True)
    emails = fields.List(fields.Nested(MailLogSchema))
    unavailable = fields.List(fields.String())


class HistoryPageSchema(Schema):
    items = fields.List(fields.Nested(HistorySchema))
    unavailable = fields.List(fields.String())


class CustomerPageSchema(PageSchema):
    items = fields.List(fields.Nested(CustomerSchema))


class CustomerTotalSchema(Schema):
    currency = fields.String()
    orders = fields.Integer()
    revenue = fields.String()


class CustomerDetailSchema(CustomerSchema):
    order_count = fields.Integer()
    totals = fields.List(fields.Nested(CustomerTotalSchema))


class BulkResultItemSchema(Schema):
    reference = fields.String()
    ok = fields.Boolean()
    status = fields.String()
    version = fields.Integer()
    problem = fields.Nested(ProblemSchema)


class BulkResultSchema(Schema):
    status = fields.String()
    succeeded, failed = alike(2, fields.Integer)
    results = fields.List(fields.Nested(BulkResultItemSchema))


class NumberingStateSchema(Schema):
    order_reference_start, invoice_number_start = alike(2, fields.Integer)
    invoice_prefix = fields.String()
    invoice_numbers_enabled = fields.Boolean()
    last_order_reference, last_invoice_number = alike(2, fields.Integer, allow_none=True)
    next_order_reference = fields.Integer()
    next_invoice_number = fields.String()
