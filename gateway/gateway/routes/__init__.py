"""Every API route, one module per area; importing this package registers them all."""
from . import bank_statements, customers, documents, exports, notes, notifications  # noqa: F401
from . import orders, payments, reports, settings, views  # noqa: F401
