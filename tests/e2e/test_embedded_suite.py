"""A newcomer's `make run`: no database setting and no SMTP server, so the suite starts its own
PostgreSQL under OMS_VAR_DIR and keeps its mails in the local outbox. One suite start for the
whole module (the embedded server's first start runs initdb), in any order; the test that stops
the suite starts one of its own.
"""

import concurrent.futures
import contextlib
import email
import re
import subprocess
import sys
from datetime import datetime
from email import policy
from pathlib import Path

import psutil
import pytest
import requests
from lxml import etree

from tests.support.suite import REPO, RunningSuite, private_vhost, suite_environment, wait_for
from tests.support.ui import sign_in

ORDER = {
    "customer": {"email": "newcomer@example.com", "first_name": "Nora", "last_name": "Neu", "language": "en"},
    "billing_address": {
        "first_name": "Nora",
        "last_name": "Neu",
        "street": "Seestrasse 5",
        "postal_code": "8002",
        "city": "Zürich",
        "country": "CH",
    },
    "lines": [{"article_number": "TEA-200", "name": "Black tea", "quantity": 2, "unit_price": "9.50"}],
    "shipping_cost": "5.00",
    "payment_method": "invoice",
}
TIME_FIELD = re.compile(r"(_at|_from|_to|^at|^date|^since|_time)$")
OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


