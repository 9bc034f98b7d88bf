"""What the configured providers can do: no broker, no database, no PSP."""

from decimal import Decimal

from payments import domain
from payments.changes import payment_view
from payments.models import Payment
from payments.psp import build_adapters
from payments.reads import provider_configuration


def test_an_unconfigured_provider_offers_nothing_that_calls_it():
    assert domain.allowed_operations("stripe", "pending", 0, 0, 0, provider_configured=False) == ["complete"]
    assert domain.allowed_operations("paypal", "paid", Decimal("9"), 0, 0, provider_configured=False) == []
    # manual bookkeeping needs no provider
    assert domain.allowed_operations(
        "manual", "unpaid", 0, 0, 0, provider_configured=False
    ) == domain.allowed_operations("manual", "unpaid", 0, 0, 0)


def test_configuration_names_the_missing_settings_per_method():
    config = {
        "STRIPE_API_KEY": "",
        "PAYPAL_API_BASE": "https://paypal.example",
        "PAYPAL_CLIENT_ID": "id",
        "PAYPAL_CLIENT_SECRET": "",
    }
    answer = provider_configuration(build_adapters(config), config)
    assert answer["methods"]["card"] == {
        "provider": "stripe",
        "name": "Stripe",
        "configured": False,
        "missing": ["OMS_STRIPE_API_KEY"],
        "reason": "Stripe is not configured (set OMS_STRIPE_API_KEY).",
    }
    assert (answer["methods"]["paypal"]["configured"], answer["methods"]["paypal"]["missing"]) == (
        False,
        ["OMS_PAYPAL_CLIENT_SECRET"],
    )
    assert answer["providers"]["manual"]["configured"] is True
    configured = {
        "STRIPE_API_KEY": "sk_test_x",
        "PAYPAL_API_BASE": "https://paypal.example",
        "PAYPAL_CLIENT_ID": "id",
        "PAYPAL_CLIENT_SECRET": "secret",
    }
    answer = provider_configuration(build_adapters(configured), configured)
    assert all(state["configured"] and not state["missing"] for state in answer["methods"].values())


def test_the_payment_view_leaves_out_what_the_provider_cannot_run_and_says_why():
    payment = Payment(
        order_reference="100001",
        method="card",
        provider="stripe",
        status="pending",
        currency="CHF",
        amount=Decimal("10.00"),
        captured_amount=Decimal("0"),
        refunded_amount=Decimal("0"),
        dunning_level=0,
        sequence=1,
        version=1,
    )
    config = {"STRIPE_API_KEY": ""}
    view = payment_view(payment, provider_configuration(build_adapters(config), config))
    assert view["allowed_operations"] == ["complete"]
    assert view["operations_unavailable"] == {"void": "Stripe is not configured (set OMS_STRIPE_API_KEY)."}
    assert payment_view(payment)["allowed_operations"] == ["complete", "void"]
    assert payment_view(payment)["operations_unavailable"] == {}
