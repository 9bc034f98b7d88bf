"""Probes of tokens, roles, sign-in, the bootstrap admin and cancelling, replayed against the
suite started as `make run` starts it; each asserts the refusal and that nothing changed."""

import re

import pytest

from .conftest import PASSWORD, THROTTLE_DELAY, TOKEN, order_body, problem_text, security_suite, wait_for

SIGNED_IN = 303


def numbering_prefix(suite):
    return suite.api().get("/api/v1/settings/numbering").json()["invoice_prefix"]


def token_id(suite, username, name):
    return next(t["id"] for t in suite.user_row(username)["tokens"] if t["name"] == name)


def admin_browser(suite):
    browser = suite.browser()
    assert browser.sign_in("admin", PASSWORD).status_code == SIGNED_IN
    return browser


# ---------------------------------------------------------------- tokens and roles take effect at once


def test_a_revoked_token_fails_on_the_very_next_request(suite):
    token = suite.user("probe-revoked", "agent")
    api = suite.api(token)
    assert api.get("/api/v1/orders").status_code == 200  # the token was just used (and would be cached)
    admin = admin_browser(suite)

    revoked = admin.post(f"/admin/tokens/{token_id(suite, 'probe-revoked', 'cli')}/revoke", {}, page="/admin/users")
    assert revoked.status_code == 303

    refused = api.get("/api/v1/orders")
    assert refused.status_code == 401, refused.text
    assert api.post("/api/v1/orders", json=order_body()).status_code == 401
    assert suite.user_row("probe-revoked")["tokens"] == []


def test_a_deactivated_user_is_refused_at_once_with_token_and_session(suite):
    password = "probe-inactive-pw-1"
    token = suite.user("probe-inactive", "agent", password)
    api = suite.api(token)
    browser = suite.browser()
    assert api.get("/api/v1/orders").status_code == 200
    assert browser.sign_in("probe-inactive", password).status_code == SIGNED_IN and browser.signed_in()

    assert suite.oms("users", "deactivate", "probe-inactive").returncode == 0

    assert api.get("/api/v1/orders").status_code == 401
    assert not browser.signed_in()
    assert browser.sign_in("probe-inactive", password).status_code == 401
    assert suite.oms("users", "activate", "probe-inactive").returncode == 0
    assert api.get("/api/v1/orders").status_code == 200


def test_an_admin_demoted_to_readonly_cannot_change_the_invoice_prefix_right_after(suite):
    token = suite.user("probe-demoted", "admin")
    api = suite.api(token)
    before = numbering_prefix(suite)
    assert api.get("/api/v1/settings/numbering").status_code == 200  # used as an admin just before
    admin = admin_browser(suite)
    user_id = suite.user_row("probe-demoted")["id"]

    demoted = admin.post(f"/admin/users/{user_id}", {"role": "readonly", "active": "on"}, page="/admin/users")
    assert demoted.status_code == 303

    refused = api.put("/api/v1/settings/numbering", json={"invoice_prefix": "HACK-"})
    assert refused.status_code == 403, refused.text
    assert numbering_prefix(suite) == before
    assert api.get("/api/v1/orders").status_code == 200  # still a readonly user


# ---------------------------------------------------------------- password and role changes end sessions


def test_a_password_change_ends_the_users_web_sessions_but_not_the_acting_admins(suite):
    old, new = "probe-session-pw-1", "probe-session-pw-2"
    suite.user("probe-session", "agent", old)
    user = suite.browser()
    assert user.sign_in("probe-session", old).status_code == SIGNED_IN and user.signed_in()
    admin = admin_browser(suite)

    changed = admin.post(
        f"/admin/users/{suite.user_row('probe-session')['id']}",
        {"role": "agent", "active": "on", "password": new},
        page="/admin/users",
    )
    assert changed.status_code == 303

    assert not user.signed_in()
    assert user.get("/admin/orders").headers["Location"].startswith("/admin/login")
    assert admin.signed_in()
    assert suite.browser().sign_in("probe-session", old).status_code == 401
    assert suite.browser().sign_in("probe-session", new).status_code == SIGNED_IN


