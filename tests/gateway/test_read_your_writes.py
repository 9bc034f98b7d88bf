"""Read your writes (design rule 9): right after the 201, the order's payment answers.

Each order is created through the gateway and, with no pause, its payment is read and a
manual payment status is booked; the detail's payment panel is there too. The payment record
may not exist yet when the order event is still in flight: payments then makes it on first use.
Run with one payments replica and with two sharing the RPC queue.
"""

import sys

import pytest
from sqlalchemy import func, select

from payments.models import Payment, PaymentAudit
from payments.models import infrastructure as payments_infrastructure
from payments.service import PaymentsService
from tests.conftest import sql_source
from tests.gateway.orders_data import order_body
from tests.support.suite import REPO, free_port, wait_for

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402

CREATIONS = 50


@pytest.fixture
def payments_replicas(request, runner_factory, container_factory, service_config):
    psp = FakePSP(stripe_webhook_secret="whsec_ryw_test")
    psp.start()

    def config():
        return {
            **service_config,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
            "STRIPE_API_KEY": psp.stripe_api_key,
            "STRIPE_API_BASE": psp.base_url,
            "STRIPE_WEBHOOK_SECRET": "whsec_ryw_test",
            "RECONCILE_INTERVAL_SECONDS": 0,
            "INBOX_POLL_SECONDS": 0.2,
        }

    runner_factory(config(), PaymentsService).start()
    for _ in range(request.param - 1):
        container_factory(PaymentsService, config()).start()
    yield request.param
    psp.stop()


@pytest.fixture
def payments_db(database_url):
    source = sql_source(database_url, "payments", payments_infrastructure)
    yield source
    source.engine.dispose()


@pytest.mark.parametrize("payments_replicas", [1, 2], indirect=True, ids=["one-replica", "two-replicas"])
def test_payment_answers_right_after_each_201(admin, client_for, payments_replicas, payments_db):
    accountant = client_for("accountant")
    failures, references = [], []
    for _ in range(CREATIONS):
        created = admin.post("/api/v1/orders", json=order_body())
        assert created.status_code == 201, created.text
        reference = created.json()["reference"]
        references.append(reference)
        read = admin.get(f"/api/v1/orders/{reference}/payment")
        booked = accountant.post(
            f"/api/v1/orders/{reference}/payment-status", json={"status": "announced", "note": "bank"}
        )
        detail = admin.get(f"/api/v1/orders/{reference}")
        if read.status_code != 200 or read.json()["status"] not in ("unpaid", "announced"):
            failures.append((reference, "GET payment", read.status_code, read.text[:200]))
        if booked.status_code != 200 or booked.json()["status"] != "announced":
            failures.append((reference, "POST payment-status", booked.status_code, booked.text[:200]))
        if detail.status_code != 200 or (detail.json().get("payment") or {}).get("status") != "announced":
            failures.append((reference, "detail payment panel", detail.status_code, detail.text[:200]))
    assert failures == []

    # the order events arrive after all this: each order keeps exactly one record, still announced
    def all_consumed():
        table = payments_db.infrastructure.processed_events
        with payments_db.read_session() as session:
            return (
                session.execute(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.consumer.in_(("payments.order_created", "payments.order_submitted")))
                ).scalar_one()
                >= 2 * CREATIONS
            )

    wait_for(all_consumed, timeout=60, interval=0.2, message="the order events consumed by payments")
    with payments_db.read_session() as session:
        rows = session.execute(
            select(Payment.order_reference, Payment.status).where(Payment.order_reference.in_(references))
        ).all()
        created = session.execute(
            select(func.count())
            .select_from(PaymentAudit)
            .where(PaymentAudit.order_reference.in_(references), PaymentAudit.action == "payment_created")
        ).scalar_one()
    assert sorted(rows) == sorted((reference, "announced") for reference in references)
    assert created == CREATIONS


@pytest.mark.parametrize("payments_replicas", [1], indirect=True)
def test_card_order_and_submitted_cart_answer_at_once(admin, client_for, payments_replicas):
    card = admin.post("/api/v1/orders", json=order_body(payment_method="card"))
    assert card.status_code == 201, card.text
    payment = admin.get(f"/api/v1/orders/{card.json()['reference']}/payment")
    assert payment.status_code == 200 and payment.json()["status"] == "pending", payment.text

    cart = admin.post("/api/v1/orders", json=order_body(submit=False, session_id="sess-ryw"))
    assert cart.status_code == 201, cart.text
    reference = cart.json()["reference"]
    assert admin.get(f"/api/v1/orders/{reference}/payment").status_code == 404  # a cart has no payment yet
    submitted = admin.post(f"/api/v1/orders/{reference}/submit", json={"session_id": "sess-ryw"})
    assert submitted.status_code == 200, submitted.text
    payment = admin.get(f"/api/v1/orders/{reference}/payment")
    assert payment.status_code == 200 and payment.json()["status"] == "unpaid", payment.text
    booked = client_for("accountant").post(f"/api/v1/orders/{reference}/payment-status", json={"status": "paid"})
    assert booked.status_code == 200 and booked.json()["status"] == "paid", booked.text
