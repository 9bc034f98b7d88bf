"""Every API route, one module per area; importing this package registers them all."""
from . import customers, exports, notes, notifications, orders, payments, reports, settings, views  # noqa: F401
