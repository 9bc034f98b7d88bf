"""Every API route, one module per area; importing this package registers them all."""
from . import customers, documents, exports, notifications, orders, payments, reports, settings  # noqa: F401
