"""The value lists of the wire: every service validates against these, the gateway offers them.

The order of each tuple is the order staff see (filter menus, exports' schema); new values go
at the end so nothing that stored a position moves.
"""

from typing import Final

ORDER_STATUSES: Final[tuple[str, ...]] = (
    "open",
    "payment_pending",
    "new",
    "in_progress",
    "shipped",
    "completed",
    "cancelled",
    "dunning_1",
    "dunning_2",
)
PAYMENT_STATUSES: Final[tuple[str, ...]] = (
    "unpaid",
    "announced",
    "pending",
    "authorized",
    "paid",
    "partially_refunded",
    "refunded",
    "failed",
    "voided",
    "partially_paid",
    "disputed",
)
PAYMENT_METHODS: Final[tuple[str, ...]] = ("invoice", "prepayment", "card", "paypal", "cash_on_delivery")
# the methods whose money moves through a payment service provider, and which one
PSP_OF_METHOD: Final[dict[str, str]] = {"card": "stripe", "paypal": "paypal"}
MANUAL_METHODS: Final[tuple[str, ...]] = tuple(method for method in PAYMENT_METHODS if method not in PSP_OF_METHOD)
# the languages of mails, documents and the staff UI
LANGUAGES: Final[tuple[str, ...]] = ("de", "fr", "it", "en")
# staff roles, the most powerful first
ROLES: Final[tuple[str, ...]] = ("admin", "agent", "accountant", "readonly")
# the documents the documents service issues
DOCUMENT_KINDS: Final[tuple[str, ...]] = ("invoice", "credit_note", "reminder", "delivery_note")
