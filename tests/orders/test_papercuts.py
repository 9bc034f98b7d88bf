"""Answers that say what happened: amounts in the currency's places, submit twice, reassign,
customer search by full name, customer numbers as the UI shows them."""

import pytest

from oms_common.currencies import exponent, from_minor_units, to_minor_units
from oms_common.problems import Conflict, NotFound, ValidationFailed
from tests.orders.conftest import ADMIN


def line(price, quantity=1):
    return {"article_number": "P-1", "name": "Pen", "quantity": quantity, "unit_price": price}


def test_the_currency_table_knows_minor_units():
    assert (exponent("CHF"), exponent("eur"), exponent("JPY"), exponent("KWD"), exponent("XYZ")) == (2, 2, 0, 3, 2)
    assert to_minor_units("5.10", "CHF") == 510 and to_minor_units("500", "JPY") == 500
    assert to_minor_units("1.234", "KWD") == 1234 and str(from_minor_units(1234, "KWD")) == "1.234"
    with pytest.raises(ValueError):
        to_minor_units("5.001", "CHF")


@pytest.mark.parametrize(
    ("currency", "changes", "field"),
    [
        ("CHF", {"lines": [line("4.50"), line("5.001")]}, "lines.1.unit_price"),
        ("EUR", {"shipping_cost": "7.005"}, "shipping_cost"),
        ("JPY", {"lines": [line("500.5")], "shipping_cost": "0"}, "lines.0.unit_price"),
        ("KWD", {"lines": [line("1.125")]}, "lines.0.unit_price"),  # KWD has 3; OMS keeps cents
    ],
)
def test_more_decimals_than_the_currency_has_is_refused_naming_the_field(
    call, order_data, unique, currency, changes, field
):
    email = f"places-{unique}@example.com"
    with pytest.raises(ValidationFailed) as refused:
        call("create_order", order_data(email=email, currency=currency, **changes), actor=ADMIN)
    assert field in refused.value.errors
    assert call("list_customers", {"q": email})["total"] == 0  # nothing was created


def test_amounts_within_the_currency_places_are_taken_as_given(call, order_data):
    yen = call("create_order", order_data(currency="JPY", lines=[line("500", 2)], shipping_cost="300.00"), actor=ADMIN)[
        "order"
    ]
    assert (yen["subtotal"], yen["total"]) == ("1000.00", "1300.00")
    francs = call("create_order", order_data(lines=[line("5.10", 3)], shipping_cost="0.5"), actor=ADMIN)["order"]
    assert francs["total"] == "15.80"


def test_replacing_lines_checks_the_places_in_the_order_currency(call, create, unique):
    session = f"sess-{unique}"
    order = create(submit=False, session_id=session, currency="JPY", lines=[line("500")], shipping_cost="0")
    with pytest.raises(ValidationFailed) as refused:
        call("replace_lines", order["reference"], {"session_id": session, "lines": [line("500"), line("9.99")]})
    assert "lines.1.unit_price" in refused.value.errors
    unchanged = call("get_order", order["reference"])
    assert (unchanged["lines"], unchanged["version"]) == (order["lines"], order["version"])


def test_submitting_a_submitted_order_says_it_is_already_submitted(call, create, unique):
    session = f"sess-{unique}"
    order = create(submit=False, session_id=session)
    submitted = call("submit_order", order["reference"], {"session_id": session})
    with pytest.raises(Conflict) as refused:
        call("submit_order", order["reference"], {"session_id": session})
    assert "already submitted" in refused.value.detail
    assert "cannot move to 'open'" not in refused.value.detail
    after = call("get_order", order["reference"])
    assert (after["status"], after["version"], after["invoice_number"]) == (
        submitted["status"],
        submitted["version"],
        submitted["invoice_number"],
    )
    assert [entry["action"] for entry in call("order_history", order["reference"])].count("submitted") == 1


def test_reassigning_answers_with_the_new_customer_and_the_history_names_both(call, create):
    order, other = create(), create()
    moved = call("reassign_customer", order["reference"], {"customer_id": other["customer"]["id"]}, actor=ADMIN)
    assert moved["customer"]["email"] == other["customer"]["email"] != order["customer"]["email"]
    details = call("order_history", order["reference"])[-1]["details"]
    assert details["from_customer"]["email"] == order["customer"]["email"]
    assert details["to_customer"]["email"] == other["customer"]["email"]
    assert details["to_customer"]["customer_number"] == f"C{other['customer']['id']:06d}"


def test_customer_search_matches_full_names_either_way(call, order_data, unique):
    surname = f"Keller{unique}"
    customer = call(
        "create_order",
        order_data(
            customer={
                "email": f"maria-{unique}@example.com",
                "first_name": "Maria",
                "last_name": surname,
                "language": "de",
            }
        ),
        actor=ADMIN,
    )["order"]["customer"]

    def found(q):
        return [item["id"] for item in call("list_customers", {"q": q})["items"]]

    for q in (
        f"Maria {surname}",
        f"maria {surname.lower()}",
        f"{surname} Maria",
        f"{surname}, Maria",
        f"  Maria   {surname} ",
        surname.lower(),
        f"ria {surname[:8]}",
    ):
        assert customer["id"] in found(q), q
    assert customer["id"] not in found(f"Anna {surname}")
    assert customer["id"] in found(f"C{customer['id']:06d}")


def test_merge_and_reassign_take_the_customer_number_as_the_ui_shows_it(call, create):
    order, target, duplicate = create(), create(), create()
    number = f"C{target['customer']['id']:06d}"
    moved = call("reassign_customer", order["reference"], {"customer_id": number}, actor=ADMIN)
    assert moved["customer"]["id"] == target["customer"]["id"]
    merged = call("merge_customers", f"C{duplicate['customer']['id']:06d}", {"into": number.lower()}, actor=ADMIN)
    assert (merged["customer_id"], merged["into"]) == (duplicate["customer"]["id"], target["customer"]["id"])
    assert call("get_customer", number)["id"] == target["customer"]["id"]


@pytest.mark.parametrize("bad", ["X000009", "C", "C-9", "0", "C000000", "9.5", 0, -3, True, 2.0, None, [9]])
def test_bad_customer_references_are_refused_naming_the_field_and_change_nothing(call, create, bad):
    order, other = create(), create()
    with pytest.raises(ValidationFailed) as refused:
        call("reassign_customer", order["reference"], {"customer_id": bad}, actor=ADMIN)
    assert "customer_id" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        call("merge_customers", other["customer"]["id"], {"into": bad}, actor=ADMIN)
    assert "into" in refused.value.errors
    assert call("get_order", order["reference"])["version"] == order["version"]
    assert call("get_customer", other["customer"]["id"])["merged_into_id"] is None
    with pytest.raises(NotFound):
        call("merge_customers", "X12", {"into": other["customer"]["id"]}, actor=ADMIN)


def test_an_order_without_shipping_cost_and_a_zero_line_is_created_with_zero_total(call, order_data):
    """The defaulted shipping cost (a string until it is used) takes part in the total check."""
    body = order_data()
    body.pop("shipping_cost", None)
    body["lines"] = [{"article_number": "ZERO-1", "name": "Sample", "quantity": 1, "unit_price": "0"}]
    order = call("create_order", body)["order"]
    assert order["total"] == "0.00" and order["shipping_cost"] == "0.00"
