"""What an attacker or a broken client finds at the edge, replayed against the suite as `make run`
starts it (tools/run.py on a private database and vhost). Every refusal is checked for its status,
its problem JSON naming the field, and that nothing changed in any service's tables."""

import errno
import hashlib
import hmac
import json
import socket
import threading
import time

import psycopg2
import pytest
import requests

from tests.support.suite import (
    RunningSuite,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    free_port,
    suite_environment,
    wait_for,
)

TOKEN = "edge-admin-token-0123456789abcdef"
PASSWORD = "Edge-Password-4711"
SECRET = "whsec_edge"
DEADLINE = 4  # OMS_HTTP_HEAD_SECONDS / OMS_HTTP_BODY_SECONDS of this suite (10 by default)
PROBLEM = "application/problem+json"
ORDER = {
    "customer": {"email": "edge@example.com", "first_name": "Erika", "last_name": "Muster", "language": "de"},
    "billing_address": {
        "first_name": "Erika",
        "last_name": "Muster",
        "street": "Bahnhofstrasse 1",
        "postal_code": "8001",
        "city": "Zürich",
        "country": "CH",
    },
    "lines": [{"article_number": "TEA-100", "name": "Grüntee", "quantity": 3, "unit_price": "12.50"}],
    "shipping_cost": "8.00",
    "payment_method": "invoice",
}
# every table a refused request could have touched
WATCHED = [
    "orders.orders",
    "orders.order_lines",
    "orders.order_history",
    "orders.customers",
    "orders.outbox",
    "payments.payments",
    "payments.webhook_inbox",
    "payments.payment_audit",
    "payments.outbox",
    "gateway.web_sessions",
    "gateway.api_tokens",
    "exports.export_orders",
    "exports.export_jobs",
    "notifications.mails",
]


