"""Unit tests of an order's money (services/orders/orders/money.py): no I/O at all."""

from decimal import Decimal

import pytest

from orders import money


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0.005", "0.01"),  # half up, not banker's rounding
        ("0.015", "0.02"),
        ("2.675", "2.68"),
        (2.675, "2.68"),  # a float must not round the wrong way (2.67499999…)
        ("1", "1.00"),
        ("-0.005", "-0.01"),
        (Decimal("19.994"), "19.99"),
    ],
)
def test_money_rounds_half_up_to_cents(value, expected):
    assert money.money(value) == Decimal(expected)
    assert str(money.money(value)) == expected


def test_line_total_multiplies_then_rounds_once():
    assert money.line_total(3, "0.335") == Decimal("1.01")  # 1.005 → 1.01, not 3 × 0.34
    assert money.line_total(2, "9.95") == Decimal("19.90")


def test_order_totals_sum_rounded_lines_and_shipping():
    subtotal, total = money.order_totals([(3, "0.335"), (1, "10"), (2, "0.125")], "7.005")
    assert subtotal == Decimal("11.26")  # 1.01 + 10.00 + 0.25
    assert total == Decimal("18.27")  # + 7.01


def test_order_totals_of_free_order():
    assert money.order_totals([(1, "0")], "0") == (Decimal("0.00"), Decimal("0.00"))
