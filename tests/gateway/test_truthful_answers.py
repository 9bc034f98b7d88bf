"""Answers that tell the truth: a timed-out mutation may have been applied, every mutation takes
an Idempotency-Key, the order detail names what it could not get, and PSP methods and operations
are offered only as far as the configured providers can do them."""

import re
import sys
import uuid

import eventlet
import pytest
from nameko.rpc import rpc

from documents.service import DocumentsService
from exports.service import ExportsService
from gateway.router import router
from gateway.service import GatewayService
from notifications.service import NotificationsService
from payments.service import PaymentsService
from tests.gateway.conftest import ADMIN_TOKEN, ApiClient
from tests.gateway.orders_data import order_body
from tests.support.smtp import SmtpSink, wait_for
from tests.support.suite import REPO, free_port
from tests.support.ui import sign_in

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402

ADMIN_PASSWORD = "truthful-answers-password"


@pytest.fixture
def gateway_config(service_config):
    return {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RPC_TIMEOUT_SECONDS": 10,
        "EXPORTS_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
    }


@pytest.fixture
def fake_psp():
    psp = FakePSP(stripe_webhook_secret="whsec_truthful")
    psp.start()
    yield psp
    psp.stop()


@pytest.fixture
def start_payments(runner_factory, service_config):
    """Starts a payments service; with ``psp`` Stripe is configured against the fake PSP."""

    def start(psp=None):
        config = {
            **service_config,
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
            "RECONCILE_INTERVAL_SECONDS": 0,
            "INBOX_POLL_SECONDS": 0.2,
        }
        if psp is not None:
            config.update(
                {
                    "STRIPE_API_KEY": psp.stripe_api_key,
                    "STRIPE_API_BASE": psp.base_url,
                    "STRIPE_WEBHOOK_SECRET": "whsec_truthful",
                }
            )
        runner = runner_factory(config, PaymentsService)
        runner.start()
        return runner

    return start


@pytest.fixture
def every_service(running_suite, start_payments, fake_psp, runner_factory, service_config, gateway_config, tmp_path):
    """Besides the gateway and orders: payments (Stripe configured), exports, notifications and
    documents."""
    start_payments(fake_psp)
    runner_factory(service_config, DocumentsService).start()
    exports = runner_factory(
        {
            **service_config,
            "WEB_SERVER_ADDRESS": gateway_config["EXPORTS_HTTP_ADDRESS"],
            "EXPORT_DIR": str(tmp_path / "exports"),
            "JOB_TIMER_SECONDS": 0.5,
        },
        ExportsService,
    )
    exports.start()
    sink = SmtpSink(tmp_path / "smtp")
    sink.outdir.mkdir()
    sink.start()
    mails = runner_factory(
        {**service_config, "SMTP": {"HOST": "127.0.0.1", "PORT": sink.port, "SECURITY": "none", "TIMEOUT": 5}},
        NotificationsService,
    )
    mails.start()
    yield
    sink.stop()


def payment_of(admin, reference):
    response = admin.get(f"/api/v1/orders/{reference}/payment")
    return response.json() if response.status_code == 200 else None


def history_actions(admin, reference):
    return [entry["action"] for entry in admin.get(f"/api/v1/orders/{reference}/history").json()["items"]]


# ---------------------------------------------------------------- Idempotency-Key on every mutation

PATH_VALUES = {
    "reference": "900000001",
    "customer_id": "999999999",
    "job_id": "999999",
    "event_id": "no-such-mail",
    "inbox_id": "999999",
    "int:note_id": "999999",
    "int:view_id": "999999",
}
PATH_VALUES["entry_id"] = "999999"  # bank-statement entries


def concrete(route):
    path = route.path
    for name, value in PATH_VALUES.items():
        path = path.replace(f"<{name}>", value)
    assert "<" not in path, f"no test value for a parameter of {route.path}"
    return path


