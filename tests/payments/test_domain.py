"""The payment rules on their own: no broker, no database, no PSP."""

import itertools
import json
import time
from decimal import Decimal

import pytest
from fake_psp import stripe_signature  # noqa: F401 - tools/ is put on sys.path by conftest

from oms_common.problems import Conflict, ValidationFailed
from payments import amounts, domain, dunning_rules
from payments.changes import as_problem
from payments.psp_reports import PspUpdate, decide
from payments.webhooks import InvalidWebhook, parse_secrets, verify_stripe


def apply_all(status, updates, captured="0", refunded="0"):
    changes = []
    captured, refunded = Decimal(captured), Decimal(refunded)
    for update in updates:
        decision = decide(status, captured, refunded, update)
        if not decision.ignored:
            changes.append(decision.status)
            status, captured, refunded = decision.status, decision.captured, decision.refunded
    return status, captured, refunded, changes


def test_status_only_moves_forward():
    assert domain.can_move("pending", "paid") and domain.can_move("failed", "paid")
    assert not domain.can_move("paid", "failed") and not domain.can_move("paid", "pending")
    assert not domain.can_move("refunded", "paid") and domain.is_final("voided")
    late_failure = decide("paid", Decimal("10"), Decimal("0"), PspUpdate("1", status="failed"))
    assert late_failure.ignored and late_failure.status == "paid"
    again = decide("paid", Decimal("10"), Decimal("0"), PspUpdate("1", status="paid", captured=Decimal("10")))
    assert again.ignored


def test_every_order_of_the_same_events_ends_in_the_same_state():
    events = [
        PspUpdate("1", status="failed"),
        PspUpdate("1", status="paid", captured=Decimal("100.00")),
        PspUpdate("1", captured=Decimal("100.00"), refunded_total=Decimal("30.00")),
        PspUpdate("1", status="authorized"),
    ]
    outcomes = {apply_all("pending", list(order))[:3] for order in itertools.permutations(events)}
    assert outcomes == {("partially_refunded", Decimal("100.00"), Decimal("30.00"))}


def test_refund_totals_only_grow_and_refunds_by_id_add_up():
    status, captured, refunded, changes = apply_all(
        "paid",
        [
            PspUpdate("1", refunded_total=Decimal("20")),
            PspUpdate("1", refunded_total=Decimal("10")),
            PspUpdate("1", refunded_total=Decimal("50")),
        ],
        captured="50",
    )
    assert (status, refunded, changes) == ("refunded", Decimal("50.00"), ["partially_refunded", "refunded"])


def test_refund_plan_limits():
    assert domain.plan_refund("stripe", "pending", 0, 0) == ("void", None)
    assert domain.plan_refund("stripe", "paid", Decimal("80"), 0) == ("refund", Decimal("80.00"))
    assert domain.plan_refund("paypal", "partially_refunded", Decimal("80"), Decimal("30"), Decimal("50")) == (
        "refund",
        Decimal("50.00"),
    )
    with pytest.raises(domain.InvalidAmount):
        domain.plan_refund("stripe", "paid", Decimal("80"), Decimal("30"), Decimal("50.01"))
    with pytest.raises(domain.InvalidAmount):
        domain.plan_refund("stripe", "authorized", Decimal("0"), 0, Decimal("1"))
    # money paid by hand is paid back by hand: the refund is recorded, no PSP is called
    assert domain.plan_refund("manual", "paid", Decimal("80"), 0, Decimal("5")) == ("record", Decimal("5.00"))
    assert domain.plan_refund("manual", "partially_paid", Decimal("10"), 0) == ("record", Decimal("10.00"))
    for status in ("unpaid", "announced"):
        with pytest.raises(domain.OperationNotAllowed):
            domain.plan_refund("manual", status, 0, 0)
    with pytest.raises(domain.OperationNotAllowed):
        domain.plan_refund("stripe", "refunded", Decimal("80"), Decimal("80"))


