"""The project's PSP fixtures (tests/payments/fixtures), filled with OMS ids and delivered as sent."""

import re
import uuid
from pathlib import Path

import requests

FIXTURES = Path(__file__).parent / "fixtures"
_PLACEHOLDER = re.compile(r"__[A-Z]+__")


def fixture(name, provider=None, **ids):
    """The fixture's bytes with ``__KEY__`` placeholders replaced (``EVT`` gets a fresh id)."""
    text = (FIXTURES / name).read_text(encoding="utf-8").rstrip("\n")  # the file's newline is not the payload's
    provider = provider or name.split(".", 1)[0]
    ids.setdefault(
        "EVT",
        f"evt_{uuid.uuid4().hex[:24]}"
        if provider == "stripe"
        else f"WH-{uuid.uuid4().hex[:17].upper()}-{uuid.uuid4().hex[:17].upper()}",
    )
    for key, value in ids.items():
        text = text.replace(f"__{key}__", value)
    left = _PLACEHOLDER.findall(text)
    assert not left, f"{name}: unfilled {left}"
    return text.encode("utf-8"), ids["EVT"]


def deliver_stripe(fake_psp, raw):
    response = requests.post(
        fake_psp.stripe_webhook_url,
        data=raw,
        timeout=10,
        headers={"Content-Type": "application/json", "Stripe-Signature": fake_psp.sign_stripe(raw)},
    )
    return response.status_code


def deliver_paypal(fake_psp, raw):
    return fake_psp.deliver_paypal(raw)[0]


def stripe_id(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def paypal_id():
    return uuid.uuid4().hex[:17].upper()


def create_order(rpc, probe, total, currency="CHF", method="card"):
    """A real order in the orders service (its payment opened at the fake PSP); its reference."""
    from .conftest import wait_for
    from .test_webhooks import ADMIN, order_body

    body = dict(
        order_body(method),
        currency=currency,
        shipping_cost="0.00",
        lines=[{"article_number": "A-1", "name": "Item", "quantity": 1, "unit_price": total}],
    )
    order = rpc.orders.create_order(body, actor=ADMIN)["order"]
    wait_for(
        lambda: (p := probe.payment(order["reference"])) is not None and p.psp_reference,
        message="the payment opened at the PSP",
    )
    return order["reference"]