def _documented_headers(document, route):
    parameters = document["paths"][route.openapi_path][route.method.lower()]["parameters"]
    return [parameter["name"] for parameter in parameters if parameter.get("in") == "header"]


def test_the_route_table_marks_every_mutation_idempotent_and_documents_the_header(anonymous):
    mutations = [route for route in router.routes if route.mutating]
    assert len(mutations) >= 20  # the table, not an empty list
    document = anonymous.get("/api/openapi.json").json()
    for route in mutations:
        assert route.path.startswith("/api/v1/") and route.idempotent, route.path
        assert "Idempotency-Key" in _documented_headers(document, route), (
            f"{route.method} {route.path} does not document Idempotency-Key"
        )
    # a POST that only reads is no mutation: no key asked for, none documented
    readers = [route for route in router.routes if route.method == "POST" and not route.mutating]
    assert [route.path for route in readers] == ["/api/v1/documents/merged"]  # each one on purpose
    for route in readers:
        assert route.changes_nothing and not route.idempotent, route.path
        assert "Idempotency-Key" not in _documented_headers(document, route), route.path


def test_every_mutating_route_replays_its_first_answer_and_refuses_the_key_for_another_request(admin, every_service):
    for route in (route for route in router.routes if route.mutating):
        path, key = concrete(route), f"walk-{uuid.uuid4().hex}"
        if route.request_body:  # the XML import
            send = {"data": b"<not-an-export/>", "headers": {"Content-Type": "application/xml"}}
            other = {"data": b"<another-document/>", "headers": {"Content-Type": "application/xml"}}
        else:
            send, other = {"json": {}, "headers": {}}, {"json": {"reason": "something else"}, "headers": {}}

        def attempt(request):
            return admin.request(
                route.method, path, **{**request, "headers": {**request["headers"], "Idempotency-Key": key}}
            )

        first = attempt(send)
        assert first.status_code < 500, f"{route.method} {path}: {first.status_code} {first.text}"
        again = attempt(send)
        assert (again.status_code, again.content) == (first.status_code, first.content), f"{route.method} {path}"
        assert again.headers.get("Idempotency-Replayed") == "true", f"{route.method} {path}"
        refused = attempt(other)
        assert refused.status_code == 409, f"{route.method} {path}"
        assert "Idempotency-Key" in refused.json()["errors"]
        # the refused request changed nothing: the key still answers with the first request's answer
        kept = attempt(send)
        assert (kept.status_code, kept.content) == (first.status_code, first.content), f"{route.method} {path}"


