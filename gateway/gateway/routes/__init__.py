"""Every API route, one module per area; importing this package registers them all."""

from . import (  # noqa: F401  # noqa: F401
    bank_statements,
    customers,
    documents,
    exports,
    notes,
    notifications,
    orders,
    payments,
    reports,
    settings,
    views,
)
