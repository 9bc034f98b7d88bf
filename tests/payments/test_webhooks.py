"""PSP webhooks through the real listener, broker, database and fake PSP (S9, S11, DESIGN §3.4)."""

import json
import random
import time
from decimal import Decimal

import eventlet
import requests

from .conftest import STRIPE_OLD_SECRET, new_reference, wait_for

ADMIN = {"name": "alice", "kind": "user", "role": "admin", "origin": "gateway 10.0.0.7"}


def order_body(payment_method="card"):
    return {
        "customer": {
            "email": f"buyer-{new_reference().lower()}@example.com",
            "first_name": "Anna",
            "last_name": "Muster",
            "language": "de",
        },
        "billing_address": {
            "first_name": "Anna",
            "last_name": "Muster",
            "street": "Bahnhofstrasse 1",
            "postal_code": "8001",
            "city": "Zürich",
            "country": "CH",
        },
        "lines": [{"article_number": "A-100", "name": "Teapot", "quantity": 2, "unit_price": "19.95"}],
        "shipping_cost": "8.00",
        "currency": "CHF",
        "payment_method": payment_method,
    }


def test_signed_webhook_sent_five_times_pays_once_and_moves_the_order_once(
    orders_service, payments_service, rpc, fake_psp, probe, settle
):
    order = rpc.orders.create_order(order_body("card"), actor=ADMIN)["order"]
    reference = order["reference"]
    assert order["status"] == "payment_pending"
    payment = wait_for(
        lambda: (p := probe.payment(reference)) and p.psp_reference and p,
        message="the PaymentIntent opened at submission",
    )
    assert (
        payment.status == "pending" and int(payment.amount * 100) == fake_psp.intents[payment.psp_reference]["amount"]
    )

    event = fake_psp.succeed_intent(payment.psp_reference)
    assert fake_psp.deliver_stripe(event, secret="whsec_forged") == [400]
    # refused before anything is stored: nothing can follow a 400
    assert probe.status(reference) == "pending" and probe.inbox(provider_event_id=event["id"]) == []
    assert rpc.orders.get_order(reference)["status"] == "payment_pending"

    assert fake_psp.deliver_stripe(event, times=5) == [200] * 5

    wait_for(lambda: rpc.orders.get_order(reference)["status"] == "new", message="the order leaving payment_pending")
    wait_for(lambda: rpc.orders.get_order(reference)["payment_status"] == "paid", message="orders' read copy")
    settle(reference, consumers=("payments", "orders"))  # nothing more can come: now count
    assert probe.status(reference) == "paid"
    events = probe.events(reference)
    assert [(e["status"], e["sequence"]) for e in events] == [("paid", 1)]
    assert len(probe.inbox(provider_event_id=event["id"])) == 1
    history = rpc.orders.order_history(reference)
    moves = [h for h in history if h["action"] == "status_changed" and h["from"] == "payment_pending"]
    assert [(h["from"], h["to"]) for h in moves] == [("payment_pending", "new")]
    assert len([h for h in history if h["action"] == "payment_status_changed"]) == 1
    detail = rpc.payments.get_payment(reference)
    assert detail["status"] == "paid" and detail["captured_amount"] == order["total"]
    assert "refund" in detail["allowed_operations"] and "complete" not in detail["allowed_operations"]


def test_forged_stale_and_malformed_webhooks_get_400_and_change_nothing(
    payments_service, submit_order, fake_psp, probe, payments_config
):
    reference = submit_order("card")
    pid = probe.payment(reference).psp_reference
    event = fake_psp.succeed_intent(pid)
    url = fake_psp.stripe_webhook_url
    body = json.dumps(event).encode()

    assert fake_psp.deliver_stripe(event, secret="whsec_forged") == [400]
    assert fake_psp.deliver_stripe(event, timestamp=time.time() - 301) == [400]  # replayed after 5 min
    assert fake_psp.deliver_stripe(event, timestamp=time.time() + 400) == [400]  # from the future
    assert fake_psp.deliver_stripe(event, signature="t=abc,v1=zz") == [400]
    assert requests.post(url, data=body, timeout=5).status_code == 400  # no header at all
    tampered = dict(event, data={"object": dict(event["data"]["object"], amount_received=1)})
    header = fake_psp.sign_stripe(body)  # signed the original
    response = requests.post(url, data=json.dumps(tampered), headers={"Stripe-Signature": header}, timeout=5)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    garbage = b"not json"
    response = requests.post(url, data=garbage, headers={"Stripe-Signature": fake_psp.sign_stripe(garbage)}, timeout=5)
    assert response.status_code == 400
    huge = json.dumps(dict(event, padding="x" * 600_000)).encode()
    response = requests.post(url, data=huge, headers={"Stripe-Signature": fake_psp.sign_stripe(huge)}, timeout=5)
    assert response.status_code == 400

    # each was refused before anything was stored: nothing can follow a 400
    assert probe.inbox(provider_event_id=event["id"]) == []
    assert probe.status(reference) == "pending" and probe.events(reference) == []

    # late but inside the tolerance, and signed with the previous secret during rotation: accepted
    assert fake_psp.deliver_stripe(event, timestamp=time.time() - 200, secret=STRIPE_OLD_SECRET) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="the accepted event applied")
    assert len(probe.events(reference)) == 1


