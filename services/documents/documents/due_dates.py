"""The day an invoice is to be paid by, as its ``document_issued`` tells payments (which dunns
after it): the shop's day of issue plus the profile's payment term, for invoice orders only (the
same day the invoice prints as "payable by")."""

from . import domain, invoices


def of_invoice(order, profile, issued_at, timezone_name):
    """The ISO due date of the invoice of ``order`` issued at ``issued_at``, or None (not an invoice order)."""
    if order.get("payment_method") != "invoice":
        return None
    issued_on = invoices.shop_day(issued_at, timezone_name)
    return domain.due_date(issued_on, int(profile.get("payment_term_days") or 0)).isoformat()