def test_capabilities_and_allowed_operations():
    assert domain.allowed_operations("stripe", "pending", 0, 0, 0) == ["complete", "void"]
    assert domain.allowed_operations("stripe", "paid", Decimal("9"), 0, 0) == ["refund", "partial_refund"]
    assert domain.allowed_operations("manual", "unpaid", 0, 0, 0) == ["status:announced", "status:paid", "dunning:1"]
    assert domain.allowed_operations("manual", "announced", 0, 0, 1) == ["status:paid", "dunning:2"]
    assert domain.allowed_operations("manual", "paid", 0, 0, 2) == []
    assert domain.allowed_operations("manual", "paid", Decimal("16"), Decimal("5"), 0) == ["refund", "partial_refund"]


def test_manual_bookkeeping_and_dunning_rules():
    domain.check_manual_status("manual", "unpaid", "announced")
    for current, target in (("announced", "unpaid"), ("paid", "announced"), ("paid", "paid")):
        with pytest.raises(domain.OperationNotAllowed):
            domain.check_manual_status("manual", current, target)
    with pytest.raises(domain.OperationNotAllowed):
        domain.check_manual_status("stripe", "pending", "paid")
    dunning_rules.check_dunning("manual", "unpaid", 0, 1)
    dunning_rules.check_dunning("manual", "announced", 1, 2)
    dunning_rules.check_dunning("manual", "partially_paid", 0, 1)  # what is still open is dunned
    for args in (
        ("manual", "unpaid", 0, 2),
        ("manual", "unpaid", 1, 1),
        ("manual", "paid", 0, 1),
        ("stripe", "pending", 0, 1),
    ):
        with pytest.raises(domain.DomainError):
            dunning_rules.check_dunning(*args)


def test_refusals_reach_callers_as_the_same_problems():
    def refusal(check, *args):
        with pytest.raises(domain.DomainError) as caught:
            check(*args)
        return as_problem(caught.value)

    status = refusal(domain.check_manual_status, "manual", "paid", "announced")
    assert isinstance(status, Conflict) and status.errors == {"status": [status.detail]}
    assert status.detail == "A payment in status 'paid' cannot move back or on to 'announced'."
    amount = refusal(domain.plan_refund, "stripe", "paid", Decimal("80"), Decimal("30"), Decimal("50.01"))
    assert isinstance(amount, ValidationFailed) and list(amount.errors) == ["amount"]
    assert refusal(domain.check_completion, "manual", "unpaid").errors == {}
    assert refusal(dunning_rules.check_dunning, "manual", "unpaid", 1, 1).errors == {
        "level": ["The order is already at dunning level 1."]
    }
    ship = refusal(domain.ship_capture_plan, "stripe", "pending", "The card was declined.")
    assert ship.errors == {"payment": ["The card was declined."]} and "cannot be shipped" in ship.detail
    replay = refusal(domain.check_replay, "applied")
    assert replay.detail.startswith("The webhook is 'applied'; only failed") and replay.errors == {}
    for status_ in domain.REPLAYABLE_WEBHOOKS:
        domain.check_replay(status_)


def test_shipment_refusals_name_the_psp_reason():
    refused = domain.refused_capture("stripe", "Stripe refused: expired (charge_expired_for_capture)")
    assert refused.reason == "stripe refused the capture: Stripe refused: expired (charge_expired_for_capture)"
    assert as_problem(refused).errors == {"payment": [refused.reason]}
    assert str(refused) == f"The order cannot ship: {refused.reason}"
    assert str(domain.unfit_capture("Currency EUR does not match the payment's CHF.")).startswith(
        "The order cannot ship: the PSP's capture does not fit the payment: Currency EUR"
    )
    domain.check_captured_for_ship("paypal", "paid", None)
    with pytest.raises(domain.ShipRefused, match="paypal declined the capture"):
        domain.check_captured_for_ship("paypal", "failed", None)


def test_what_an_order_event_does_to_the_payment():
    assert dunning_rules.dunning_level_reached("dunning_2", 1) == 2
    assert (
        dunning_rules.dunning_level_reached("dunning_1", 1) is None
        and dunning_rules.dunning_level_reached("new", 0) is None
    )
    assert domain.cancel_without_action("paid")[0] == "cancel_needs_manual_refund"
    assert domain.cancel_without_action("voided") == ("cancel_no_payment_action", "Nothing to void or refund.")