def test_shuffled_events_for_one_order_end_in_the_same_state_with_one_event_per_real_change(
    payments_service, submit_order, fake_psp, probe
):
    for seed in (1, 2, 3):
        reference = submit_order("card", total="100.00")
        pid = probe.payment(reference).psp_reference
        failed = fake_psp.fail_intent(pid)
        succeeded = fake_psp.succeed_intent(pid)
        refunded = fake_psp.refund_intent(pid, 3000)  # 30.00 refunded in the dashboard
        late_failure = fake_psp.fail_intent(pid, "late")  # arrives after success: ignored
        events = [failed, succeeded, refunded, late_failure]
        random.Random(seed).shuffle(events)
        for event in events:
            assert fake_psp.deliver_stripe(event) == [200]
        wait_for(
            lambda: len(probe.inbox(reference)) == 4 and probe.settled(reference),
            message=f"all four events processed (seed {seed})",
        )
        payment = probe.payment(reference)
        assert (payment.status, payment.captured_amount, payment.refunded_amount) == (
            "partially_refunded",
            Decimal("100.00"),
            Decimal("30.00"),
        ), seed
        emitted = probe.events(reference)
        changes = probe.audit(reference, "psp_update")
        assert len(emitted) == len(changes) == payment.sequence, seed
        assert [e["sequence"] for e in emitted] == list(range(1, len(emitted) + 1))
        assert emitted[-1]["status"] == "partially_refunded"
        statuses = [e["status"] for e in emitted]
        assert (
            statuses.count("paid") <= 1
            and "failed"
            not in statuses[statuses.index(next(s for s in statuses if s in ("paid", "partially_refunded"))) :]
        )
        applied = [row for row in probe.inbox(reference) if row.status == "applied"]
        assert len(applied) == len(emitted)


def test_webhook_arriving_before_its_order_is_kept_and_applied_when_the_order_appears(
    payments_service, dispatch, fake_psp, probe, settle
):
    from .conftest import order_event

    reference = new_reference()
    pid = fake_psp.create_intent(2500, "chf", order_reference=reference)  # opened by the storefront
    event = fake_psp.succeed_intent(pid)
    assert fake_psp.deliver_stripe(event, times=2) == [200, 200]
    wait_for(lambda: [r.status for r in probe.inbox(reference)] == ["waiting"], message="the event kept waiting")
    assert probe.payment(reference) is None

    calls_before = len(fake_psp.calls)
    dispatch("order_submitted", order_event(reference, "card", total="25.00"))
    wait_for(lambda: probe.status(reference) == "paid", message="the waiting event applied")
    payment = probe.payment(reference)
    assert payment.psp_reference == pid
    assert [row.status for row in probe.inbox(reference)] == ["applied"]
    assert [e["status"] for e in probe.events(reference)] == ["paid"]
    settle(reference)  # the order event was handled: a second PaymentIntent would have been opened by now
    assert not [c for c in fake_psp.calls[calls_before:] if c[1] == "/v1/payment_intents"], (
        "no second PaymentIntent for an order the PSP already paid"
    )


