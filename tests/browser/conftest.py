"""Browser tests: the suite as `make run` starts it, a real SMTP server, headless Chromium.

These run in their own pytest process (see the Makefile) because Playwright needs plain
asyncio, which eventlet's monkey patching of the other tests would break.
"""

import os
import secrets
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.support.smtp import SmtpSink
from tests.support.suite import REPO, RunningSuite, private_infrastructure, stripe_settings, suite_environment

ADMIN_TOKEN = "browser-admin-token-" + secrets.token_hex(8)
PASSWORD = "correct-horse-battery"
ARTIFACTS = Path(os.environ.get("OMS_TEST_ARTIFACTS", REPO / "test-artifacts")) / "screenshots"
CHROMIUM = os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def smtp(tmp_path_factory):
    sink = SmtpSink(tmp_path_factory.mktemp("smtp"))
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def fake_psp():
    """Stripe for card orders (they are only taken while a provider is configured)."""
    import sys

    sys.path.insert(0, str(REPO / "tools"))
    from fake_psp import FakePSP

    psp = FakePSP(stripe_webhook_secret="whsec_browser")
    psp.start()
    yield psp
    psp.stop()


@pytest.fixture(scope="session")
def suite(tmp_path_factory, smtp, fake_psp):
    with private_infrastructure("oms-browser") as private:
        env = suite_environment(
            private.amqp_uri,
            private.database_url,
            tmp_path_factory.mktemp("suite"),
            OMS_BOOTSTRAP_ADMIN_TOKEN=ADMIN_TOKEN,
            OMS_SMTP_PORT=smtp.port,
            OMS_SMTP_HOST="127.0.0.1",
            OMS_MAIL_POLL_SECONDS="0.2",
            OMS_MAIL_RETRY_BASE_SECONDS="0.5",
            OMS_MAIL_RETRY_MAX_SECONDS="2",
            **stripe_settings(fake_psp),
            OMS_SIGN_IN_DELAY_SECONDS="600",
        )  # no sign-in delay runs out during a test
        running = RunningSuite(env)
        try:
            assert running.wait_for("OMS is up", timeout=180), running.tail()
            running.database_url = private.database_url
            yield running
        finally:
            running.stop()
            ARTIFACTS.parent.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS.parent / "browser-suite.log").write_text(running.tail(5000))  # what the services said


class Api:
    def __init__(self, base):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"

    def create_order(self, **changes):
        body = {
            "customer": {
                "email": f"kunde-{secrets.token_hex(4)}@example.com",
                "first_name": "Maria",
                "last_name": "Müller",
                "language": "de",
            },
            "billing_address": {
                "first_name": "Maria",
                "last_name": "Müller",
                "street": "Hauptstrasse 5",
                "postal_code": "3000",
                "city": "Bern",
                "country": "CH",
            },
            "lines": [{"article_number": "ART-00471", "name": "Teekanne", "quantity": 1, "unit_price": "39.90"}],
            "shipping_cost": "9.00",
            "payment_method": "invoice",
        }
        body.update(changes)
        response = self.http.post(self.base + "/api/v1/orders", json=body, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def order(self, reference):
        return self.http.get(self.base + f"/api/v1/orders/{reference}", timeout=30).json()


@pytest.fixture(scope="session")
def api(suite):
    return Api(suite.base_url)


@pytest.fixture(scope="session")
def users(suite):
    """Users of each role with a password, made through the gateway's own account functions."""
    from gateway import users as accounts
    from gateway.models import infrastructure
    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import database_url as resolve

    engine = make_engine(resolve(suite.database_url, "gateway"), schema="gateway", pool_size=1)
    source = SessionSource(engine, infrastructure)
    made = {}
    for role, language in (("admin", "en"), ("agent", "en"), ("accountant", "en"), ("readonly", "en")):
        username = f"{role}-browser"
        accounts.create_user(source, username, role, PASSWORD, language)
        made[role] = username
    made["admin_de"] = "admin-deutsch"
    accounts.create_user(source, "admin-deutsch", "admin", PASSWORD, "de")
    made["admin_fr"] = "admin-francais"
    accounts.create_user(source, "admin-francais", "admin", PASSWORD, "fr")
    made["admin_it"] = "admin-italiano"
    accounts.create_user(source, "admin-italiano", "admin", PASSWORD, "it")
    made["lockout"] = "lockout-user"
    accounts.create_user(source, "lockout-user", "agent", PASSWORD, "en")
    yield made
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_for(browser, suite):
    """A fresh browser context signed in as a user; console errors are collected and must stay empty.

    Confirmation dialogs are accepted; their texts are kept in ``page.dialogs``."""
    contexts, errors = [], []

    def open_as(username, password=PASSWORD, width=1280, height=900, bypass_csp=False):
        context = browser.new_context(
            viewport={"width": width, "height": height}, base_url=suite.base_url, bypass_csp=bypass_csp
        )
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))

        def answer(dialog):
            page.dialogs.append(dialog.message)
            dialog.accept()

        page.on("dialog", answer)
        page.goto("/admin/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(password)
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert errors == [], f"console errors: {errors}"


def screenshot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
