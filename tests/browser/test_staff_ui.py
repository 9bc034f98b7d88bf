"""The staff UI as a team lives in it: safe explicit actions, four languages, phones, keyboard, axe."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import screenshot
from tests.support.smtp import wait_for

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# English words that must not be left on any page in another language (whole words, any case)
ENGLISH_WORDS = (
    "orders",
    "order",
    "customers",
    "customer",
    "payment",
    "settings",
    "users",
    "sign out",
    "search",
    "shipped",
    "unpaid",
    "invoice",
    "reference",
    "mark",
    "cancel",
    "change",
    "reason",
    "history",
    "shipping",
    "billing",
    "address",
    "quantity",
    "subtotal",
    "select",
    "apply",
    "next",
    "previous",
    "first",
    "last",
    "dunning",
    "manual",
    "order_confirmation",
    "shipping_confirmation",
    "dunning_1",
    "payment_pending",
    "in_progress",
    "are you sure",
    "done",
    "version",
    "revenue",
    "language",
    "password",
    "role",
    "create",
    "save",
    "delete",
    "run now",
    "yes",
    "kind",
    "rows",
    "job",
    "started",
    "finished",
    "incremental",
    "target",
    "refund",
    "card",
    "prepayment",
    "pending",
    "paid",
    "new",
    "open",
    "level",
    "from",
    "to",
    "times in",
    "readonly",
    "accountant",
    "agent",
    "reminder",
    "recipient",
    "subject",
    "sent",
    "queued",
    "status changed",
    "created",
    "submitted",
    "when",
    "amount",
    "provider",
    "method",
    "lines",
    "line total",
    "unit price",
    "report",
    "show",
    "totals",
    "numbering",
    "active",
    "revoke",
    "scheduled",
    "runs",
)
ENGLISH_PATTERN = re.compile(
    r"(?<![\w@.-])(" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")(?![\w@-])", re.IGNORECASE
)
USER_OF = {"de": "admin_de", "fr": "admin_fr", "it": "admin_it", "en": "admin"}


# what staff and other tests wrote (notes, names of shared views, customers) is the shop's data
SHOP_DATA = "td.note, td.customer, .note-body, .note-meta strong, #view-tabs li[data-view-id] a, .who strong"


def english_left(page):
    # addresses, user names and order data are the shop's, not the UI's: only the UI's words count
    page.evaluate(
        "document.querySelectorAll(SHOP_DATA).forEach(e => e.textContent = '')".replace("SHOP_DATA", repr(SHOP_DATA))
    )
    text = page.locator("body").inner_text()
    text = re.sub(r"\S+@\S+", " ", text)
    return sorted({word.lower() for word in ENGLISH_PATTERN.findall(text)})


def day(offset=0):
    return datetime.now(ZoneInfo("Europe/Zurich")).date() + timedelta(days=offset)  # the shop's today


def fits(page):
    """No sideways scrolling; else the elements sticking out (outside their own scroll boxes)."""
    return page.evaluate("""() => document.scrollingElement.scrollWidth <= window.innerWidth ? [] :
        [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth
            && !e.closest('.table-wrap')).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id)""")


@pytest.fixture
def shop_data(api):
    """An order that was shipped, reminded (dunning level 1) and mailed, and a fresh one."""
    order = api.create_order(payment_method="invoice")
    reference = order["reference"]
    assert (
        api.http.post(api.base + f"/api/v1/orders/{reference}/ship", json={"notify": True}, timeout=30).status_code
        == 200
    )
    dunning = api.http.post(
        api.base + f"/api/v1/orders/{reference}/dunning", json={"level": 1, "notify": True}, timeout=30
    )
    assert dunning.status_code in (200, 202), dunning.text
    wait_for(lambda: api.order(reference)["status"] == "dunning_1", timeout=30, message="dunning level 1")
    return {"order": api.order(reference), "fresh": api.create_order()}


def main_pages(shop_data):
    order = shop_data["order"]
    return (
        ("/admin/orders", "orders"),
        (f"/admin/orders/{order['reference']}", "order-detail"),
        ("/admin/customers", "customers"),
        (f"/admin/customers/{order['customer']['id']}", "customer"),
        ("/admin/reports/article-orders?article=ART-00471&from={}&to={}", "article-report"),
        ("/admin/exports", "exports"),
        ("/admin/settings/numbering", "numbering"),
        ("/admin/users", "users"),
    )


def report_path(path, language):
    # the report's dates are typed in the locale's order
    separator = "/" if language == "it" else "."
    typed = [d.strftime(f"%d{separator}%m{separator}%Y") for d in (day(-1), day(1))]
    return path.format(*typed)


# ---------------------------------------------------------------- safe, explicit actions


def test_nothing_that_changes_data_is_preselected_and_confirmations_name_order_and_recipient(page_for, users, api):
    order = api.create_order()
    reference, email = order["reference"], order["customer"]["email"]
    page = page_for(users["admin"])
    page.goto(f"/admin/orders/{reference}")
    assert page.locator("#status-target").input_value() == ""
    assert "Version" not in page.locator(".facts").first.inner_text()
    assert page.locator("#action-status input[name=version]").count() == 1  # still sent, for concurrency
    page.goto("/admin/orders")
    assert page.locator("#bulk-status").input_value() == ""
    page.goto("/admin/users")
    assert page.locator("#new-role").input_value() == "readonly"

    # a status change with nothing chosen goes nowhere
    page.goto(f"/admin/orders/{reference}")
    page.locator("#action-status button[type=submit]").click()
    assert page.dialogs == [] and api.order(reference)["status"] == "new"

    cancel = page.locator("#action-cancel")
    cancel.get_by_label("Notify the customer").check()
    cancel.get_by_role("button", name="Cancel order").click()
    page.wait_for_url(re.compile(r".*done=cancel"))
    assert page.dialogs == [f"Cancel order {reference} and e-mail {email}?"]
    assert page.locator(".done").inner_text() == f"Order {reference} cancelled; cancellation e-mail queued to {email}."
    assert api.order(reference)["status"] == "cancelled"

    other = api.create_order()
    page.goto(f"/admin/orders/{other['reference']}")
    page.locator("#status-target").select_option("in_progress")
    page.locator("#action-status button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=status"))
    assert page.dialogs[-1] == f"Set order {other['reference']} to “in progress”?"
    assert page.locator(".done").inner_text() == f"Order {other['reference']} is now “in progress”."
    screenshot(page, "order-status-changed-en")


def test_a_dismissed_confirmation_changes_nothing(browser, suite, users, api):
    from tests.browser.conftest import PASSWORD

    order = api.create_order()
    context = browser.new_context(base_url=suite.base_url)
    page = context.new_page()
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.goto("/admin/login")
    page.locator("#username").fill(users["admin_fr"])
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/orders")
    page.goto(f"/admin/orders/{order['reference']}")
    page.locator("#action-ship").get_by_role("button").click()
    assert asked == [
        f"Marquer la commande {order['reference']} comme expédiée et écrire à {order['customer']['email']} ?"
    ]
    assert page.url.endswith(f"/admin/orders/{order['reference']}")
    assert api.order(order["reference"])["status"] == "new"
    context.close()


def test_creating_a_user_says_what_was_made(page_for, users):
    page = page_for(users["admin_it"])
    page.goto("/admin/users")
    page.locator("#new-username").fill("lettore-nuovo")
    page.locator("#new-password").fill("una-parola-lunga")
    page.get_by_role("button", name="Crea utente").click()
    assert page.locator(".done").inner_text() == "Utente lettore-nuovo creato con il ruolo «sola lettura»."


# ---------------------------------------------------------------- four languages


@pytest.mark.parametrize("language", ["fr", "it", "de"])
def test_every_main_page_speaks_the_staff_language(page_for, users, shop_data, language):
    page = page_for(users[USER_OF[language]])
    order = shop_data["order"]
    for path, name in main_pages(shop_data):
        response = page.goto(report_path(path, language))
        assert response.status == 200, path
        assert page.locator("html").get_attribute("lang") == language
        assert english_left(page) == [], (path, english_left(page))
        body = page.locator("body").inner_text()
        assert "Europe/Zurich" in body
        assert not re.search(r"\b\d{2}[./]\d{2}[./]\d{2}\b(?![./\d])", body), path  # no two-digit years
        screenshot(page, f"{name}-{language}")
    page.goto(f"/admin/orders/{order['reference']}")
    history = page.locator("#history").inner_text()
    assert {"de": "Mahnstufe 1.", "fr": "Rappel de niveau 1.", "it": "Sollecito di livello 1."}[language] in history
    shown_date = page.locator(".facts dd").nth(1).inner_text()
    assert re.fullmatch(r"\d{2}[./]\d{2}[./]\d{4} \d{2}:\d{2}", shown_date), shown_date
    total = page.locator("#order-total").inner_text()
    assert total == {"de": "CHF\u00a048.90", "fr": "48,90\u00a0CHF", "it": "CHF\u00a048.90"}[language]
    page.goto(report_path("/admin/reports/article-orders?article=ART-00471&from={}&to={}", language))
    assert (
        page.locator("#from").get_attribute("placeholder")
        == {"de": "TT.MM.JJJJ", "fr": "JJ.MM.AAAA", "it": "GG/MM/AAAA"}[language]
    )
    assert page.locator(f"a:text-is('{order['reference']}')").count() == 1


def test_a_date_typed_the_wrong_way_round_is_refused_naming_the_field(page_for, users):
    page = page_for(users["admin_de"])
    # fetched, not shown: the browser would log the 422 as a console error
    response = page.request.get("/admin/reports/article-orders?article=ART&from=12/31/2026&to=31.12.2026")
    assert response.status == 422
    assert "<code>from</code>: Datum als TT.MM.JJJJ eingeben." in response.text()
    response = page.request.get("/admin/orders?created_from=2026-31-12")
    assert response.status == 200 and "<code>created_from</code>: Datum als TT.MM.JJJJ eingeben." in response.text()


def test_the_list_filters_by_the_shop_s_days_typed_in_the_locale(page_for, users, api):
    order = api.create_order()
    page = page_for(users["admin_it"])
    page.goto("/admin/orders")
    page.locator("#created_from").fill(day().strftime("%d/%m/%Y"))
    page.locator("#created_to").fill(day().strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Filtra").click()
    assert page.locator(f"table.orders a:text-is('{order['reference']}')").count() == 1
    page.locator("#created_from").fill(day(1).strftime("%d/%m/%Y"))
    page.locator("#created_to").fill(day(1).strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Filtra").click()
    assert page.locator(f"table.orders a:text-is('{order['reference']}')").count() == 0


# ---------------------------------------------------------------- phones


def test_at_390_px_the_list_is_cards_and_nothing_scrolls_sideways(page_for, users, shop_data):
    order = shop_data["fresh"]
    page = page_for(users["admin_fr"], width=390, height=844)
    page.goto("/admin/orders")
    card = page.locator("table.orders tbody tr").filter(has=page.locator(f"a:text-is('{order['reference']}')"))
    for part in ("td.ref", "td.customer", "td.status", "td.payment", "td.total"):
        cell = card.locator(part)
        assert cell.is_visible(), part
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (part, box)
    assert card.locator("td.total").inner_text() == "48,90\u00a0CHF"
    assert fits(page) == []
    page.goto(f"/admin/orders/{order['reference']}")
    assert fits(page) == []
    ship = page.locator("#action-ship button[type=submit]")
    ship.scroll_into_view_if_needed()
    box = ship.bounding_box()
    assert ship.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= 390


# ---------------------------------------------------------------- keyboard and accessibility


def test_slash_searches_arrows_move_and_enter_opens(page_for, users, api):
    for _ in range(2):
        api.create_order()
    page = page_for(users["admin"])
    page.goto("/admin/orders")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.press("Escape")
    page.locator("h1").click()
    links = page.locator("table.orders a[data-row-link]")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == links.nth(0).inner_text()
    page.keyboard.press("ArrowDown")
    second = links.nth(1).inner_text()
    assert page.evaluate("document.activeElement.textContent") == second
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/orders/{second}")


def axe_violations(page):
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`)""")
    return result


