"""What shop staff do all day, in a real browser against the running suite."""

import re

import pytest

from tests.browser.conftest import PASSWORD, screenshot
from tests.support.smtp import wait_for

SHIP_SUBJECT = {"en": "Your order {} has been shipped", "de": "Ihre Bestellung {} wurde versandt"}
LABELS = {
    "en": {
        "search": "Reference or invoice number",
        "filter": "Filter",
        "ship": "Mark shipped",
        "done": "Order {} shipped; shipping e-mail queued to {}.",
        "confirm": "Mark order {} shipped and e-mail {}?",
        "shipped": "shipped",
        "notify": "Notify the customer",
        "tracking": "Tracking number",
        "sent": "sent",
        "status_changed": "status changed",
        "shipping_mail": "shipping confirmation",
    },
    "de": {
        "search": "Referenz- oder Rechnungsnummer",
        "filter": "Filtern",
        "ship": "Als versendet markieren",
        "done": "Bestellung {} versendet; Versand-E-Mail an {} eingereiht.",
        "confirm": "Bestellung {} als versendet markieren und {} benachrichtigen?",
        "shipped": "versendet",
        "notify": "Kunden benachrichtigen",
        "tracking": "Sendungsnummer",
        "sent": "gesendet",
        "status_changed": "Status geändert",
        "shipping_mail": "Versandbestätigung",
    },
}


@pytest.mark.parametrize("language, user_key", [("en", "admin"), ("de", "admin_de")])
def test_find_by_invoice_number_ship_with_notify_and_see_mail_and_history(
    page_for, users, api, smtp, language, user_key
):
    customer = {
        "email": f"ship-{language}-{api.create_order()['reference']}@example.com",
        "first_name": "Jo",
        "last_name": "Keller",
        "language": language,
    }
    order = api.create_order(customer=customer)
    reference, invoice_number = order["reference"], order["invoice_number"]
    labels = LABELS[language]

    page = page_for(users[user_key])
    page.wait_for_url("**/admin/orders")
    page.locator("#filter-status summary").click()
    page.locator("#filter-status input[value=new]").check()
    page.get_by_role("button", name=labels["filter"]).click()
    assert page.locator(f"table.orders a:text-is('{reference}')").count() == 1
    screenshot(page, f"orders-filtered-{language}")

    page.locator("#search").fill(invoice_number)
    page.get_by_role("button", name=labels["filter"]).click()
    rows = page.locator("table.orders tbody tr")
    # a short invoice number (10) also matches references containing it (100010): the order is
    # among the results, and every result carries the number
    assert page.locator(f"table.orders a:text-is('{reference}')").count() == 1
    assert all(invoice_number in row.inner_text() for row in rows.all())
    page.get_by_role("link", name=reference, exact=True).click()
    page.wait_for_url(f"**/admin/orders/{reference}")

    ship = page.locator("#action-ship")
    assert ship.get_by_label(labels["notify"]).is_checked()
    ship.get_by_label(labels["tracking"]).fill("TRACK-42")
    ship.get_by_role("button", name=labels["ship"]).click()
    page.wait_for_url(re.compile(r".*done=ship"))
    assert page.locator(".done").inner_text() == labels["done"].format(reference, customer["email"])
    assert page.dialogs == [labels["confirm"].format(reference, customer["email"])]
    assert page.locator("#order-status").inner_text() == labels["shipped"]

    subject = SHIP_SUBJECT[language].format(reference)
    mails = wait_for(
        lambda: [
            m
            for m, envelope in smtp.messages()
            if customer["email"] in envelope["rcpt_tos"] and m["Subject"] == subject
        ],
        timeout=30,
        message="the shipping mail",
    )
    assert len(mails) == 1

    def mail_logged_as_sent():
        page.reload()
        mails_table = page.locator("#mails").inner_text()
        return labels["shipping_mail"] in mails_table and labels["sent"] in mails_table

    wait_for(mail_logged_as_sent, timeout=30, interval=0.5, message="the mail in the order's log")
    history = page.locator("#history").inner_text()
    assert users[user_key] in history and labels["status_changed"] in history and labels["shipping_mail"] in history
    screenshot(page, f"order-detail-shipped-{language}")
    assert (
        len(
            [
                m
                for m, envelope in smtp.messages()
                if customer["email"] in envelope["rcpt_tos"] and m["Subject"] == subject
            ]
        )
        == 1
    )