def test_a_replayed_mutation_gives_the_same_answer_and_takes_effect_once(admin, client_for, every_service):
    key = lambda: f"once-{uuid.uuid4().hex}"  # noqa: E731
    # create
    body, create_key = order_body(), key()
    created = [admin.post("/api/v1/orders", json=body, headers={"Idempotency-Key": create_key}) for _ in range(2)]
    assert created[0].status_code == created[1].status_code == 201
    assert created[0].json() == created[1].json()
    customer = created[0].json()["customer"]["id"]
    assert admin.get(f"/api/v1/customers/{customer}").json()["order_count"] == 1
    reference = created[0].json()["reference"]
    wait_for(lambda: payment_of(admin, reference), timeout=20, interval=0.2, message="the payment record")
    # the same key from another user is another request: it does not see this user's answer
    agent_order = client_for("agent").post("/api/v1/orders", json=body, headers={"Idempotency-Key": create_key})
    assert agent_order.status_code == 201 and agent_order.json()["reference"] != reference

    # ship (a second ship without the key would be refused: the replay is the first answer)
    ship_key = key()
    shipped = [
        admin.post(
            f"/api/v1/orders/{reference}/ship",
            json={"notify": False, "tracking_number": "T-1"},
            headers={"Idempotency-Key": ship_key},
        )
        for _ in range(2)
    ]
    assert shipped[0].status_code == shipped[1].status_code == 200
    assert shipped[0].json() == shipped[1].json()
    changed = admin.post(
        f"/api/v1/orders/{reference}/ship",
        json={"notify": False, "tracking_number": "T-2"},
        headers={"Idempotency-Key": ship_key},
    )
    assert changed.status_code == 409 and "Idempotency-Key" in changed.json()["errors"]
    assert history_actions(admin, reference).count("status_changed") == 1
    assert admin.get(f"/api/v1/orders/{reference}").json()["tracking_number"] == "T-1"

    # payment bookkeeping (payments)
    status_key = key()
    booked = [
        admin.post(
            f"/api/v1/orders/{reference}/payment-status",
            json={"status": "announced"},
            headers={"Idempotency-Key": status_key},
        )
        for _ in range(2)
    ]
    assert booked[0].status_code == booked[1].status_code == 200
    assert booked[0].json() == booked[1].json()
    payment_actions = [
        entry["action"] for entry in admin.get(f"/api/v1/orders/{reference}/payment/history").json()["items"]
    ]
    assert payment_actions.count("manual_status") == 1

    # an export job (exports): created once
    job_key, name = key(), f"job-{uuid.uuid4().hex[:8]}"
    job = {"name": name, "cron": "0 3 * * *", "kind": "orders", "format": "xml", "target": "nightly"}
    jobs = [admin.post("/api/v1/exports/jobs", json=job, headers={"Idempotency-Key": job_key}) for _ in range(2)]
    assert jobs[0].status_code == jobs[1].status_code == 201, jobs[0].text
    assert jobs[0].json() == jobs[1].json()
    assert [item["name"] for item in admin.get("/api/v1/exports/jobs").json()["items"]].count(name) == 1

    # merge (orders): the duplicate's orders move once
    duplicate = admin.post("/api/v1/orders", json=order_body()).json()["customer"]["id"]
    merge_key = key()
    merged = [
        admin.post(
            f"/api/v1/customers/{duplicate}/merge", json={"into": customer}, headers={"Idempotency-Key": merge_key}
        )
        for _ in range(2)
    ]
    assert merged[0].status_code == merged[1].status_code == 200, merged[0].text
    assert merged[0].json() == merged[1].json() and merged[0].json()["orders_moved"] == 1


def test_a_malformed_idempotency_key_is_400_and_nothing_happens(admin, running_suite):
    body = order_body()
    response = admin.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    assert admin.get("/api/v1/customers", params={"q": body["customer"]["email"]}).json()["total"] == 0


# ---------------------------------------------------------------- a 503 that does not claim nothing happened


class StuckOrders:
    """An orders service that takes every request and answers none in time."""

    name = "orders"

    @rpc
    def ship_order(self, reference, data, actor=None):
        eventlet.sleep(5)

    @rpc
    def list_orders(self, query=None):
        eventlet.sleep(5)


@pytest.fixture
def gateway_before_stuck_orders(runner_factory, service_config):
    config = {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RPC_TIMEOUT_SECONDS": 1,
    }
    runner_factory(config, GatewayService, StuckOrders).start()
    return ApiClient(f"http://{config['WEB_SERVER_ADDRESS']}", ADMIN_TOKEN)


def test_a_timed_out_mutation_says_it_may_have_been_applied_and_a_read_stays_plain(
    gateway_before_stuck_orders, signed_in_browser
):
    api = gateway_before_stuck_orders
    shipped = api.post("/api/v1/orders/100042/ship", json={"notify": False})
    assert shipped.status_code == 503
    problem = shipped.json()
    assert problem["may_have_applied"] is True
    assert problem["history"] == "/api/v1/orders/100042/history"
    assert "may have been applied" in problem["detail"] and "/api/v1/orders/100042/history" in problem["detail"]

    with_key = api.post("/api/v1/orders/100042/ship", json={"notify": False}, headers={"Idempotency-Key": "k-503"})
    assert with_key.status_code == 503 and with_key.json()["may_have_applied"] is True
    assert "same Idempotency-Key" in with_key.json()["detail"]

    listed = api.get("/api/v1/orders")
    assert listed.status_code == 503
    assert "may_have_applied" not in listed.json() and "history" not in listed.json()

    # the admin UI says the same for an action it sent
    browser = signed_in_browser(api.base)
    users_page = browser.get(f"{api.base}/admin/users", timeout=20).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', users_page).group(1)
    page = browser.post(f"{api.base}/admin/orders/100042/ship", data={"csrf_token": csrf}, timeout=20)
    assert page.status_code == 503
    assert "may have been applied" in page.text and "A service is not available" not in page.text


