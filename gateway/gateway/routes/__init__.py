"""Every API route, one module per area; importing this package registers them all."""
from . import bank_statements, customers, documents, exports, notifications, orders  # noqa: F401
from . import payments, reports, settings  # noqa: F401