def test_bulk_status_change_reports_the_illegal_transition(page_for, users, api):
    references = [api.create_order()["reference"] for _ in range(3)]
    api.http.post(api.base + f"/api/v1/orders/{references[1]}/cancel", json={"reason": "test"}, timeout=30)
    page = page_for(users["agent"])
    for reference in references:
        page.get_by_label(f"Select {reference}").check()
    page.get_by_label("New status").select_option("in_progress")
    page.get_by_role("button", name="Apply").click()
    results = page.locator(".bulk-results")
    results.wait_for()
    assert "2 changed, 1 refused" in results.locator("h2").inner_text()
    assert "cancelled" in results.locator(f"li[data-reference='{references[1]}']").inner_text()
    assert [api.order(r)["status"] for r in references] == ["in_progress", "cancelled", "in_progress"]
    screenshot(page, "bulk-status-result")


def test_agent_sees_no_refund_and_a_forged_refund_post_is_refused(page_for, users, api):
    order = api.create_order(payment_method="card")
    reference = order["reference"]
    page = page_for(users["agent"])
    page.goto(f"/admin/orders/{reference}")
    assert page.locator("#action-refund").count() == 0
    assert page.locator("#action-payment-status").count() == 0
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    before = api.order(reference)
    forged = page.request.post(
        f"/admin/orders/{reference}/refund", form={"csrf_token": csrf, "amount": "10.00", "reason": "forged"}
    )
    assert forged.status == 403
    after = api.order(reference)
    assert (after["version"], after["payment_status"]) == (before["version"], before["payment_status"])


def test_an_accountant_is_offered_the_payment_operations(page_for, users, api):
    order = api.create_order()
    page = page_for(users["accountant"])
    page.goto(f"/admin/orders/{order['reference']}")
    assert page.locator("#action-payment-status").count() == 1
    assert page.locator("#action-ship").count() == 0
    screenshot(page, "order-detail-accountant")


def test_a_post_without_csrf_token_is_refused(page_for, users, api):
    order = api.create_order()
    page = page_for(users["admin"])
    response = page.request.post(f"/admin/orders/{order['reference']}/ship", form={"notify": "on"})
    assert response.status == 403
    assert api.order(order["reference"])["status"] == "new"


def test_sign_in_by_keyboard_and_sign_out(browser, suite, users):
    context = browser.new_context(base_url=suite.base_url)
    page = context.new_page()
    page.goto("/admin/orders")
    page.wait_for_url("**/admin/login**")
    page.keyboard.press("Tab")  # skip link
    page.locator("#username").focus()
    page.keyboard.type(users["readonly"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/orders")
    assert page.locator("#bulk-status").count() == 0  # a readonly user is offered no bulk change
    cookie = [c for c in context.cookies() if c["name"] == "oms_session"][0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/admin/login")
    page.goto("/admin/orders")
    page.wait_for_url("**/admin/login**")
    context.close()


def test_repeated_failed_sign_ins_slow_down_that_browser_with_one_message(browser, suite, users):
    context = browser.new_context(base_url=suite.base_url)
    page = context.new_page()
    messages = []
    for _ in range(5):
        page.goto("/admin/login")
        page.locator("#username").fill(users["lockout"])
        page.locator("#password").fill("wrong-password")
        page.locator("button[type=submit]").click()
        messages.append(page.locator(".problem").inner_text())
    assert set(messages) == {
        "The sign-in failed: unknown user, wrong password, or too many attempts; try again in a moment."
    }
    page.goto("/admin/login")
    page.locator("#username").fill(users["lockout"])
    page.locator("#password").fill(PASSWORD)
    with page.expect_response("**/admin/login") as answer:
        page.locator("button[type=submit]").click()
    assert answer.value.status == 429 and int(answer.value.headers["retry-after"]) > 0
    assert page.locator(".problem").inner_text() == messages[0]  # even the right password waits here
    context.close()


def test_main_pages_render_and_are_saved_as_screenshots(page_for, users, api):
    order = api.create_order()
    page = page_for(users["admin"])
    for path, name in (
        ("/admin/orders", "orders"),
        (f"/admin/orders/{order['reference']}", "order-detail"),
        ("/admin/customers", "customers"),
        (f"/admin/customers/{order['customer']['id']}", "customer"),
        ("/admin/reports/article-orders", "article-report"),
        ("/admin/exports", "exports"),
        ("/admin/settings/numbering", "numbering"),
        ("/admin/users", "users"),
    ):
        response = page.goto(path)
        assert response.status == 200, path
        screenshot(page, name)
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto("/admin/orders")
    screenshot(page, "orders-tablet")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
