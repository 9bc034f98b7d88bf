"""VAT: date-effective tables, rounding once per rate, and the breakdown in the order detail."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from oms_common.settings import SettingsError, setting
from orders import tax
from tests.support.samples import invoice_address

D = Decimal


@pytest.mark.parametrize(
    "country, day, standard, reduced",
    [
        ("CH", date(2023, 12, 31), "7.7", "2.5"),
        ("CH", date(2024, 1, 1), "8.1", "2.6"),
        ("DE", date(2020, 8, 1), "16", "5"),
        ("DE", date(2026, 12, 2), "19", "7"),
    ],
)
def test_the_rate_follows_the_date_of_supply(country, day, standard, reduced):
    rates = tax.rates_on(country, day)
    assert rates["standard"] == D(standard) and rates["reduced"] == D(reduced)
    assert tax.default_rate(country, day) == D(standard)


def test_swiss_accommodation_rate_changed_too():
    assert tax.rates_on("CH", date(2023, 6, 1))["accommodation"] == D("3.7")
    assert tax.rates_on("CH", date(2024, 6, 1))["accommodation"] == D("3.8")


def test_the_day_of_supply_is_the_shops_day():
    new_year_in_zurich = datetime(2023, 12, 31, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 January there
    assert tax.supply_date(new_year_in_zurich, "Europe/Zurich") == date(2024, 1, 1)
    assert tax.default_rate("CH", tax.supply_date(new_year_in_zurich, "Europe/Zurich")) == D("8.1")


def test_a_rate_not_in_force_is_named():
    errors = tax.rate_errors(
        [{"tax_rate": D("8.1")}, {"tax_rate": D("7.7")}, {"tax_rate": None}], "CH", date(2024, 3, 1)
    )
    assert list(errors) == ["lines.1.tax_rate"]
    assert tax.rate_errors([{"tax_rate": D("0")}], "DE", date(2024, 3, 1)) == {}


def test_gross_prices_round_the_tax_once_per_rate():
    # three lines of 0.05 at 8.1 %: per line 0.00 each, on the sum 0.01
    rows = tax.breakdown([(D("0.05"), D("8.1"))] * 3 + [(D("10.00"), D("2.6"))], True, "CHF")
    assert rows == [
        {"rate": D("8.10"), "net": D("0.14"), "tax": D("0.01"), "gross": D("0.15")},
        {"rate": D("2.60"), "net": D("9.75"), "tax": D("0.25"), "gross": D("10.00")},
    ]


def test_net_prices_add_the_tax():
    rows = tax.breakdown([(D("100.00"), D("19")), (D("10.00"), D("7"))], False, "EUR")
    assert rows == [
        {"rate": D("19.00"), "net": D("100.00"), "tax": D("19.00"), "gross": D("119.00")},
        {"rate": D("7.00"), "net": D("10.00"), "tax": D("0.70"), "gross": D("10.70")},
    ]
    assert tax.added_tax(rows, False) == D("19.70") and tax.added_tax(rows, True) == D("0.00")


def test_a_currency_without_minor_unit_rounds_to_whole_units():
    assert tax.tax_amount(D("1000"), D("8.1"), True, "JPY") == D("75.00")


def _orders_settings(config):
    return lambda key: setting(config, key, "orders", environ={})


def test_the_settings_refuse_what_they_do_not_know():
    assert tax.tax_settings(_orders_settings({"TAX": {"COUNTRY": "de", "PRICES": "NET"}})) == tax.TaxSettings(
        "DE", "net"
    )
    with pytest.raises(SettingsError, match="OMS_TAX_COUNTRY is one of CH, DE; it is 'FR'"):
        tax.tax_settings(_orders_settings({"TAX": {"COUNTRY": "FR"}}))
    with pytest.raises(SettingsError, match="OMS_TAX_PRICES"):
        tax.tax_settings(_orders_settings({"TAX": {"PRICES": "both"}}))


ORDER = {
    "customer": {"email": "tax-buyer@example.com", "first_name": "Anna", "last_name": "Muster", "language": "de"},
    "billing_address": invoice_address(),
    "lines": [
        {"article_number": "T-1", "name": "Teekanne", "quantity": 2, "unit_price": "54.05"},
        {"article_number": "B-1", "name": "Grüntee", "quantity": 1, "unit_price": "10.26", "tax_rate": "2.6"},
    ],
    "shipping_cost": "8.00",
    "currency": "CHF",
    "payment_method": "invoice",
}


def test_the_order_detail_carries_rates_and_the_breakdown(admin):
    created = admin.post("/api/v1/orders", json=ORDER)
    assert created.status_code == 201, created.text
    detail = admin.get(f"/api/v1/orders/{created.json()['reference']}").json()
    assert [line["tax_rate"] for line in detail["lines"]] == ["8.10", "2.60"]
    assert detail["tax_country"] == "CH" and detail["prices_include_tax"] is True
    # 108.10 + 8.00 shipping at 8.1 %: 116.10 gross → 8.70 tax; 10.26 at 2.6 % → 0.26
    assert detail["tax_breakdown"] == [
        {"rate": "8.10", "net": "107.40", "tax": "8.70", "gross": "116.10"},
        {"rate": "2.60", "net": "10.00", "tax": "0.26", "gross": "10.26"},
    ]
    assert detail["total"] == "126.36"  # gross prices: the tax is inside


def test_a_wrong_rate_is_refused_by_name_and_no_order_is_made(admin):
    before = admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]
    body = {**ORDER, "lines": [{**ORDER["lines"][0], "tax_rate": "7.7"}]}
    answer = admin.post("/api/v1/orders", json=body)
    assert answer.status_code == 422, answer.text
    assert list(answer.json()["errors"]) == ["lines.0.tax_rate"]
    answer = admin.post("/api/v1/orders", json={**ORDER, "lines": [{**ORDER["lines"][0], "tax_rate": "abc"}]})
    assert answer.status_code == 422 and "lines.0.tax_rate" in answer.json()["errors"]
    assert admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"] == before


def test_a_net_priced_german_shop_adds_the_tax_to_the_total(container_factory, service_config):
    from nameko.testing.services import entrypoint_hook

    from orders.service import OrdersService

    container = container_factory(OrdersService, {**service_config, "TAX": {"COUNTRY": "DE", "PRICES": "net"}})
    container.start()
    body = {
        **ORDER,
        "currency": "EUR",
        "shipping_cost": "5.00",
        "customer": {**ORDER["customer"], "email": "net-buyer@example.com"},
        "lines": [
            {"article_number": "D-1", "name": "Kanne", "quantity": 1, "unit_price": "100.00"},
            {"article_number": "D-2", "name": "Buch", "quantity": 2, "unit_price": "5.00", "tax_rate": "7"},
        ],
    }
    with entrypoint_hook(container, "create_order") as create:
        order = create(body)["order"]
    assert order["prices_include_tax"] is False and order["tax_country"] == "DE"
    assert order["tax_breakdown"] == [
        {"rate": "19.00", "net": "105.00", "tax": "19.95", "gross": "124.95"},
        {"rate": "7.00", "net": "10.00", "tax": "0.70", "gross": "10.70"},
    ]
    assert order["subtotal"] == "110.00" and order["total"] == "135.65"