@pytest.mark.parametrize("language", ["en", "fr"])
def test_axe_finds_no_serious_violation_on_any_main_page(page_for, users, shop_data, language):
    page = page_for(users[USER_OF[language]], bypass_csp=True)  # only so that axe can be injected
    for path, _ in main_pages(shop_data):
        page.goto(report_path(path, language))
        assert axe_violations(page) == [], path
    page.set_viewport_size({"width": 390, "height": 844})
    for path, _ in main_pages(shop_data)[:2]:
        page.goto(report_path(path, language))
        assert axe_violations(page) == [], path


# ---------------------------------------------------------------- customer picker


def test_reassign_by_typing_a_name_shows_both_order_counts(page_for, users, api):
    suffix = api.create_order()["reference"]
    target_mail = f"tanja-{suffix}@example.com"
    tanja = {"email": target_mail, "first_name": "Tanja", "last_name": f"Zbinden{suffix}", "language": "de"}
    target = api.create_order(customer=tanja)["customer"]
    assert api.create_order(customer=tanja)["customer"]["id"] == target["id"]  # the same customer, by e-mail
    order = api.create_order()
    page = page_for(users["admin"])
    page.goto(f"/admin/orders/{order['reference']}")
    picker = page.locator("#customer_id")
    picker.fill(f"Zbinden{suffix}")
    choice = page.locator("#customer-picks button").first
    choice.wait_for()
    assert "2 orders" in choice.inner_text() and target_mail in choice.inner_text()
    choice.click()
    assert picker.input_value() == f"C{target['id']:06d}"
    page.locator("#action-customer button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=customer"))
    assert page.dialogs == [
        f"Move order {order['reference']} from Maria Müller (1 orders) to the chosen customer? "
        f"→ Tanja Zbinden{suffix} (C{target['id']:06d}, 2 orders)"
    ]
    assert (
        page.locator(".done").inner_text()
        == f"Order {order['reference']} now belongs to Tanja Zbinden{suffix} (C{target['id']:06d})."
    )
    assert api.order(order["reference"])["customer"]["id"] == target["id"]
    screenshot(page, "order-reassigned-en")


