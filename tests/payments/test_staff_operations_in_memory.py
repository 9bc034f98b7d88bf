"""What staff do to a payment (payments.staff_operations), run against payments kept in memory and a
PSP answering from memory: the domain's decisions, what is recorded and announced, what a refusal
or an unreachable PSP leaves behind (nothing). The locking of the payment row and the webhook
paths are the database's and the PSP's and are tested against PostgreSQL and the fake PSP.
"""

from decimal import Decimal

import pytest

from oms_common.problems import Conflict, ServiceUnavailable, ValidationFailed
from payments import staff_operations
from tests.payments.in_memory import InMemoryPayments, InMemoryPsp

ACCOUNTANT = {"name": "bea", "kind": "user", "role": "accountant", "origin": "gateway 10.0.0.8"}


@pytest.fixture
def place():
    return InMemoryPayments()


@pytest.fixture
def psp():
    return InMemoryPsp("stripe")


def test_booking_an_invoice_payment_as_paid_captures_its_amount_and_announces_the_change(place):
    payment = place.add_payment("invoice", status="announced")

    answer = staff_operations.set_payment_status(
        place, payment.order_reference, {"status": "paid", "note": "bank 12 May"}, ACCOUNTANT
    )

    assert (answer["status"], answer["captured_amount"], answer["version"]) == ("paid", "46.90", 2)
    [event] = place.events
    assert (event["event_type"], event["status"], event["previous_status"], event["sequence"]) == (
        "payment_status_changed",
        "paid",
        "announced",
        1,
    )
    assert event["reason"] == "bank 12 May" and event["schema_version"] == 1
    [entry] = place.audit
    assert (entry.action, entry.from_status, entry.to_status, entry.actor) == (
        "manual_status",
        "announced",
        "paid",
        "bea",
    )


def test_a_paid_invoice_cannot_be_set_back_to_unpaid_and_nothing_is_recorded(place):
    payment = place.add_payment("invoice", status="paid", captured_amount=Decimal("46.90"))

    with pytest.raises(Conflict) as refused:
        staff_operations.set_payment_status(place, payment.order_reference, {"status": "unpaid"}, ACCOUNTANT)

    assert "status" in refused.value.errors
    assert (payment.status, payment.version) == ("paid", 1)
    assert (place.commits, place.audit, place.events) == (0, [], [])


def test_a_card_payment_follows_its_psp_and_is_not_booked_by_hand(place):
    payment = place.add_payment("card", status="pending")

    with pytest.raises(Conflict, match="follows the PSP"):
        staff_operations.set_payment_status(place, payment.order_reference, {"status": "paid"}, ACCOUNTANT)

    assert payment.status == "pending" and place.commits == 0


def test_completing_a_lost_callback_by_hand_pays_the_payment_and_keeps_the_psp_reference(place):
    payment = place.add_payment("card", status="pending")

    answer = staff_operations.complete_payment(
        place, payment.order_reference, {"psp_reference": "pi_3Q", "reason": "seen in the dashboard"}, ACCOUNTANT
    )

    assert (answer["status"], answer["psp_reference"], answer["completed_by_hand_reference"]) == (
        "paid",
        "pi_3Q",
        "pi_3Q",
    )
    assert place.actions() == ["completed_by_hand"] and place.audit[0].details == {"psp_reference": "pi_3Q"}


def test_a_partial_refund_goes_to_the_psp_with_a_key_and_leaves_the_payment_partially_refunded(place, psp):
    payment = place.add_payment("card", status="paid", captured_amount=Decimal("46.90"))

    answer = staff_operations.refund_payment(
        place, {"stripe": psp}, payment.order_reference, {"amount": "10.00", "reason": "one cup broken"}, ACCOUNTANT
    )

    [(kind, key, amount)] = psp.calls
    assert (kind, amount) == ("refund", Decimal("10.00")) and key.startswith(f"oms-refund-{payment.order_reference}-1-")
    assert (answer["status"], answer["refunded_amount"], answer["refundable_amount"]) == (
        "partially_refunded",
        "10.00",
        "36.90",
    )
    assert [refund["status"] for refund in answer["refunds"]] == ["succeeded"]
    assert [event["status"] for event in place.events] == ["partially_refunded"]


def test_a_refund_of_an_invoice_paid_by_bank_is_recorded_at_once_and_no_psp_is_asked(place, psp):
    payment = place.add_payment("invoice", status="paid", captured_amount=Decimal("46.90"))

    answer = staff_operations.refund_payment(
        place, {"stripe": psp}, payment.order_reference, {"amount": "6.90", "reason": "returned"}, ACCOUNTANT
    )

    assert psp.calls == []
    assert (answer["status"], answer["refunded_amount"], answer["refundable_amount"]) == (
        "partially_refunded",
        "6.90",
        "40.00",
    )
    [event] = place.events
    assert (event["status"], event["payment"]["refunded_amount"], event["reason"]) == (
        "partially_refunded",
        "6.90",
        "returned",
    )
    [entry] = place.audit
    assert (entry.action, entry.actor) == ("refund_recorded", "bea")
    rest = staff_operations.refund_payment(place, {}, payment.order_reference, {}, ACCOUNTANT)
    assert (rest["status"], rest["refunded_amount"]) == ("refunded", "46.90")