def test_concurrent_webhook_and_manual_completion_have_one_effect(
    payments_service, submit_order, fake_psp, probe, rpc, settle
):
    from oms_common.problems import Conflict

    for _ in range(3):
        reference = submit_order("card")
        pid = probe.payment(reference).psp_reference
        event = fake_psp.succeed_intent(pid)

        def manual():
            try:
                return rpc.payments.complete_payment(
                    reference, {"psp_reference": pid, "reason": "Customer sent the receipt."}, ADMIN
                )["status"]
            except Conflict:
                return "conflict"

        pool = eventlet.GreenPool()
        webhook = pool.spawn(fake_psp.deliver_stripe, event, None, 3)
        completion = pool.spawn(manual)
        assert webhook.wait() == [200, 200, 200]
        assert completion.wait() in ("paid", "conflict")
        wait_for(lambda: probe.settled(reference), message="the webhook processed")
        settle(reference)
        assert probe.status(reference) == "paid"
        assert [e["status"] for e in probe.events(reference)] == ["paid"]
        changes = probe.audit(reference, "psp_update") + probe.audit(reference, "completed_by_hand")
        assert len(changes) == 1


def test_paypal_webhook_verified_through_the_psp(payments_service, submit_order, fake_psp, probe, settle):
    reference = submit_order("paypal", total="20.00", currency="EUR")
    payment = probe.payment(reference)
    assert payment.provider == "paypal" and payment.psp_reference.startswith("PPO")
    event = fake_psp.capture_paypal_order(payment.psp_reference)

    forged = fake_psp.paypal_headers(event)
    forged["PAYPAL-TRANSMISSION-SIG"] = "AAAA" + forged["PAYPAL-TRANSMISSION-SIG"][4:]
    assert fake_psp.deliver_paypal(event, headers=forged) == [400]
    assert fake_psp.deliver_paypal(event, headers={}) == [400]
    assert probe.status(reference) == "pending" and probe.inbox(provider_event_id=event["id"]) == []

    assert fake_psp.deliver_paypal(event, times=3) == [200, 200, 200]
    wait_for(lambda: probe.status(reference) == "paid", message="the PayPal capture applied")
    settle(reference)
    assert len(probe.events(reference)) == 1
    assert probe.payment(reference).psp_capture_id == event["resource"]["id"]


def test_a_failed_payment_leaves_a_visible_trace_and_a_later_success_still_counts(
    payments_service, submit_order, fake_psp, probe, rpc
):
    reference = submit_order("card")
    pid = probe.payment(reference).psp_reference
    assert fake_psp.deliver_stripe(fake_psp.fail_intent(pid, "Insufficient funds.")) == [200]
    wait_for(lambda: probe.status(reference) == "failed", message="the failure recorded")
    payment = rpc.payments.get_payment(reference)
    assert payment["failure_reason"] == "Insufficient funds."
    assert {"complete", "void"} <= set(payment["allowed_operations"])
    assert [e["status"] for e in probe.events(reference)] == ["failed"]
    assert fake_psp.deliver_stripe(fake_psp.succeed_intent(pid)) == [200]
    wait_for(lambda: probe.status(reference) == "paid", message="the retry with another card")
    assert [e["status"] for e in probe.events(reference)] == ["failed", "paid"]


def test_a_poison_webhook_is_retried_then_parked_visibly_without_blocking_others(
    payments_service, submit_order, fake_psp, probe, rpc
):
    poisoned = submit_order("card")
    healthy = submit_order("card")
    bad = fake_psp.succeed_intent(probe.payment(poisoned).psp_reference)
    bad["data"]["object"]["amount_received"] = "a lot"  # signed, but cannot be applied
    good = fake_psp.succeed_intent(probe.payment(healthy).psp_reference)
    assert fake_psp.deliver_stripe(bad) == [200]
    assert fake_psp.deliver_stripe(good) == [200]
    wait_for(lambda: probe.status(healthy) == "paid", message="the healthy event applied")
    row = wait_for(
        lambda: (rows := probe.inbox(poisoned)) and rows[0].status == "failed" and rows[0],
        timeout=20,
        message="the poison webhook parked",
    )
    assert row.attempts == 5 and "ValueError" in row.note
    assert probe.status(poisoned) == "pending" and probe.events(poisoned) == []
    listed = rpc.payments.list_webhook_events({"status": ["failed"], "order_reference": poisoned})["items"]
    assert [item["provider_event_id"] for item in listed] == [bad["id"]]
    replayed = rpc.payments.replay_webhook_event(listed[0]["id"], ADMIN)
    assert replayed["status"] == "received"
    wait_for(lambda: probe.inbox(poisoned)[0].attempts >= 1, message="the replay attempted")
