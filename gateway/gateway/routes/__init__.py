"""Every API route, one module per area; importing this package registers them all."""
from . import customers, exports, notifications, orders, payments, reports, settings  # noqa: F401
from . import bank_statements  # noqa: F401