def test_merge_by_picking_a_customer_by_e_mail(page_for, users, api):
    duplicate = api.create_order()["customer"]
    kept_mail = f"kept-{duplicate['id']}@example.com"
    kept = api.create_order(customer={"email": kept_mail, "first_name": "Lea", "last_name": "Graf", "language": "fr"})[
        "customer"
    ]
    page = page_for(users["admin_fr"])
    page.goto(f"/admin/customers/{duplicate['id']}")
    page.locator("#into").fill(kept_mail)
    choice = page.locator("#merge-picks button").first
    choice.wait_for()
    assert "1 commandes" in choice.inner_text()
    choice.click()
    page.locator("#merge-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/admin/customers/{kept['id']}\?merged=C\d+$"))
    assert page.dialogs == [
        f"Fusionner Maria Müller C{duplicate['id']:06d} (1 commandes) avec le client choisi ? "
        f"→ Lea Graf (C{kept['id']:06d}, 1 commandes)"
    ]
    assert page.locator(".done").inner_text() == f"Client C{duplicate['id']:06d} fusionné dans C{kept['id']:06d}."
    assert page.locator("#order-count").inner_text() == "2"


# ---------------------------------------------------------------- screenshots


def test_every_main_page_at_1440_and_390_px(page_for, users, shop_data):
    for width, height in ((1440, 1000), (390, 844)):
        page = page_for(users["admin_de"], width=width, height=height)
        for path, name in main_pages(shop_data):
            response = page.goto(report_path(path, "de"))
            assert response.status == 200, path
            assert fits(page) == [], (path, width)
            screenshot(page, f"{name}-{width}")