def test_an_invoice_not_paid_yet_has_nothing_to_refund_and_nothing_is_recorded(place):
    payment = place.add_payment("invoice", status="unpaid")

    with pytest.raises(Conflict):
        staff_operations.refund_payment(place, {}, payment.order_reference, {"amount": "1.00"}, ACCOUNTANT)

    assert (payment.status, payment.version, place.events, place.audit) == ("unpaid", 1, [], [])


def test_a_refund_the_psp_holds_as_pending_is_shown_but_not_counted(place):
    psp = InMemoryPsp("stripe", status="pending")
    payment = place.add_payment("card", status="paid", captured_amount=Decimal("46.90"))

    answer = staff_operations.refund_payment(place, {"stripe": psp}, payment.order_reference, {}, ACCOUNTANT)

    assert (answer["status"], answer["refunded_amount"], answer["pending_refund_amount"]) == ("paid", "0.00", "46.90")
    assert place.actions() == ["refund_pending"] and place.events == []


def test_more_than_is_left_to_refund_is_refused_naming_the_amount_before_the_psp_is_asked(place, psp):
    payment = place.add_payment("card", status="paid", captured_amount=Decimal("46.90"))

    with pytest.raises(ValidationFailed) as refused:
        staff_operations.refund_payment(
            place, {"stripe": psp}, payment.order_reference, {"amount": "50.00"}, ACCOUNTANT
        )

    assert "amount" in refused.value.errors and psp.calls == []
    assert place.commits == 0


def test_an_unreachable_psp_is_a_503_and_the_payment_stays_as_it_was(place, psp):
    psp.down = True
    payment = place.add_payment("card", status="paid", captured_amount=Decimal("46.90"))

    with pytest.raises(ServiceUnavailable):
        staff_operations.refund_payment(place, {"stripe": psp}, payment.order_reference, {}, ACCOUNTANT)

    assert (payment.status, payment.refunded_amount, payment.refunds) == ("paid", Decimal("0"), [])
    assert place.commits == 0


def test_a_refund_the_psp_declines_is_a_conflict_with_its_reason(place, psp):
    psp.refuse = "charge_already_refunded"
    payment = place.add_payment("card", status="paid", captured_amount=Decimal("46.90"))

    with pytest.raises(Conflict, match="charge_already_refunded"):
        staff_operations.refund_payment(place, {"stripe": psp}, payment.order_reference, {}, ACCOUNTANT)

    assert payment.status == "paid" and place.events == []


def test_before_capture_a_refund_is_a_void_of_the_whole_authorisation(place, psp):
    payment = place.add_payment("card", status="authorized")

    answer = staff_operations.refund_payment(place, {"stripe": psp}, payment.order_reference, {}, ACCOUNTANT)

    assert [call[0] for call in psp.calls] == ["void"] and answer["status"] == "voided"


def test_dunning_moves_the_order_through_orders_then_records_the_level(place):
    payment = place.add_payment("invoice", status="unpaid", order_status="shipped")
    asked = []

    def change_order_status(reference, data, actor):
        asked.append((reference, data["status"], data["notify"]))
        return {"status": data["status"]}

    answer = staff_operations.request_dunning(
        place, payment.order_reference, {"level": 1}, ACCOUNTANT, change_order_status
    )

    assert asked == [(payment.order_reference, "dunning_1", True)]
    assert (answer["dunning_level"], answer["order_status"]) == (1, "dunning_1")
    [event] = place.events
    assert (event["event_type"], event["level"], event["previous_level"]) == ("payment_dunning_changed", 1, 0)


def test_dunning_level_two_before_level_one_is_refused_and_orders_is_not_asked(place):
    payment = place.add_payment("invoice", status="unpaid", order_status="shipped")

    def must_not_be_asked(reference, data, actor):
        raise AssertionError("the domain refuses before orders is asked")

    with pytest.raises(Conflict, match="follows level 1"):
        staff_operations.request_dunning(place, payment.order_reference, {"level": 2}, ACCOUNTANT, must_not_be_asked)

    assert payment.dunning_level == 0 and place.commits == 0


def test_dunning_stores_the_level_fee_and_announces_the_open_amount(place):
    payment = place.add_payment("invoice", status="unpaid", order_status="shipped")
    fees = {1: Decimal("2.00"), 2: Decimal("8.00")}

    def change_order_status(reference, data, actor):
        return {"status": data["status"], "invoice_number": "R-77", "language": "fr"}

    staff_operations.request_dunning(
        place, payment.order_reference, {"level": 1}, ACCOUNTANT, change_order_status, fees
    )
    answer = staff_operations.request_dunning(
        place, payment.order_reference, {"level": 2}, ACCOUNTANT, change_order_status, fees
    )

    assert (answer["dunning_fees"], answer["open_amount"]) == ("10.00", "56.90")
    assert payment.dunning_fees == Decimal("10.000")
    details = [entry.details for entry in place.audit if entry.action == "dunning_level_changed"]
    assert [(d["to"], d["fee"], d["open_amount"]) for d in details] == [(1, "2.00", "48.90"), (2, "8.00", "56.90")]
    last = place.events[-1]
    assert (last["fee"], last["open_amount"], last["invoice_number"], last["language"]) == (
        "8.00",
        "56.90",
        "R-77",
        "fr",
    )