class Edge:
    def __init__(self, suite, database_url):
        self.suite = suite
        self.database_url = database_url
        env = suite.env
        self.base = f"http://{env['OMS_GATEWAY_ADDRESS']}"
        self.webhooks = f"http://{env['OMS_WEBHOOK_ADDRESS']}"
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {TOKEN}"

    def address(self, key):
        host, port = self.suite.env[key].rsplit(":", 1)
        return host, int(port)

    def scalar(self, sql, *args):
        with psycopg2.connect(self.database_url) as connection, connection.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchone()[0]

    def state(self):
        """Row counts and order versions of every watched table: equal before and after means unchanged."""
        with psycopg2.connect(self.database_url) as connection, connection.cursor() as cursor:
            counts = {}
            for table in WATCHED:
                cursor.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT coalesce(sum(version), 0), coalesce(string_agg(status, ',' ORDER BY id), '') FROM orders.orders"
            )
            counts["orders.versions"] = cursor.fetchone()
            cursor.execute(
                "SELECT string_agg(username || ':' || role || ':' || language, ',' ORDER BY id) FROM gateway.users"
            )
            counts["gateway.users"] = cursor.fetchone()[0]
        return counts

    def signed(self, body):
        timestamp = int(time.time())
        mac = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return {"Stripe-Signature": f"t={timestamp},v1={mac}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    vhost, amqp_uri = create_vhost("oms-edge")
    name, url = create_database("oms_edge")
    env = suite_environment(
        amqp_uri,
        url,
        tmp_path_factory.mktemp("edge"),
        OMS_BOOTSTRAP_ADMIN_TOKEN=TOKEN,
        OMS_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
        OMS_STRIPE_WEBHOOK_SECRET=SECRET,
        OMS_HTTP_HEAD_SECONDS=DEADLINE,
        OMS_HTTP_BODY_SECONDS=DEADLINE,
        OMS_METRICS_PORT_GATEWAY=free_port(),
    )
    suite = RunningSuite(env)
    try:
        assert suite.wait_for("OMS is up", timeout=120), suite.tail(80)
        yield Edge(suite, url)
    finally:
        suite.stop()
        print(suite.tail(200))  # shown when a test fails
        drop_database(name)
        delete_vhost(vhost)


@pytest.fixture(scope="module")
def order(edge):
    created = edge.api.post(edge.base + "/api/v1/orders", json=ORDER, timeout=10)
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    # what the order sets off elsewhere has happened before any "nothing changed" is judged
    wait_for(
        lambda: (
            edge.scalar("SELECT count(*) FROM payments.payments WHERE order_reference = %s", reference)
            and edge.scalar("SELECT count(*) FROM exports.export_orders WHERE reference = %s", reference)
            and edge.scalar("SELECT count(*) FROM notifications.mails")
        ),
        timeout=30,
        message="the order's effects",
    )
    return created.json()


def assert_problem(response, status, field=None):
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in body["errors"], body
    assert "Traceback" not in response.text and "Error:" not in response.text
    return body


def signed_in(edge, username="admin", password=PASSWORD):
    """A browser-like session: the sign-in form's token, then the session cookie."""
    browser = requests.Session()
    form = browser.get(edge.base + "/admin/login", timeout=10)
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = browser.post(
        edge.base + "/admin/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text[:300]
    return browser


def page_csrf(browser, url):
    return browser.get(url, timeout=10).text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


# ---------------------------------------------------------------- slow clients and exclusive listeners


def _slow_connection(address, path):
    connection = socket.create_connection(address, timeout=30)
    connection.sendall(
        f"POST {path} HTTP/1.1\r\nHost: oms\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 100000\r\n\r\n".encode()
    )
    return connection


def _outcome(connection):
    try:
        data = connection.recv(200)
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "still open"
    return data.split(b"\r\n", 1)[0].decode() if data else "closed"


def test_fifty_slow_bodies_cost_sockets_not_workers(edge, order):
    """More slow bodies than either listener has workers (gateway 20, payments 10)."""
    gateway, webhooks = edge.address("OMS_GATEWAY_ADDRESS"), edge.address("OMS_WEBHOOK_ADDRESS")
    slow = [
        _slow_connection(gateway, "/admin/login") if i % 2 == 0 else _slow_connection(webhooks, "/webhooks/stripe")
        for i in range(50)
    ]
    trickling = threading.Event()
    trickling.set()

    def trickle():
        # a byte a second on each: no read ever waits long enough for a per-read timeout to help
        while trickling.is_set():
            for connection in slow:
                try:
                    connection.send(b"u")
                except OSError:
                    pass
            time.sleep(1)

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        listed = edge.api.get(edge.base + "/api/v1/orders", timeout=10)
        assert listed.status_code == 200 and order["reference"] in [o["reference"] for o in listed.json()["items"]]
        event = {
            "id": "evt_edge_while_slow",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": "pi_edge",
                    "object": "payment_intent",
                    "amount": 100,
                    "amount_received": 100,
                    "currency": "chf",
                    "metadata": {"order_reference": "999999999"},
                }
            },
        }
        body = json.dumps(event).encode()
        accepted = requests.post(edge.webhooks + "/webhooks/stripe", data=body, headers=edge.signed(body), timeout=10)
        assert accepted.status_code == 200, accepted.text
        # the deadline closes every slow connection, with a 408 where the answer can still be written
        outcomes = [_outcome(connection) for connection in slow]
        assert all(o.startswith("HTTP/1.1 408") or o in ("reset", "closed") for o in outcomes), outcomes
    finally:
        trickling.clear()
        trickler.join(5)
        for connection in slow:
            connection.close()
    wait_for(
        lambda: edge.scalar("SELECT count(*) FROM payments.webhook_inbox WHERE status = 'received'") == 0,
        timeout=30,
        message="the accepted event processed",
    )


def test_a_slow_head_is_cut_off(edge):
    connections = [socket.create_connection(edge.address("OMS_GATEWAY_ADDRESS"), timeout=30) for _ in range(20)]
    try:
        for connection in connections:
            connection.sendall(b"GET /api/v1/orders HTTP/1.1\r\nHost: oms\r\nX-Slow: ")
        assert edge.api.get(edge.base + "/api/v1/orders", timeout=10).status_code == 200
        for connection in connections:
            connection.sendall(b"a")
        assert {_outcome(connection) for connection in connections} <= {"closed", "reset"}
    finally:
        for connection in connections:
            connection.close()


