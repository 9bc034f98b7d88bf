"""The suite as `make run` starts it, once for the security probes: private vhost and database,
the fake PSP for card payments, and HTTP clients that sign in from chosen loopback addresses
(127.0.0.0/8 is all local, so each test can be "another client" without a proxy)."""

import contextlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.suite import REPO, RunningSuite, private_infrastructure, stripe_settings, suite_environment, wait_for

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402

TOKEN = "security-admin-token-0123456789abcdef"
PASSWORD = "security-admin-password-1"
STRIPE_SECRET = "whsec_security_test"
# the first delay after too many failures: long, so that no test outlasts one by accident
THROTTLE_DELAY = 600
OMS = [sys.executable, str(REPO / "tools" / "oms.py")]


class _FormFields(HTMLParser):
    """The hidden inputs of a page's forms (CSRF tokens and the like)."""

    def __init__(self):
        super().__init__()
        self.hidden = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.hidden.setdefault(attrs["name"], attrs.get("value") or "")


def hidden_fields(page):
    parser = _FormFields()
    parser.feed(page)
    return parser.hidden


def problem_text(page):
    found = re.search(r'<div class="problem" role="alert">(.*?)</div>', page, re.S)
    return found.group(1).strip() if found else None


class _FromAddress(HTTPAdapter):
    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser:
    """A web UI client as a browser is one: cookies, the forms' hidden fields, its own address."""

    def __init__(self, base, address="127.0.0.1"):
        self.base = base
        self.http = requests.Session()
        self.http.mount("http://", _FromAddress(address))

    def get(self, path, **kwargs):
        return self.http.get(self.base + path, timeout=15, allow_redirects=False, **kwargs)

    def sign_in(self, username, password):
        form = hidden_fields(self.get("/admin/login").text)
        form.update(username=username, password=password)
        return self.http.post(
            self.base + "/admin/login", data=form, headers={"Origin": self.base}, timeout=15, allow_redirects=False
        )

    def post(self, path, data, page="/admin/orders"):
        """Submits a form the way the page at ``page`` offers it (its CSRF token included)."""
        form = {"csrf_token": hidden_fields(self.get(page).text).get("csrf_token", ""), **data}
        return self.http.post(
            self.base + path, data=form, headers={"Origin": self.base}, timeout=15, allow_redirects=False
        )

    def signed_in(self):
        return self.get("/admin/orders").status_code == 200


class SecuritySuite:
    def __init__(self, env, psp):
        self.env, self.psp = env, psp
        self.suite = None

    @property
    def base(self):
        return f"http://{self.env['OMS_GATEWAY_ADDRESS']}"

    def start(self):
        self.suite = RunningSuite(self.env)
        assert self.suite.wait_for("OMS is up", timeout=120), self.suite.tail(80)

    def stop(self):
        if self.suite is not None:
            self.suite.stop()
            self.suite = None

    def api(self, token=TOKEN):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        base = self.base

        class Api:
            def get(self, path, **kwargs):
                return session.get(base + path, timeout=15, **kwargs)

            def post(self, path, json=None, **kwargs):
                return session.post(base + path, json=json, timeout=15, **kwargs)

            def put(self, path, json=None, **kwargs):
                return session.put(base + path, json=json, timeout=15, **kwargs)

        return Api()

    def browser(self, address="127.0.0.1"):
        return Browser(self.base, address)

    def oms(self, *args, stdin=None):
        return subprocess.run(
            [*OMS, *args], capture_output=True, text=True, env=self.env, timeout=60, cwd=str(REPO), input=stdin
        )

    def oms_json(self, *args):
        result = self.oms("--json", *args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def user(self, username, role, password=None):
        """A user made with the operator CLI; returns its API token."""
        args = ["users", "create", username, "--role", role]
        if password:
            args += ["--password", password, "--token"]
        return self.oms_json(*args)["token"]

    def user_row(self, username):
        return next(u for u in self.oms_json("users", "list")["items"] if u["username"] == username)


@contextlib.contextmanager
def security_suite(tmp):
    """A suite on a vhost and database of its own, the bootstrap admin as TOKEN and PASSWORD."""
    with private_infrastructure("oms-sec") as private:
        psp = FakePSP(stripe_webhook_secret=STRIPE_SECRET)
        psp.start()
        env = suite_environment(
            private.amqp_uri,
            private.database_url,
            tmp,
            OMS_BOOTSTRAP_ADMIN_TOKEN=TOKEN,
            OMS_BOOTSTRAP_ADMIN_PASSWORD=PASSWORD,
            **stripe_settings(psp),
            OMS_LOG_LEVEL="WARNING",
            OMS_MAX_WORKERS=4,
            OMS_SIGN_IN_DELAY_SECONDS=THROTTLE_DELAY,
        )
        psp.stripe_webhook_url = f"http://{env['OMS_WEBHOOK_ADDRESS']}/webhooks/stripe"
        running = SecuritySuite(env, psp)
        try:
            running.start()
            yield running
        finally:
            running.stop()
            psp.stop()


@pytest.fixture(scope="package")
def suite(tmp_path_factory):
    with security_suite(tmp_path_factory.mktemp("security")) as running:
        yield running


def order_body(payment_method="invoice", email="probe@example.com"):
    return {
        "customer": {"email": email, "first_name": "Petra", "last_name": "Probe", "language": "de"},
        "billing_address": {
            "first_name": "Petra",
            "last_name": "Probe",
            "street": "Gasse 2",
            "postal_code": "4000",
            "city": "Basel",
            "country": "CH",
        },
        "lines": [{"article_number": "SEC-1", "name": "Teapot", "quantity": 1, "unit_price": "250.00"}],
        "shipping_cost": "0.00",
        "payment_method": payment_method,
    }


__all__ = ["wait_for"]