class OrdersSlowOnce:
    """Ships the first time but answers too late; refuses every later ship as already done."""

    name = "orders"
    shipped = []

    @rpc
    def ship_order(self, reference, data, actor=None):
        from oms_common.problems import Conflict

        if reference in OrdersSlowOnce.shipped:
            raise Conflict("An order in status 'shipped' cannot move to 'shipped'.")
        OrdersSlowOnce.shipped.append(reference)
        eventlet.sleep(3)


def test_a_retry_refused_after_an_unanswered_attempt_says_that_attempt_was_probably_applied(
    runner_factory, service_config, signed_in_browser
):
    config = {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "RPC_TIMEOUT_SECONDS": 1,
    }
    runner_factory(config, GatewayService, OrdersSlowOnce).start()
    api = ApiClient(f"http://{config['WEB_SERVER_ADDRESS']}", ADMIN_TOKEN)
    headers = {"Idempotency-Key": f"slow-{uuid.uuid4().hex}"}
    reference = str(uuid.uuid4().int)[:12]  # requests other tests left queued name other orders
    first = api.post(f"/api/v1/orders/{reference}/ship", json={"notify": False}, headers=headers)
    assert first.status_code == 503 and first.json()["may_have_applied"] is True
    retry = api.post(f"/api/v1/orders/{reference}/ship", json={"notify": False}, headers=headers)
    assert retry.status_code == 409
    assert retry.json()["may_have_applied"] is True
    assert retry.json()["history"] == f"/api/v1/orders/{reference}/history"
    assert "earlier attempt" in retry.json()["detail"]
    again = api.post(f"/api/v1/orders/{reference}/ship", json={"notify": False}, headers=headers)
    assert (again.status_code, again.content, again.headers.get("Idempotency-Replayed")) == (409, retry.content, "true")
    assert OrdersSlowOnce.shipped.count(reference) == 1


# ---------------------------------------------------------------- the detail names what it could not get


class StuckPayments:
    name = "payments"

    @rpc
    def get_payment(self, reference):
        eventlet.sleep(60)


@pytest.fixture
def slow_rpc_gateway_config(gateway_config):
    # the primary deadline is long: a detail that waited for a stuck part as long as for the
    # order itself would outlast the client's timeout below
    return {**gateway_config, "RPC_TIMEOUT_SECONDS": 60, "DETAIL_PART_TIMEOUT_SECONDS": 1}


@pytest.fixture
def signed_in_browser(database_url):
    """Signs in to the UI as an admin of this test's own: the session's bootstrap admin was made
    by whichever gateway started first, with that gateway's password (or none)."""
    from gateway import users
    from gateway.models import infrastructure
    from tests.conftest import sql_source

    username = f"ui-admin-{uuid.uuid4().hex[:8]}"
    users.create_user(sql_source(database_url, "gateway", infrastructure), username, "admin", ADMIN_PASSWORD)

    def browser_for(base_url):
        browser, response = sign_in(base_url, username, ADMIN_PASSWORD)
        assert response.status_code == 303, response.text
        return browser

    return browser_for


def test_detail_without_payments_running_names_the_missing_parts(admin, base_url, signed_in_browser):
    reference = admin.post("/api/v1/orders", json=order_body()).json()["reference"]
    detail = admin.get(f"/api/v1/orders/{reference}", timeout=20)
    assert detail.status_code == 200
    assert detail.json()["payment"] is None
    assert {"payments", "notifications"} <= set(detail.json()["unavailable"])
    page = signed_in_browser(base_url).get(f"{base_url}/admin/orders/{reference}", timeout=20)
    assert page.status_code == 200
    assert "Some information is not available right now:" in page.text and "payments" in page.text