@pytest.mark.parametrize(
    "key", ["OMS_GATEWAY_ADDRESS", "OMS_WEBHOOK_ADDRESS", "OMS_EXPORTS_HTTP_ADDRESS", "OMS_METRICS_PORT_GATEWAY"]
)
def test_no_second_listener_can_share_an_address(edge, key):
    from oms_common.listener import AddressInUse, listen_exclusively

    if key.startswith("OMS_METRICS"):
        address = ("127.0.0.1", int(edge.suite.env[key]))
        assert requests.get(f"http://127.0.0.1:{address[1]}/metrics", timeout=10).status_code == 200
    else:
        address = edge.address(key)
    # what eventlet's listen does by default: SO_REUSEPORT, which would share the port with a listener
    # that set it too
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    with pytest.raises(OSError) as refused:
        probe.bind(address)
    probe.close()
    assert refused.value.errno == errno.EADDRINUSE
    with pytest.raises(AddressInUse, match=f"{address[0]}:{address[1]}"):
        listen_exclusively(*address)


# ---------------------------------------------------------------- input at the edge


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/v1/orders/%00"),
        ("GET", "/api/v1/orders/%00/history"),
        ("GET", "/api/v1/orders/%00/payment"),
        ("POST", "/api/v1/orders/%00/ship"),
        ("POST", "/api/v1/orders/%00/cancel"),
        ("POST", "/api/v1/orders/%00/refund"),
        ("GET", "/admin/orders/%00"),
        ("GET", "/api/v1/customers/%00"),
    ],
)
def test_nul_in_a_path_is_404(edge, order, method, path):
    before = edge.state()
    answer = edge.api.request(
        method, edge.base + path, json={} if method == "POST" else None, timeout=10, allow_redirects=False
    )
    assert_problem(answer, 404, "path")
    assert edge.state() == before


def test_nul_in_a_query_parameter_is_422_naming_it(edge, order):
    before = edge.state()
    assert_problem(edge.api.get(edge.base + "/api/v1/orders", params={"q": "a\x00b"}, timeout=10), 422, "q")
    assert edge.state() == before


def _order_with(**changes):
    body = json.loads(json.dumps(ORDER))
    for path, value in changes.items():
        target = body
        *parents, last = path.split("__")
        for parent in parents:
            target = target[int(parent)] if parent.isdigit() else target[parent]
        target[last] = value
    return body