@contextlib.contextmanager
def newcomer_suite(amqp_uri, root):
    env = suite_environment(amqp_uri, "", root)
    del env["OMS_DATABASE_URL"]  # exactly what a fresh clone has: nothing
    running = RunningSuite(env)
    try:
        assert running.wait_for("OMS is up", timeout=240), running.tail(120)
        running.var = Path(env["OMS_VAR_DIR"])
        yield running
    finally:
        running.stop()
        print(running.tail())


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    with (
        private_vhost("oms-newcomer") as amqp_uri,
        newcomer_suite(amqp_uri, tmp_path_factory.mktemp("newcomer")) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def api(suite):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + (suite.var / "admin-token").read_text().strip()
    session.base = suite.base_url
    return session


def call(api, method, path, **kwargs):
    return api.request(method, api.base + path, timeout=30, **kwargs)


def new_order(api, **changes):
    response = call(api, "POST", "/api/v1/orders", json={**ORDER, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def time_values(value, path="$"):
    """Every (path, string) in an answer whose key names a time."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and TIME_FIELD.search(key):
                yield f"{path}.{key}", item
            else:
                yield from time_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from time_values(item, f"{path}[{index}]")


def embedded_postgres_processes(pgdata):
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(pgdata) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_the_suite_runs_on_its_own_embedded_postgresql(suite):
    output = "".join(suite.output)
    assert "embedded PostgreSQL is up" in output and "database migrations applied (embedded PostgreSQL" in output
    assert (suite.var / "postgres" / "PG_VERSION").read_text().strip() == "18"
    assert embedded_postgres_processes(suite.var / "postgres")
    assert requests.get(suite.base_url + "/health", timeout=10).status_code == 200


def test_five_payment_actions_at_once_all_succeed_and_health_stays_up(suite, api):
    dunned = [new_order(api)["reference"] for _ in range(3)]
    booked = [new_order(api)["reference"] for _ in range(2)]
    for reference in dunned:  # dunning is for shipped orders, as in the shop
        assert call(api, "POST", f"/api/v1/orders/{reference}/ship", json={"notify": False}).status_code == 200
    actions = [("POST", f"/api/v1/orders/{r}/dunning", {"level": 1, "notify": True}) for r in dunned]
    actions += [("POST", f"/api/v1/orders/{r}/payment-status", {"status": "paid"}) for r in booked]
    with concurrent.futures.ThreadPoolExecutor(len(actions)) as pool:
        answers = list(pool.map(lambda a: call(api, a[0], a[1], json=a[2]), actions))
        health = requests.get(suite.base_url + "/health", timeout=10)
    assert [answer.status_code for answer in answers] == [200] * 5, [answer.text for answer in answers]
    assert health.status_code == 200, health.text
    assert [answer.json()["dunning_level"] for answer in answers[:3]] == [1, 1, 1]
    assert [answer.json()["status"] for answer in answers[3:]] == ["paid", "paid"]
    for reference in dunned:
        assert call(api, "GET", f"/api/v1/orders/{reference}").json()["status"] == "dunning_1"
    assert requests.get(suite.base_url + "/health", timeout=10).status_code == 200
    assert "exited with code" not in "".join(suite.output)


def _exported_status(api, reference):
    response = call(api, "GET", "/api/v1/exports/orders.xml", params={"q": reference})
    assert response.status_code == 200, response.text
    document = etree.fromstring(response.content)
    for order in document.iter("{*}order"):
        if order.get("reference") == reference:
            status = order.find("{*}status")
            return (status.text if status is not None else order.get("status")), int(order.get("version"))
    return None, None


def test_orders_xml_shows_a_shipped_and_a_cancelled_order_within_seconds(api):
    shipped, cancelled = new_order(api)["reference"], new_order(api)["reference"]
    assert call(api, "POST", f"/api/v1/orders/{shipped}/ship", json={"notify": False}).status_code == 200
    assert call(api, "POST", f"/api/v1/orders/{cancelled}/cancel", json={"notify": False}).status_code == 200
    state = wait_for(
        lambda: _exported_status(api, shipped)[0] == "shipped" and _exported_status(api, shipped),
        timeout=10,
        interval=0.25,
        message="the shipped order in orders.xml",
    )
    assert state[1] > 1
    wait_for(
        lambda: _exported_status(api, cancelled)[0] == "cancelled",
        timeout=10,
        interval=0.25,
        message="the cancelled order in orders.xml",
    )


def test_a_scheduled_job_run_writes_its_file_and_is_listed(suite, api):
    new_order(api)
    job = call(
        api,
        "POST",
        "/api/v1/exports/jobs",
        json={"name": "Newcomer ERP", "cron": "0 3 * * *", "kind": "orders", "format": "xml", "target": "erp"},
    )
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    started = call(api, "POST", f"/api/v1/exports/jobs/{job_id}/run")
    assert started.status_code == 202, started.text

    def finished_run():
        runs = call(api, "GET", "/api/v1/exports/runs").json()["items"]
        return [run for run in runs if run.get("job_id") == job_id and run["status"] != "running"]

    runs = wait_for(finished_run, timeout=30, interval=0.5, message="the job's run in /exports/runs")
    run = runs[0]
    assert run["status"] == "succeeded", run
    assert run["rows"] >= 1
    written = Path(suite.env["OMS_EXPORT_DIR"]) / "erp" / Path(run["file"]).name
    assert written.is_file(), (run, sorted(Path(suite.env["OMS_EXPORT_DIR"]).rglob("*")))
    assert b"<order " in written.read_bytes()


def test_every_time_in_get_answers_carries_an_offset(suite, api):
    reference = new_order(api)["reference"]
    call(api, "POST", f"/api/v1/orders/{reference}/ship", json={"notify": False})
    answers = {
        path: call(api, "GET", path)
        for path in (
            f"/api/v1/orders/{reference}",
            f"/api/v1/orders/{reference}/history",
            f"/api/v1/orders/{reference}/payment",
            "/api/v1/orders?page_size=5",
            "/api/v1/exports/jobs",
            "/api/v1/exports/runs",
        )
    }
    found = []
    for path, answer in answers.items():
        assert answer.status_code == 200, (path, answer.text)
        for where, value in time_values(answer.json()):
            found.append(where)
            assert OFFSET.search(value), f"{path} {where} = {value!r} has no UTC offset"
            datetime.fromisoformat(value)
    assert any(where.endswith("created_at") for where in found) and any(".at" in where for where in found), found


def _sign_in(suite):
    browser, response = sign_in(
        suite.base_url, "admin", (suite.var / "admin-password").read_text().strip(), "/admin/outbox"
    )
    assert response.status_code == 303, response.text
    return browser


def test_a_shipped_with_notify_mail_lands_in_the_local_outbox_and_its_admin_page(suite, api):
    reference = new_order(api, customer={**ORDER["customer"], "email": "outbox@example.com", "last_name": "Neu<i>"})[
        "reference"
    ]
    assert (
        call(
            api, "POST", f"/api/v1/orders/{reference}/ship", json={"notify": True, "tracking_number": "TRACK-<script>"}
        ).status_code
        == 200
    )

    def shipping_mail():
        for path in sorted((suite.var / "mail").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if (
                "outbox@example.com" in str(message["To"])
                and "TRACK-<script>" in message.get_body(("plain",)).get_content()
            ):
                return path, message
        return None

    path, message = wait_for(shipping_mail, timeout=30, interval=0.5, message="the shipping mail in var/mail")
    browser = _sign_in(suite)
    listing = browser.get(suite.base_url + "/admin/outbox", timeout=30)
    assert listing.status_code == 200
    assert f'href="/admin/outbox/{path.name}"' in listing.text
    assert "outbox@example.com" in listing.text
    assert "Neu&lt;i&gt;" in listing.text and "Neu<i>" not in listing.text
    assert 'href="/admin/outbox">' in listing.text  # the menu entry
    shown = browser.get(suite.base_url + f"/admin/outbox/{path.name}", timeout=30)
    assert shown.status_code == 200
    assert "TRACK-&lt;script&gt;" in shown.text and "TRACK-<script>" not in shown.text
    for header in ("Sender", "Recipient", "Subject", "Date"):
        assert f"<dt>{header}</dt>" in shown.text
    subject = str(message["Subject"]).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert subject in shown.text
    for name in ("..%2Fadmin-token", "..%2F..%2Fvar%2Fadmin-token", "%2Fetc%2Fpasswd", ".hidden.eml", "x.txt"):
        refused = browser.get(suite.base_url + f"/admin/outbox/{name}", timeout=30)
        assert refused.status_code == 404, name
        assert "oms_" not in refused.text


def test_the_outbox_is_for_admins_only(suite):
    admin = _sign_in(suite)
    page = admin.get(suite.base_url + "/admin/users", timeout=30).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    made = admin.post(
        suite.base_url + "/admin/users",
        timeout=30,
        data={
            "csrf_token": csrf,
            "username": "outbox-agent",
            "role": "agent",
            "password": "agent-password-123",
            "language": "en",
        },
    )
    assert made.status_code == 200 and "outbox-agent" in made.text, made.text
    agent, answer = sign_in(suite.base_url, "outbox-agent", "agent-password-123")
    assert answer.status_code == 303, answer.text
    assert agent.get(suite.base_url + "/admin/outbox", timeout=30).status_code == 403
    assert 'href="/admin/outbox"' not in agent.get(suite.base_url + "/admin/orders", timeout=30).text


def test_a_second_make_run_on_the_same_ports_refuses_and_names_the_port(suite, api):
    second = subprocess.run(
        [sys.executable, str(REPO / "tools" / "run.py")],
        cwd=str(REPO),
        env=suite.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert f"OMS_GATEWAY_ADDRESS={suite.env['OMS_GATEWAY_ADDRESS']} is already in use" in second.stdout, second.stdout
    assert "nothing was started" in second.stdout
    assert "embedded PostgreSQL" not in second.stdout
    assert requests.get(suite.base_url + "/health", timeout=10).status_code == 200
    assert call(api, "GET", "/api/v1/orders?page_size=1").status_code == 200


def test_the_internal_export_listener_refuses_requests_without_its_token(suite, api):
    base = f"http://{suite.env['OMS_EXPORTS_HTTP_ADDRESS']}/exports"
    token = (suite.var / "exports-internal-token").read_text().strip()
    reference = new_order(api)["reference"]  # an order to leak, whichever test ran before
    wait_for(
        lambda: _exported_status(api, reference)[0], timeout=10, interval=0.25, message="the new order in orders.xml"
    )
    for headers in ({}, {"X-OMS-Internal-Token": "wrong"}, {"X-OMS-Internal-Token": token[:-1]}):
        refused = requests.get(base + "/orders.xml", headers=headers, timeout=30)
        assert refused.status_code == 401, refused.text
        assert "<order" not in refused.text
    allowed = requests.get(base + "/orders.xml", headers={"X-OMS-Internal-Token": token}, timeout=30)
    assert allowed.status_code == 200 and f'reference="{reference}"'.encode() in allowed.content


@pytest.mark.timeout(900)  # a suite start (up to 240 s) and a stop of its own, each bounded itself
def test_stopping_the_suite_stops_its_embedded_postgresql(tmp_path_factory):
    # a suite of its own, on a broker vhost of its own: stopping the module's suite would leave
    # the other tests without one, and two suites on one vhost would take each other's messages
    with (
        private_vhost("oms-stopping") as amqp_uri,
        newcomer_suite(amqp_uri, tmp_path_factory.mktemp("stopping")) as suite,
    ):
        _stop_and_check_the_embedded_postgresql_stopped(suite)


def _stop_and_check_the_embedded_postgresql_stopped(suite):
    pgdata = suite.var / "postgres"
    assert embedded_postgres_processes(pgdata)
    assert suite.stop() == 0
    output = "".join(suite.output)
    assert "[oms] embedded PostgreSQL stopped" in output and "[oms] stopped" in output
    assert not embedded_postgres_processes(pgdata)
    assert not (suite.var / "database-url").exists()
    assert not (pgdata / ".s.PGSQL.5432").exists()  # the server removes its socket when it stops
    assert (pgdata / "PG_VERSION").exists()  # the data stays for the next run