def test_detail_with_a_stuck_payments_service_names_it_instead_of_waiting(
    runner_factory, slow_rpc_gateway_config, signed_in_browser
):
    from orders.service import OrdersService

    runner_factory(slow_rpc_gateway_config, GatewayService, OrdersService, StuckPayments).start()
    base_url = f"http://{slow_rpc_gateway_config['WEB_SERVER_ADDRESS']}"
    admin = ApiClient(base_url, ADMIN_TOKEN)
    reference = admin.post("/api/v1/orders", json=order_body()).json()["reference"]
    detail = admin.get(f"/api/v1/orders/{reference}", timeout=20)
    assert detail.status_code == 200
    assert detail.json()["payment"] is None and "payments" in detail.json()["unavailable"]
    page = signed_in_browser(base_url).get(f"{base_url}/admin/orders/{reference}", timeout=20)
    assert page.status_code == 200 and "payments" in page.text


# ---------------------------------------------------------------- only what the configured providers can do


def test_psp_orders_are_refused_at_creation_while_their_provider_is_not_configured(admin, start_payments):
    start_payments()  # no Stripe key, no PayPal credentials
    before = admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]
    for method, setting in (("card", "OMS_STRIPE_API_KEY"), ("paypal", "OMS_PAYPAL_CLIENT_ID")):
        body = order_body(payment_method=method)
        refused = admin.post("/api/v1/orders", json=body, headers={"Idempotency-Key": f"psp-{uuid.uuid4().hex}"})
        assert refused.status_code == 422, refused.text
        assert setting in " ".join(refused.json()["errors"]["payment_method"])
        assert admin.get("/api/v1/customers", params={"q": body["customer"]["email"]}).json()["total"] == 0
    assert admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"] == before
    assert admin.post("/api/v1/orders", json=order_body(payment_method="invoice")).status_code == 201
    configured = admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]
    assert configured == before + 1


def test_card_orders_are_taken_once_stripe_is_configured(admin, start_payments, fake_psp):
    start_payments(fake_psp)
    created = admin.post("/api/v1/orders", json=order_body(payment_method="card"))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "payment_pending"


def test_operations_of_an_unconfigured_provider_are_not_offered_and_say_why(
    admin, base_url, start_payments, fake_psp, signed_in_browser, runner_factory, service_config
):
    runner_factory(service_config, DocumentsService).start()  # the detail page's documents panel
    configured = start_payments(fake_psp)
    reference = admin.post("/api/v1/orders", json=order_body(payment_method="card")).json()["reference"]
    wait_for(
        lambda: (payment_of(admin, reference) or {}).get("psp_reference"),
        timeout=20,
        interval=0.2,
        message="the payment opened at the PSP",
    )
    assert "void" in payment_of(admin, reference)["allowed_operations"]
    configured.stop()
    start_payments()  # the same payments, now without the Stripe settings

    payment = wait_for(lambda: payment_of(admin, reference), timeout=20, interval=0.2, message="payments again")
    assert "void" not in payment["allowed_operations"] and "complete" in payment["allowed_operations"]
    assert "OMS_STRIPE_API_KEY" in payment["operations_unavailable"]["void"]
    refused = admin.post(f"/api/v1/orders/{reference}/refund", json={"reason": "customer asked"})
    assert refused.status_code == 409, refused.text
    assert "not configured" in refused.json()["detail"] and "OMS_STRIPE_API_KEY" in refused.json()["detail"]
    assert payment_of(admin, reference)["status"] == payment["status"]
    page = signed_in_browser(base_url).get(f"{base_url}/admin/orders/{reference}", timeout=20)
    assert "Stripe is not configured" in page.text and "A service is not available" not in page.text