@pytest.mark.parametrize(
    "escaped,field",
    [('"\\ud800"', "customer.first_name"), ('"Er\\u0000ika"', "customer.first_name"), ('"\\udc00x"', "lines.0.name")],
)
def test_nul_and_lone_surrogates_in_json_text_are_422(edge, escaped, field):
    placeholder = "__PLACEHOLDER__"
    where = {"customer.first_name": "customer__first_name", "lines.0.name": "lines__0__name"}[field]
    raw = json.dumps(_order_with(**{where: placeholder})).replace(f'"{placeholder}"', escaped)
    before = edge.state()
    answer = edge.api.post(
        edge.base + "/api/v1/orders", data=raw.encode(), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert_problem(answer, 422, field)
    assert edge.state() == before


@pytest.mark.parametrize("text", ["Rechnung\u202efdp.exe", "Eri\u200bka", "\u2066Erika\u2069", "\ufeffErika"])
def test_bidi_overrides_and_zero_width_characters_are_422(edge, text):
    before = edge.state()
    answer = edge.api.post(edge.base + "/api/v1/orders", json=_order_with(billing_address__last_name=text), timeout=10)
    assert_problem(answer, 422, "billing_address.last_name")
    assert edge.state() == before


def test_amounts_that_would_overflow_a_column_are_422(edge):
    before = edge.state()
    answer = edge.api.post(
        edge.base + "/api/v1/orders",
        json=_order_with(lines__0__quantity=100000, lines__0__unit_price="10000000.00"),
        timeout=10,
    )
    assert_problem(answer, 422, "lines.0.unit_price")
    many = _order_with()
    many["lines"] = [dict(many["lines"][0], quantity=10000, unit_price="999999.00") for _ in range(3)]
    assert_problem(edge.api.post(edge.base + "/api/v1/orders", json=many, timeout=10), 422, "lines")
    assert edge.state() == before


def test_deeply_nested_json_is_400(edge):
    before = edge.state()
    answer = edge.api.post(
        edge.base + "/api/v1/orders", data=b"[" * 200_000, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert_problem(answer, 400, "body")
    assert edge.state() == before


def test_long_static_file_names_are_404(edge):
    for name in ("a" * 256, "..%2fapp.py", "%00"):
        answer = requests.get(edge.base + "/admin/static/" + name, timeout=10)
        assert answer.status_code == 404 and answer.headers["Content-Type"].startswith(PROBLEM), name
    assert requests.get(edge.base + "/admin/static/admin.css", timeout=10).status_code == 200


def test_line_breaks_in_redirect_targets_are_ignored(edge):
    before = edge.state()
    browser = requests.Session()
    form = browser.get(edge.base + "/admin/login", params={"next": "/admin/orders\r\nSet-Cookie: evil=1"}, timeout=10)
    assert form.status_code == 200 and "evil" not in form.text
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = browser.post(
        edge.base + "/admin/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/admin/orders\r\nSet-Cookie: evil=1",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/orders"
    assert "evil" not in answer.headers.get("Set-Cookie", "")
    after_sign_in = edge.state()
    csrf = page_csrf(browser, edge.base + "/admin/orders")
    back = browser.post(
        edge.base + "/admin/language",
        data={"language": "en", "csrf_token": csrf, "back": "/admin/orders\nX-Evil: 1"},
        allow_redirects=False,
        timeout=10,
    )
    assert back.status_code == 303 and back.headers["Location"] == "/admin/orders" and "X-Evil" not in back.headers
    assert edge.state() == after_sign_in
    assert after_sign_in["gateway.web_sessions"] == before["gateway.web_sessions"] + 1  # the sign-in, nothing else


# ---------------------------------------------------------------- the webhook listener


@pytest.mark.parametrize(
    "body,field",
    [
        (
            b'{"id":"evt_deep","type":"payment_intent.succeeded","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "body",
        ),
        (b'{"id":"evt_\\ud800","type":"payment_intent.succeeded","data":{"object":{}}}', "id"),
        (b'{"id":"evt_\\u0000","type":"payment_intent.succeeded","data":{"object":{}}}', "id"),
        (
            b'{"id":"evt_ref","type":"payment_intent.succeeded","data":{"object":{"metadata":{"order_reference":"1\\u0000"}}}}',
            "data.object.metadata.order_reference",
        ),
    ],
)
def test_signed_but_unstorable_webhooks_are_400_problems(edge, body, field):
    before = edge.state()
    answer = requests.post(edge.webhooks + "/webhooks/stripe", data=body, headers=edge.signed(body), timeout=10)
    assert_problem(answer, 400, field)
    assert "RecursionError" not in answer.text
    assert edge.state() == before


def test_the_webhook_listener_has_no_test_route(edge):
    before = edge.state()
    assert_problem(requests.post(edge.webhooks + "/webhooks/noop", data=b"{}", timeout=10), 404)
    assert edge.state() == before


# ---------------------------------------------------------------- headers and trust


def test_every_gateway_answer_carries_the_security_headers(edge, order):
    browser = signed_in(edge)
    answers = {
        "redirect": requests.get(edge.base + "/admin/orders", allow_redirects=False, timeout=10),
        "sign-in page": requests.get(edge.base + "/admin/login", timeout=10),
        "api error": edge.api.get(edge.base + "/api/v1/orders/999999999", timeout=10),
        "unauthenticated": requests.get(edge.base + "/api/v1/orders", timeout=10),
        "unknown path": requests.get(edge.base + "/nothing-here", timeout=10),
        "static file": requests.get(edge.base + "/admin/static/admin.css", timeout=10),
        "api json": edge.api.get(edge.base + "/api/v1/orders", timeout=10),
        "csv download": edge.api.get(edge.base + "/api/v1/exports/orders.csv", timeout=30),
        "report csv": edge.api.get(
            edge.base + "/api/v1/reports/article-orders", params={"article": "TEA", "format": "csv"}, timeout=10
        ),
        "page": browser.get(edge.base + "/admin/orders", timeout=10),
        "health": requests.get(edge.base + "/health", timeout=10),
    }
    expected_status = {"redirect": 302, "api error": 404, "unauthenticated": 401, "unknown path": 404}
    authenticated = {"api json", "csv download", "report csv", "page", "api error"}
    for name, answer in answers.items():
        assert answer.status_code == expected_status.get(name, 200), (name, answer.status_code, answer.text[:200])
        headers = answer.headers
        assert headers.get("X-Frame-Options") == "DENY", name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), name
        assert headers.get("Referrer-Policy"), name
        if name in authenticated:
            assert headers.get("Cache-Control") == "no-store", name


def test_the_bearer_scheme_is_case_insensitive(edge):
    for scheme in ("bearer", "BEARER", "Bearer"):
        answer = requests.get(edge.base + "/api/v1/orders", headers={"Authorization": f"{scheme} {TOKEN}"}, timeout=10)
        assert answer.status_code == 200, scheme
    assert_problem(
        requests.get(edge.base + "/api/v1/orders", headers={"Authorization": f"Basic {TOKEN}"}, timeout=10), 401
    )


def test_sign_in_needs_the_forms_token_and_our_origin(edge):
    before = edge.state()
    browser = requests.Session()
    form = browser.get(edge.base + "/admin/login", timeout=10)
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    credentials = {"username": "admin", "password": PASSWORD}
    without = browser.post(edge.base + "/admin/login", data=credentials, allow_redirects=False, timeout=10)
    assert without.status_code == 403 and "oms_session" not in without.headers.get("Set-Cookie", "")
    stranger = requests.post(
        edge.base + "/admin/login", data={**credentials, "csrf_token": token}, allow_redirects=False, timeout=10
    )  # the token without its cookie
    assert stranger.status_code == 403
    foreign = browser.post(
        edge.base + "/admin/login",
        data={**credentials, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=10,
    )
    assert_problem(foreign, 403, "Origin")
    assert edge.state() == before
    own = browser.post(
        edge.base + "/admin/login",
        data={**credentials, "csrf_token": token},
        headers={"Origin": edge.base},
        allow_redirects=False,
        timeout=10,
    )
    assert own.status_code == 303 and "oms_session=" in own.headers["Set-Cookie"]


def test_a_signed_in_post_from_a_foreign_origin_is_403(edge):
    browser = signed_in(edge)
    before = edge.state()
    csrf = page_csrf(browser, edge.base + "/admin/orders")
    answer = browser.post(
        edge.base + "/admin/language",
        data={"language": "de", "csrf_token": csrf},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=10,
    )
    assert_problem(answer, 403, "Origin")
    cross_site = browser.post(
        edge.base + "/admin/language",
        data={"language": "de", "csrf_token": csrf},
        headers={"Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
        timeout=10,
    )
    assert_problem(cross_site, 403, "Origin")
    assert edge.state() == before


def test_export_runs_show_no_server_paths(edge, order):
    job = edge.api.post(
        edge.base + "/api/v1/exports/jobs",
        json={"name": "edge-daily", "cron": "0 3 * * *", "kind": "orders", "format": "csv", "target": "erp/edge"},
        timeout=10,
    )
    assert job.status_code == 201, job.text
    assert edge.api.post(edge.base + f"/api/v1/exports/jobs/{job.json()['id']}/run", timeout=10).status_code == 202

    def finished():
        items = edge.api.get(edge.base + "/api/v1/exports/runs", timeout=10).json()["items"]
        return [run for run in items if run["status"] != "running"] or None

    [run] = wait_for(finished, timeout=60, message="the export run")
    assert run["status"] == "succeeded", run
    assert run["file"].startswith("erp/edge/") and not run["file"].startswith("/")
    export_dir = edge.suite.env["OMS_EXPORT_DIR"]
    assert export_dir not in edge.api.get(edge.base + "/api/v1/exports/runs", timeout=10).text


# changes the order: last
def test_x_forwarded_for_from_an_untrusted_peer_is_not_the_audit_origin(edge, order):
    shipped = edge.api.post(
        edge.base + f"/api/v1/orders/{order['reference']}/ship",
        json={"notify": False},
        headers={"X-Forwarded-For": "203.0.113.66", "X-Forwarded-Proto": "https"},
        timeout=10,
    )
    assert shipped.status_code == 200, shipped.text
    history = edge.api.get(edge.base + f"/api/v1/orders/{order['reference']}/history", timeout=10).json()["items"]
    [entry] = [item for item in history if item["to"] == "shipped"]
    assert entry["origin"] == "api 127.0.0.1"
    assert "203.0.113.66" not in json.dumps(history)
