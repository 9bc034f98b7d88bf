"""Order bodies for gateway tests."""

import copy
import time
import uuid

ADDRESS = {
    "first_name": "Anna",
    "last_name": "Muster",
    "street": "Weg 1",
    "postal_code": "8000",
    "city": "Zürich",
    "country": "CH",
}


def order_body(**changes):
    body = {
        "customer": {
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "first_name": "Anna",
            "last_name": "Muster",
            "language": "de",
        },
        "billing_address": copy.deepcopy(ADDRESS),
        "lines": [{"article_number": "A-1", "name": "Tee", "quantity": 2, "unit_price": "4.50"}],
        "shipping_cost": "7.00",
        "payment_method": "invoice",
    }
    body.update(changes)
    return body


def order_state(api, reference):
    """What a refused change must leave as it was: the order as the API shows it and its history."""
    return {
        "order": api.get(f"/api/v1/orders/{reference}").json(),
        "history": api.get(f"/api/v1/orders/{reference}/history").json()["items"],
    }


def settled(read, interval=0.3, timeout=15):
    """What ``read`` answers once the events of an earlier change have landed: two reads
    ``interval`` apart agree (a refused change is compared against this, not a moving target)."""
    deadline = time.monotonic() + timeout
    previous = read()
    while time.monotonic() < deadline:
        time.sleep(interval)
        current = read()
        if current == previous:
            return current
        previous = current
    raise AssertionError(f"still changing after {timeout} s: {previous}")