def test_a_role_change_ends_the_users_web_sessions(suite):
    password = "probe-role-pw-1"
    suite.user("probe-role", "accountant", password)
    user = suite.browser()
    assert user.sign_in("probe-role", password).status_code == SIGNED_IN and user.signed_in()
    admin = admin_browser(suite)
    unchanged = admin.post(
        f"/admin/users/{suite.user_row('probe-role')['id']}",
        {"role": "accountant", "active": "on"},
        page="/admin/users",
    )
    assert unchanged.status_code == 303 and user.signed_in()  # saving without a change keeps the session

    changed = admin.post(
        f"/admin/users/{suite.user_row('probe-role')['id']}", {"role": "readonly", "active": "on"}, page="/admin/users"
    )

    assert changed.status_code == 303
    assert not user.signed_in()
    assert suite.user_row("probe-role")["role"] == "readonly"


# ---------------------------------------------------------------- sign-in throttling, one message


def test_five_wrong_admin_passwords_do_not_lock_the_admin_out_from_another_address(suite):
    attacker, elsewhere = suite.browser("127.0.0.2"), suite.browser("127.0.0.3")
    answers = [attacker.sign_in("admin", f"wrong-password-{i}") for i in range(5)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert len({problem_text(a.text) for a in answers}) == 1
    assert all("Retry-After" not in a.headers for a in answers[:3])
    assert all(0 < int(a.headers["Retry-After"]) <= THROTTLE_DELAY for a in answers[3:])

    assert elsewhere.sign_in("admin", PASSWORD).status_code == SIGNED_IN and elsewhere.signed_in()
    assert suite.api().get("/api/v1/orders").status_code == 200  # the admin's token is not affected either
    # the attacker's address stays slowed down, even with the right password
    throttled = attacker.sign_in("admin", PASSWORD)
    assert throttled.status_code == 429 and not attacker.signed_in()
    assert problem_text(throttled.text) == problem_text(answers[0].text)


def test_oms_users_unlock_lets_a_throttled_admin_in_again(suite):
    browser = suite.browser("127.0.0.4")
    for i in range(3):
        browser.sign_in("admin", f"wrong-{i}")
    assert browser.sign_in("admin", PASSWORD).status_code == 429
    listed = suite.oms_json("users", "throttled")["items"]
    assert any(item["address"] == "127.0.0.4" and item["username"] == "admin" for item in listed)

    unlocked = suite.oms("users", "unlock", "admin")

    assert unlocked.returncode == 0, unlocked.stderr
    assert browser.sign_in("admin", PASSWORD).status_code == SIGNED_IN and browser.signed_in()
    assert suite.oms("users", "unlock", "no-such-user").returncode == 1


def test_every_failed_sign_in_looks_the_same_whether_or_not_the_user_exists(suite):
    suite.user("probe-exists", "agent", "probe-exists-pw-1")
    suite.user("probe-off", "agent", "probe-off-pw-1")
    assert suite.oms("users", "deactivate", "probe-off").returncode == 0
    suite.user("probe-tokenonly", "agent")  # no password at all
    cases = {
        "wrong password": ("probe-exists", "not-the-password"),
        "unknown user": ("probe-nobody", "whatever-1"),
        "inactive user": ("probe-off", "probe-off-pw-1"),
        "no password": ("probe-tokenonly", "whatever-1"),
    }
    answers = {case: suite.browser(f"127.0.1.{i}").sign_in(*given) for i, (case, given) in enumerate(cases.items())}

    assert {case: a.status_code for case, a in answers.items()} == dict.fromkeys(cases, 401)
    assert len({problem_text(a.text) for a in answers.values()}) == 1
    assert all("Retry-After" not in a.headers and "oms_session" not in a.cookies for a in answers.values())
    # throttled: an unknown user and a real one get the same 429 and message, only Retry-After
    throttled = {}
    for i, username in enumerate(("probe-exists", "probe-nobody")):
        browser = suite.browser(f"127.0.2.{i}")
        for attempt in range(3):
            browser.sign_in(username, f"wrong-{attempt}")
        throttled[username] = browser.sign_in(username, "wrong-again")
    assert {a.status_code for a in throttled.values()} == {429}
    assert {problem_text(a.text) for a in throttled.values()} == {problem_text(answers["unknown user"].text)}
    assert all(int(a.headers["Retry-After"]) > 0 for a in throttled.values())


def test_many_user_names_from_one_address_slow_down_that_address_only(suite):
    spray = suite.browser("127.0.0.9")
    answers = [spray.sign_in(f"guess-{i}", "password123") for i in range(10)]
    assert [a.status_code for a in answers] == [401] * 10
    assert spray.sign_in("admin", PASSWORD).status_code == 429  # the address is slowed down, for every name
    assert suite.browser("127.0.0.10").sign_in("admin", PASSWORD).status_code == SIGNED_IN

    assert suite.oms("users", "unlock", "admin", "--address", "127.0.0.9").returncode == 0
    assert spray.sign_in("admin", PASSWORD).status_code == SIGNED_IN


# ---------------------------------------------------------------- cancelling captured money needs refunds


def paid_card_order(suite):
    api = suite.api()
    created = api.post("/api/v1/orders", json=order_body("card", "card-probe@example.com"))
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    payment = wait_for(
        lambda: (p := api.get(f"/api/v1/orders/{reference}/payment").json()).get("psp_reference") and p,
        timeout=20,
        message="the PaymentIntent",
    )
    assert suite.psp.deliver_stripe(suite.psp.succeed_intent(payment["psp_reference"])) == [200]
    wait_for(
        lambda: api.get(f"/api/v1/orders/{reference}").json()["payment_status"] == "paid",
        timeout=20,
        message="the payment captured",
    )
    return api.get(f"/api/v1/orders/{reference}").json()


def state(suite, reference):
    api = suite.api()
    order = api.get(f"/api/v1/orders/{reference}").json()
    payment = api.get(f"/api/v1/orders/{reference}/payment").json()
    history = api.get(f"/api/v1/orders/{reference}/history").json()["items"]
    return {
        "status": order["status"],
        "version": order["version"],
        "payment": payment["status"],
        "refunded": payment["refunded_amount"],
        "history": len(history),
    }


def refund_calls(suite):
    return [call for call in suite.psp.calls if call[1].startswith("/v1/refunds")]


def test_an_agent_cannot_cancel_an_order_whose_money_was_captured(suite):
    agent = suite.api(suite.user("probe-agent-cancel", "agent"))
    paid = paid_card_order(suite)
    reference = paid["reference"]
    unpaid = suite.api().post("/api/v1/orders", json=order_body("invoice", "unpaid-probe@example.com")).json()
    before, unpaid_before = state(suite, reference), state(suite, unpaid["reference"])
    refunds_before = refund_calls(suite)

    cancel = agent.post(f"/api/v1/orders/{reference}/cancel", json={"reason": "probe"})
    status = agent.post(f"/api/v1/orders/{reference}/status", json={"status": "cancelled"})
    bulk = agent.post(
        "/api/v1/orders/bulk/status", json={"references": [unpaid["reference"], reference], "status": "cancelled"}
    )

    for answer in (cancel, status, bulk):
        assert answer.status_code == 403, answer.text
        problem = answer.json()
        assert "refund" in problem["detail"] and reference in problem["detail"]
        assert reference in problem["errors"]
    assert reference in bulk.json()["detail"] and unpaid["reference"] not in bulk.json()["errors"]
    assert state(suite, reference) == before
    assert state(suite, unpaid["reference"]) == unpaid_before  # the bulk change was not half applied
    assert refund_calls(suite) == refunds_before
    # what the agent may still do: cancel an order with nothing captured; other status changes
    assert agent.post(f"/api/v1/orders/{unpaid['reference']}/cancel", json={}).status_code == 200
    assert agent.post(f"/api/v1/orders/{reference}/status", json={"status": "in_progress"}).status_code == 200


def test_an_admin_may_cancel_a_captured_order_and_payments_refunds_it(suite):
    paid = paid_card_order(suite)
    refunds_before = len(refund_calls(suite))

    cancelled = suite.api().post(f"/api/v1/orders/{paid['reference']}/cancel", json={"reason": "customer asked"})

    assert cancelled.status_code == 200, cancelled.text
    wait_for(lambda: len(refund_calls(suite)) == refunds_before + 1, timeout=20, message="the refund at the PSP")


def test_the_ui_offers_an_agent_cancel_only_when_nothing_was_captured_and_refuses_the_post(suite):
    password = "probe-agent-ui-1"
    suite.user("probe-agent-ui", "agent", password)
    agent = suite.browser("127.0.3.1")
    assert agent.sign_in("probe-agent-ui", password).status_code == SIGNED_IN
    paid = paid_card_order(suite)
    unpaid = suite.api().post("/api/v1/orders", json=order_body("invoice", "unpaid-ui@example.com")).json()

    paid_page = agent.get(f"/admin/orders/{paid['reference']}").text
    unpaid_page = agent.get(f"/admin/orders/{unpaid['reference']}").text
    assert 'id="action-cancel"' not in paid_page and 'value="cancelled"' not in paid_page
    assert 'id="cancel-needs-refund"' in paid_page
    assert 'id="action-cancel"' in unpaid_page and 'id="cancel-needs-refund"' not in unpaid_page
    admin_page = admin_browser(suite).get(f"/admin/orders/{paid['reference']}").text
    assert 'id="action-cancel"' in admin_page

    before = state(suite, paid["reference"])
    forged = agent.post(
        f"/admin/orders/{paid['reference']}/cancel",
        {"version": str(paid["version"])},
        page=f"/admin/orders/{paid['reference']}",
    )
    forged_status = agent.post(
        f"/admin/orders/{paid['reference']}/status",
        {"status": "cancelled", "version": str(paid["version"])},
        page=f"/admin/orders/{paid['reference']}",
    )
    forged_bulk = agent.post("/admin/orders/bulk", {"references": paid["reference"], "status": "cancelled"})
    for answer in (forged, forged_status, forged_bulk):
        assert answer.status_code == 403
        assert "refund" in problem_text(answer.text)
    assert state(suite, paid["reference"]) == before


# ---------------------------------------------------------------- the bootstrap admin survives a restart as changed


# its own budget: two suite starts (up to 120 s each) and a stop, each bounded itself; the
# run-wide 300 s would end the whole pytest process first on a loaded machine
@pytest.mark.timeout(900)
def test_a_restart_keeps_what_was_changed_about_the_bootstrap_admin_and_the_cli_recovers_access(tmp_path_factory):
    # a suite of its own: this test revokes the bootstrap token the other tests use
    with security_suite(tmp_path_factory.mktemp("restart")) as suite:
        _restart_keeps_the_changed_bootstrap_admin(suite)


def _restart_keeps_the_changed_bootstrap_admin(suite):
    new_password = "changed-admin-password-2"
    recovered = suite.oms_json("token", "create", "admin", "--name", "before-restart")["token"]
    admin = admin_browser(suite)
    revoked = admin.post(f"/admin/tokens/{token_id(suite, 'admin', 'bootstrap')}/revoke", {}, page="/admin/users")
    assert revoked.status_code == 303
    assert suite.api(TOKEN).get("/api/v1/orders").status_code == 401
    changed = admin.post(
        f"/admin/users/{suite.user_row('admin')['id']}",
        {"role": "admin", "active": "on", "password": new_password},
        page="/admin/users",
    )
    assert changed.status_code == 303
    assert suite.oms("users", "role", "admin", "agent").returncode == 0  # demoted by an operator

    suite.stop()
    suite.start()

    assert suite.api(TOKEN).get("/api/v1/orders").status_code == 401  # the revoked token stays revoked
    assert suite.browser("127.0.4.1").sign_in("admin", PASSWORD).status_code == 401  # the old password stays gone
    assert suite.user_row("admin")["role"] == "agent"  # the demotion stays
    own = suite.api(recovered)
    assert own.put("/api/v1/settings/numbering", json={"invoice_prefix": "NOPE-"}).status_code == 403

    # recovering access, as the README says
    assert suite.oms("users", "role", "admin", "admin").returncode == 0
    assert suite.oms("users", "password", "admin", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    assert suite.oms("users", "unlock", "admin").returncode == 0
    token = suite.oms_json("token", "create", "admin", "--name", "recovered")["token"]
    assert suite.api(token).get("/api/v1/settings/numbering").status_code == 200
    assert suite.browser("127.0.4.2").sign_in("admin", PASSWORD).status_code == SIGNED_IN
    assert re.fullmatch(r"oms_[\w-]+", token)
