"""The orders service's RPC language: what callers send (``inputs``), the list and report queries
(``lists``) and what they get back (``answers``).

The gateway validates and documents its routes with these same schemas, by the names below.
"""

from .answers import CustomerSchema, HistorySchema, OrderSchema, OrderSummarySchema
from .inputs import (
    BulkStatusSchema,
    CancelSchema,
    CreateOrderSchema,
    InvoiceNumberSchema,
    MergeCustomersSchema,
    NumberingSchema,
    ReassignCustomerSchema,
    ReplaceLinesSchema,
    SessionSchema,
    ShipSchema,
    StatusChangeSchema,
)
from .lists import ArticleReportSchema, CustomerQuerySchema, ListQuerySchema

__all__ = [
    "ArticleReportSchema",
    "BulkStatusSchema",
    "CancelSchema",
    "CreateOrderSchema",
    "CustomerQuerySchema",
    "CustomerSchema",
    "HistorySchema",
    "InvoiceNumberSchema",
    "ListQuerySchema",
    "MergeCustomersSchema",
    "NumberingSchema",
    "OrderSchema",
    "OrderSummarySchema",
    "ReassignCustomerSchema",
    "ReplaceLinesSchema",
    "SessionSchema",
    "ShipSchema",
    "StatusChangeSchema",
]
