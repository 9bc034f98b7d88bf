"""Amounts by each currency's exponent as the PSP defines it; what OMS cannot represent is refused."""

from decimal import Decimal

import pytest

from payments import currencies
from payments.currencies import CurrencyError

from .conftest import new_reference, order_event, wait_for
from .psp_fixtures import deliver_paypal, fixture, paypal_id


@pytest.mark.parametrize("currency", sorted(currencies.STRIPE_ZERO_DECIMAL))
def test_stripe_zero_decimal_currencies(currency):
    assert currencies.to_stripe_minor(Decimal("500"), currency) == 500
    assert currencies.from_stripe_minor(500, currency) == Decimal("500")
    with pytest.raises(CurrencyError):
        currencies.to_stripe_minor(Decimal("500.50"), currency)


@pytest.mark.parametrize("currency", ["BHD", "JOD", "KWD", "OMR", "TND"])
def test_stripe_three_decimal_currencies(currency):
    assert currencies.from_stripe_minor(5124, currency) == Decimal("5.124")
    assert currencies.to_stripe_minor(Decimal("5.120"), currency) == 5120
    with pytest.raises(CurrencyError):  # Stripe takes only amounts whose last digit is 0
        currencies.to_stripe_minor(Decimal("5.124"), currency)


def test_stripe_special_cases_isk_and_huf():
    # ISK: two-decimal in Stripe's API (100 = 1 króna), whole krónur only
    assert currencies.to_stripe_minor(Decimal("5"), "ISK") == 500
    assert currencies.from_stripe_minor(500, "ISK") == Decimal("5")
    with pytest.raises(CurrencyError):
        currencies.to_stripe_minor(Decimal("5.10"), "ISK")
    # HUF: charged with two decimals (zero-decimal only for payouts)
    assert currencies.to_stripe_minor(Decimal("10.45"), "HUF") == 1045
    assert currencies.from_stripe_minor(1045, "HUF") == Decimal("10.45")
    assert currencies.to_stripe_minor(Decimal("19.95"), "EUR") == 1995


def test_amounts_oms_cannot_represent_are_refused_not_rounded():
    with pytest.raises(CurrencyError):
        currencies.from_paypal_value("10.005", "USD")
    with pytest.raises(CurrencyError):
        currencies.from_paypal_value("100.50", "JPY")  # PayPal takes JPY without decimals
    with pytest.raises(CurrencyError):
        currencies.from_paypal_value("1e3", "USD")
    with pytest.raises(CurrencyError):
        currencies.from_stripe_minor(10**18, "usd")
    with pytest.raises(CurrencyError):
        currencies.to_stripe_minor(Decimal("1.001"), "usd")
    with pytest.raises(CurrencyError):
        currencies.code("US")
    with pytest.raises(ValueError):  # a malformed event, not an amount
        currencies.from_stripe_minor("100", "usd")
    assert currencies.from_paypal_value("100", "JPY") == Decimal("100")


@pytest.mark.parametrize(
    "total, currency, minor, shown", [("5000", "JPY", 5000, "5000.00"), ("123.450", "KWD", 123450, "123.450")]
)
def test_jpy_and_kwd_amounts_are_stored_exactly(
    total, currency, minor, shown, payments_service, submit_order, fake_psp, probe, rpc
):
    reference = submit_order("card", total=total, currency=currency)
    pid = probe.payment(reference).psp_reference
    assert fake_psp.intents[pid]["amount"] == minor and fake_psp.intents[pid]["currency"] == currency.lower()
    assert fake_psp.deliver_stripe(fake_psp.succeed_intent(pid)) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="paid")
    payment = probe.payment(reference)
    assert payment.amount == payment.captured_amount == Decimal(total)
    detail = rpc.payments.get_payment(reference)
    assert (detail["amount"], detail["captured_amount"]) == (shown, shown)
    refunded = rpc.payments.refund_payment(
        reference, {"amount": "1"}, {"name": "bea", "kind": "user", "role": "accountant"}
    )
    charge = fake_psp.charges[fake_psp.intents[pid]["latest_charge"]]
    assert charge["amount_refunded"] == (1 if currency == "JPY" else 1000)
    assert refunded["refunded_amount"] == ("1.00" if currency == "JPY" else "1.000")


def test_an_amount_stripe_cannot_take_is_refused_visibly_not_rounded(payments_service, dispatch, fake_psp, probe, rpc):
    reference = new_reference()
    before = len(fake_psp.intents)
    dispatch("order_submitted", order_event(reference, "card", total="12.345", currency="KWD"))
    wait_for(
        lambda: probe.payment(reference) is not None and probe.audit(reference, "psp_amount_refused"),
        message="the refusal recorded",
    )
    detail = rpc.payments.get_payment(reference)
    assert detail["status"] == "pending" and detail["psp_reference"] is None
    assert detail["amount"] == "12.345" and "KWD" in detail["failure_reason"]
    assert not [
        i
        for i in list(fake_psp.intents.values())[before:]
        if (i.get("metadata") or {}).get("order_reference") == reference
    ]


def test_a_paypal_amount_with_too_many_decimals_is_flagged_not_stored(payments_service, submit_order, fake_psp, probe):
    reference = submit_order("paypal", total="57.00", currency="USD")
    raw, event_id = fixture(
        "paypal.PAYMENT.CAPTURE.COMPLETED.json",
        ORDER=reference,
        PPO=probe.payment(reference).psp_reference,
        CAP=paypal_id(),
    )
    raw = raw.replace(b'"value":"57.00"},"final_capture"', b'"value":"57.005"},"final_capture"')
    assert b"57.005" in raw
    assert deliver_paypal(fake_psp, raw) == 200
    row = wait_for(
        lambda: (rows := probe.inbox(provider_event_id=event_id)) and rows[0].status != "received" and rows[0],
        message="processed",
    )
    assert row.status == "flagged" and "decimals" in row.note
    assert probe.status(reference) == "pending" and probe.payment(reference).captured_amount == 0
