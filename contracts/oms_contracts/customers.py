"""How a customer is named on the wire: by id (9) or by the number staff see (C000009)."""

from typing import Final

CUSTOMER_NUMBER_PREFIX: Final = "C"
MAX_ID: Final = 2**63 - 1  # the id column is a bigint


def customer_number(customer_id: int) -> str:
    """The number staff see for a customer (C000009 for id 9)."""
    return f"{CUSTOMER_NUMBER_PREFIX}{customer_id:06d}"


def parse_customer_ref(value: object) -> int | None:
    """A customer id from the id itself (9, "9") or the customer number ("C000009"); None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text[:1].upper() == CUSTOMER_NUMBER_PREFIX:
        text = text[1:]
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