def test_minor_units():
    assert amounts.to_minor(Decimal("49.90"), "CHF") == 4990
    assert amounts.from_minor(4990, "chf") == Decimal("49.90")
    assert amounts.to_minor(Decimal("500"), "JPY") == 500


def test_stripe_signature_rules():
    body = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"}).encode()
    secrets = parse_secrets(" whsec_new , whsec_old ")
    assert secrets == ["whsec_new", "whsec_old"]
    assert verify_stripe(body, stripe_signature(body, "whsec_old"), secrets)["id"] == "evt_1"
    now = time.time()
    cases = [
        stripe_signature(body, "whsec_other"),
        stripe_signature(body, "whsec_new", now - 301),
        stripe_signature(body, "whsec_new", now + 301),
        stripe_signature(body + b" ", "whsec_new"),
        "t=1,v0=abc",
        "",
        "garbage",
    ]
    for header in cases:
        with pytest.raises(InvalidWebhook):
            verify_stripe(body, header, secrets)
    header = stripe_signature(body, "whsec_new", now - 299)
    assert verify_stripe(body, header, secrets)
    with pytest.raises(InvalidWebhook):
        verify_stripe(body, header, [])
    with pytest.raises(InvalidWebhook):
        verify_stripe(b"[1]", stripe_signature(b"[1]", "whsec_new"), secrets)


# ---------------------------------------------------------------- dunning with money


def test_a_dunning_fee_is_charged_on_an_open_invoice_payment_only():
    fees = {1: Decimal("0.00"), 2: Decimal("5.00")}
    assert dunning_rules.dunning_fee("manual", "unpaid", 2, fees) == Decimal("5.000")
    assert dunning_rules.dunning_fee("manual", "announced", 1, fees) == Decimal("0.000")
    assert dunning_rules.dunning_fee("manual", "partially_paid", 2, fees) == Decimal("5.000")
    assert dunning_rules.dunning_fee("manual", "paid", 2, fees) == Decimal("0")
    assert dunning_rules.dunning_fee("stripe", "pending", 2, fees) == Decimal("0")


def test_the_open_amount_is_amount_less_paid_plus_fees():
    assert amounts.open_amount("100.00", "0", "5.00") == Decimal("105.000")
    assert amounts.open_amount("100.00", "40.00", "5.00") == Decimal("65.000")
    assert amounts.open_amount("100.00", "110.00", "5.00") == Decimal("0.000")
    assert amounts.owed("12.345", "2.5") == Decimal("14.845")


def test_dunning_fee_settings_are_amounts_from_zero_named_when_wrong():
    assert dunning_rules.dunning_fee_setting("OMS_DUNNING_FEE_2", "", Decimal("5.00")) == Decimal("5.000")
    assert dunning_rules.dunning_fee_setting("OMS_DUNNING_FEE_2", 7.5, Decimal("5.00")) == Decimal("7.500")
    assert dunning_rules.dunning_fee_setting("OMS_DUNNING_FEE_1", "0", Decimal("5.00")) == Decimal("0.000")
    for wrong in ("-1", "five", "1.2345", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="OMS_DUNNING_FEE_1"):
            dunning_rules.dunning_fee_setting("OMS_DUNNING_FEE_1", wrong, Decimal("0"))


def test_an_invoice_is_dunned_after_its_due_date_and_again_after_level_one():
    from datetime import date, datetime, timezone

    due = date(2026, 3, 1)
    assert dunning_rules.dunning_due(0, due, None, date(2026, 3, 10), 10, 10) is None
    assert dunning_rules.dunning_due(0, due, None, date(2026, 3, 11), 10, 10) == 1
    assert dunning_rules.dunning_due(0, None, None, date(2030, 1, 1), 10, 10) is None  # no due date known
    reached = datetime(2026, 3, 11, 9, 0, tzinfo=timezone.utc)
    assert dunning_rules.dunning_due(1, due, reached, date(2026, 3, 20), 10, 10) is None
    assert dunning_rules.dunning_due(1, due, reached, date(2026, 3, 21), 10, 10) == 2
    assert dunning_rules.dunning_due(2, due, reached, date(2030, 1, 1), 10, 10) is None
