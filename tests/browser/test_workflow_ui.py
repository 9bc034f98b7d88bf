"""The order grid and detail staff work in all day: internal notes, filter chips, sorting,
columns, saved views and the export of what is listed — in Chromium, in more than one language."""

import re
import secrets

import pytest

from tests.browser.conftest import PASSWORD, screenshot

USER_OF = {"de": "admin_de", "fr": "admin_fr", "it": "admin_it", "en": "admin"}


def _row(page, reference):
    return page.locator("table.orders tbody tr", has=page.locator(f"a:text-is('{reference}')"))


# ---------------------------------------------------------------- internal notes


def test_an_agent_adds_and_edits_a_note_and_the_list_shows_its_first_line(page_for, users, api):
    order = api.create_order()
    reference = order["reference"]
    page = page_for(users["agent"])
    page.goto(f"/admin/orders/{reference}")
    page.locator("#note-body").fill("Customer asks to ring twice\nParcel to the back door")
    page.locator("#note-add button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=note"))
    assert page.locator(".done").inner_text() == f"Note added to order {reference}."
    note = page.locator("#note-list li").first
    assert "agent-browser" in note.locator(".note-meta").inner_text()
    assert note.locator(".note-body").inner_text() == "Customer asks to ring twice\nParcel to the back door"
    note.locator("summary").click()
    note.locator("textarea").fill("Customer asks to ring three times")
    note.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=note-edited"))
    assert page.locator(".done").inner_text() == f"Note on order {reference} saved."
    assert "edited" in page.locator("#note-list li .note-meta").first.inner_text()
    assert "note" in page.locator("#history").inner_text()
    notes = api.http.get(api.base + f"/api/v1/orders/{reference}/notes", timeout=30).json()["items"]
    assert [n["body"] for n in notes] == ["Customer asks to ring three times"]
    page.goto("/admin/orders?page_size=200")
    assert _row(page, reference).locator("td.note").inner_text() == "Customer asks to ring three times"
    screenshot(page, "orders-with-notes-en")


def test_in_german_someone_else_s_note_is_shown_but_not_offered_for_editing(page_for, users, api):
    reference = api.create_order()["reference"]
    written = api.http.post(
        api.base + f"/api/v1/orders/{reference}/notes", json={"body": "Von der API notiert"}, timeout=30
    )
    assert written.status_code == 201, written.text
    page = page_for(users["admin_de"])
    page.goto(f"/admin/orders/{reference}")
    assert page.locator("#notes h2").inner_text() == "Interne Notizen"
    assert page.locator("#note-list li .note-body").inner_text() == "Von der API notiert"
    assert page.locator("#note-list details.note-edit").count() == 0  # the API's admin wrote it, not this user
    page.locator("#note-body").fill("Kundin ruft zurück")
    page.locator("#note-add button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=note"))
    assert page.locator(".done").inner_text() == f"Notiz zu Bestellung {reference} hinzugefügt."
    assert page.locator("#note-list li .note-body").first.inner_text() == "Kundin ruft zurück"
    assert page.locator("#note-list details.note-edit").count() == 1  # only the own note
    assert "Notiz" in page.locator("#history").inner_text()
    screenshot(page, "order-notes-de")


def test_a_readonly_user_reads_notes_and_is_offered_no_note_form(page_for, users, api):
    reference = api.create_order()["reference"]
    api.http.post(api.base + f"/api/v1/orders/{reference}/notes", json={"body": "For everyone to read"}, timeout=30)
    page = page_for(users["readonly"])
    page.goto(f"/admin/orders/{reference}")
    assert page.locator("#note-list li .note-body").inner_text() == "For everyone to read"
    assert page.locator("#note-add").count() == 0


# ---------------------------------------------------------------- filters as chips, sorting, columns


def _set_status(api, reference, status):
    response = api.http.post(api.base + f"/api/v1/orders/{reference}/status", json={"status": status}, timeout=30)
    assert response.status_code == 200, response.text


def test_filters_show_as_chips_that_remove_one_filter_each(page_for, users, api):
    busy = api.create_order()["reference"]
    _set_status(api, busy, "in_progress")
    page = page_for(users["admin"])
    page.goto("/admin/orders?page_size=200")
    assert page.locator("#chips").count() == 0  # nothing filtered, nothing to show
    page.locator("#filter-status summary").click()
    page.locator("#filter-status input[value=in_progress]").check()
    page.locator("#filter-payment_status summary").click()
    page.locator("#filter-payment_status input[value=unpaid]").check()
    page.locator("#filters button[type=submit]").click()
    page.wait_for_load_state()
    chips = page.locator("#chips .chip span").all_inner_texts()
    assert chips == ["Status: in progress", "Payment status: unpaid"]
    assert page.locator("#filter-status summary").inner_text() == "Status (1)"
    statuses = set(page.locator("table.orders tbody td.status").all_inner_texts())
    assert statuses == {"in progress"} and _row(page, busy).count() == 1
    page.locator("#chips .chip[data-filter=status] a").click()
    page.wait_for_load_state()
    assert "status=" not in page.url.replace("payment_status=", "")
    assert page.locator("#chips .chip span").all_inner_texts() == ["Payment status: unpaid"]
    assert len(set(page.locator("table.orders tbody td.status").all_inner_texts())) >= 1
    page.locator("#clear-filters").click()
    page.wait_for_load_state()
    assert page.locator("#chips").count() == 0


def test_in_french_a_date_range_is_one_chip_in_the_locale_s_order(page_for, users, api):
    api.create_order()
    page = page_for(users["admin_fr"])
    page.goto("/admin/orders")
    page.locator("#created_from").fill("01.01.2026")
    page.locator("#created_to").fill("31.12.2030")
    page.locator("#filters button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#chips .chip span").all_inner_texts() == ["Date: 01.01.2026 – 31.12.2030"]
    assert (
        page.locator("#chips .chip a").get_attribute("aria-label") == "Retirer le filtre Date: 01.01.2026 – 31.12.2030"
    )
    assert page.locator("#clear-filters").inner_text() == "Retirer tous les filtres"
    screenshot(page, "orders-chips-fr")
    page.locator("#chips .chip a").click()
    page.wait_for_load_state()
    assert "created_from" not in page.url and page.locator("#chips").count() == 0


def _totals(page):
    texts = page.locator("table.orders tbody td.total").all_inner_texts()
    return [float(re.sub(r"[^\d.]", "", text.replace("’", ""))) for text in texts]


def test_clicking_a_column_sorts_by_it_and_again_reverses(page_for, users, api):
    for price in ("5.00", "250.00"):
        api.create_order(lines=[{"article_number": "S-1", "name": "Sorted", "quantity": 1, "unit_price": price}])
    page = page_for(users["admin"])
    page.goto("/admin/orders?page_size=50")
    page.locator("th.col-total a").click()
    page.wait_for_load_state()
    assert "sort=-total" in page.url
    assert page.locator("th.col-total").get_attribute("aria-sort") == "descending"
    totals = _totals(page)
    assert totals == sorted(totals, reverse=True) and len(totals) >= 2
    page.locator("th.col-total a").click()
    page.wait_for_load_state()
    assert "sort=total" in page.url and page.locator("th.col-total").get_attribute("aria-sort") == "ascending"
    assert _totals(page) == sorted(_totals(page))
    page.locator("th.col-status a").click()
    page.wait_for_load_state()
    assert "sort=status" in page.url


def test_the_column_chooser_shows_the_chosen_columns_and_keeps_them(page_for, users, api):
    api.create_order()
    page = page_for(users["admin_it"])
    page.goto("/admin/orders")
    page.locator("#column-chooser summary").click()
    assert page.locator("#column-chooser summary").inner_text() == "Colonne"
    page.locator("#column-chooser input[value=invoice_number]").uncheck()
    page.locator("#column-chooser input[value=payment_method]").check()
    page.locator("#column-chooser button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("th.col-invoice").count() == 0 and page.locator("td.invoice").count() == 0
    assert page.locator("th.col-method").inner_text() == "Metodo di pagamento"
    assert page.locator("td.method").first.inner_text() == "fattura"
    page.locator("th.col-total a").click()  # sorting keeps the columns
    page.wait_for_load_state()
    assert page.locator("th.col-method").count() == 1 and page.locator("th.col-invoice").count() == 0
    screenshot(page, "orders-columns-it")


# ---------------------------------------------------------------- saved views


@pytest.fixture
def fresh_user(suite):
    """A user of its own per test (a default view must not follow other tests around)."""
    from gateway import users as accounts
    from gateway.models import infrastructure
    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import database_url as resolve

    engine = make_engine(resolve(suite.database_url, "gateway"), schema="gateway", pool_size=1)
    source = SessionSource(engine, infrastructure)

    def make(role, language):
        name = f"{role}-{language}-{secrets.token_hex(3)}"
        accounts.create_user(source, name, role, PASSWORD, language)
        return name

    yield make
    engine.dispose()


def _sign_out_and_in(page, username):
    page.locator("form[action='/admin/logout'] button").click()
    page.wait_for_url("**/admin/login**")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_in_german_a_saved_default_view_comes_back_after_signing_out(page_for, fresh_user, api):
    api.create_order()
    username = fresh_user("agent", "de")
    page = page_for(username)
    page.goto("/admin/orders")
    page.locator("#filter-status summary").click()
    page.locator("#filter-status input[value=new]").check()
    page.locator("#column-chooser summary").click()  # the chooser keeps the filters it was opened with
    page.locator("#filters button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("#column-chooser summary").click()
    page.locator("#column-chooser input[value=payment_method]").check()
    page.locator("#column-chooser button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("#save-view summary").click()
    page.locator("#view-name").fill("Neu eingegangen")
    page.locator("#save-view input[name=is_default]").check()
    page.locator("#save-view button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=view-saved"))
    assert page.locator("#view-done").inner_text() == "Ansicht „Neu eingegangen“ gespeichert."
    assert page.locator("#view-tabs a[aria-current=page]").inner_text() == "Neu eingegangen"
    # the badge of this view's tab (views other tests shared with the team have tabs of their own)
    assert (
        page.locator("#view-tabs li", has=page.locator("a[aria-current=page]")).locator(".badge").inner_text()
        == "Standard"
    )

    _sign_out_and_in(page, username)
    assert re.search(r"/admin/orders\?.*view=\d+", page.url), page.url
    assert page.locator("#chips .chip span").all_inner_texts() == ["Status: neu"]
    assert page.locator("th.col-method").count() == 1
    assert set(page.locator("table.orders tbody td.status").all_inner_texts()) == {"neu"}
    screenshot(page, "orders-saved-view-de")

    page.locator("#clear-filters").click()  # the plain list is still one click away
    page.wait_for_load_state()
    assert page.locator("#chips").count() == 0 and "view=0" in page.url

    page.goto("/admin/orders")  # opens with the default again
    page.locator("#manage-views summary").click()
    form = page.locator("#manage-views form.view-manage").first
    form.locator("input[name=name]").fill("Neue Bestellungen")
    form.locator("button[value=rename]").click()
    page.wait_for_url(re.compile(r".*done=view-renamed"))
    assert page.locator("#view-done").inner_text() == "Ansicht umbenannt in „Neue Bestellungen“."
    page.locator("#manage-views summary").click()
    page.locator("#manage-views form.view-manage button[value=delete]").first.click()
    page.wait_for_url(re.compile(r".*done=view-deleted"))
    assert page.dialogs == ["Ansicht „Neue Bestellungen“ löschen? Die Bestellungen bleiben, wie sie sind."]
    assert page.locator("#view-done").inner_text() == "Ansicht gelöscht."
    # its tab is gone (views other tests shared with the team keep theirs)
    assert page.locator("#view-tabs li", has=page.locator("a:text-is('Neue Bestellungen')")).count() == 0
    assert page.locator("#view-tabs li:not([data-view-id])").count() == 1  # "Alle Bestellungen"
    page.goto("/admin/orders")
    assert "view=" not in page.url  # no default any more


def test_an_admin_shares_a_view_that_others_apply_but_cannot_change(page_for, fresh_user, api):
    api.create_order()
    admin, agent = fresh_user("admin", "en"), fresh_user("agent", "fr")
    page = page_for(admin)
    page.goto("/admin/orders?payment_status=unpaid&sort=-total&view=0")
    page.locator("#save-view summary").click()
    name = f"Team unpaid {secrets.token_hex(2)}"
    page.locator("#view-name").fill(name)
    page.locator("#save-view input[name=shared]").check()
    page.locator("#save-view button[type=submit]").click()
    page.wait_for_url(re.compile(r".*done=view-saved"))
    assert page.locator("#view-done").inner_text() == f"View “{name}” saved."

    other = page_for(agent)
    other.goto("/admin/orders?view=0")
    assert other.locator("#save-view input[name=shared]").count() == 0  # only admins share
    tab = other.locator("#view-tabs li", has=other.locator(f"a:text-is('{name}')"))
    assert tab.locator(".badge").inner_text() == "équipe"
    tab.locator("a").click()
    other.wait_for_load_state()
    assert other.locator("#chips .chip span").all_inner_texts() == ["Statut du paiement: impayé"]
    assert other.locator("th.col-total").get_attribute("aria-sort") == "descending"
    assert other.locator("#manage-views").count() == 0  # nothing of its own to manage


# ---------------------------------------------------------------- export what you see


def _in_export_copy(api, references):
    """The exports keep their own copy, fed by events: wait until it has these orders."""
    from tests.support.smtp import wait_for

    def copied():
        response = api.http.get(
            api.base + "/api/v1/exports/orders.csv", params={"reference": ",".join(references)}, timeout=30
        )
        return response.status_code == 200 and all(reference in response.text for reference in references)

    wait_for(copied, timeout=30, message="orders in the export copy")


def _csv_references(path):
    import csv
    import io

    text = open(path, encoding="utf-8-sig").read()
    return {row["reference"] for row in csv.DictReader(io.StringIO(text), delimiter=";")}


def test_the_filtered_list_downloads_as_csv_with_exactly_the_listed_orders(page_for, users, api):
    made = [api.create_order()["reference"] for _ in range(2)]
    for reference in made:
        _set_status(api, reference, "completed")
    _in_export_copy(api, made)
    page = page_for(users["admin"])
    page.goto("/admin/orders?status=completed&payment_status=unpaid&page_size=200&view=0")
    assert int(page.locator(".pager .count").inner_text().replace(",", "").replace("’", "")) <= 200
    listed = set(page.locator("table.orders tbody td.ref a").all_inner_texts())
    assert set(made) <= listed
    with page.expect_download() as download:
        page.locator("#export-list a", has_text="CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    assert _csv_references(download.value.path()) == listed


def test_in_italian_the_ticked_orders_download_as_xml(page_for, users, api):
    from lxml import etree

    made = [api.create_order()["reference"] for _ in range(3)]
    _in_export_copy(api, made)
    page = page_for(users["admin_it"])
    page.goto("/admin/orders?page_size=200&view=0")
    assert page.locator("#export-ticked legend").inner_text() == "Esporta gli ordini spuntati"
    for reference in made[:2]:
        _row(page, reference).locator("input[name=references]").check()
    with page.expect_download() as download:
        page.locator("#export-ticked button", has_text="XML").click()
    root = etree.parse(download.value.path()).getroot()
    exported = [order.get("reference") for order in root if order.tag.endswith("}order")]
    assert sorted(exported) == sorted(made[:2])
    assert page.dialogs == []  # an export changes nothing: no confirmation asked


def test_roles_without_exports_are_offered_no_export(page_for, users):
    page = page_for(users["agent"])
    page.goto("/admin/orders?view=0")
    assert page.locator("#export-list").count() == 0 and page.locator("#export-ticked").count() == 0
    response = page.request.get("/admin/orders/export?format=csv")  # the session's cookie, no page
    assert response.status == 403 and "orders.csv" not in (response.headers.get("content-disposition") or "")


# ---------------------------------------------------------------- no English left (fr, it, de)

# the workflow pages' own words, beside the general list of the staff UI test
WORKFLOW_WORDS = (
    "views",
    "view",
    "columns",
    "column",
    "export",
    "remove",
    "clear",
    "default",
    "saved",
    "edit",
    "latest",
    "internal",
    "ticked",
    "share",
    "rename",
    "manage",
    "add note",
    "save",
    "until",
)
WORKFLOW_PATTERN = re.compile(r"(?<![\w@.-])(" + "|".join(WORKFLOW_WORDS) + r")(?![\w@-])", re.IGNORECASE)


@pytest.mark.parametrize("language", ["fr", "it", "de"])
def test_the_workflow_pages_leave_no_english_word(page_for, fresh_user, api, language):
    from tests.browser.test_staff_ui import english_left

    reference = api.create_order()["reference"]
    username = fresh_user("admin", language)
    page = page_for(username)
    page.goto(f"/admin/orders/{reference}")
    page.locator("#note-body").fill("x")
    page.locator("#note-add button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(
        "/admin/orders?status=new&payment_status=unpaid&created_from=01.01.2026&view=0".replace(
            "01.01.2026", "01/01/2026" if language == "it" else "01.01.2026"
        )
    )
    page.locator("#save-view summary").click()
    page.locator("#view-name").fill("Vue")
    page.locator("#save-view button[type=submit]").click()
    page.wait_for_load_state()
    for path in (page.url, f"/admin/orders/{reference}"):
        page.goto(path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        english = english_left(page)  # leaves out the shop's data (other tests' notes, views, customers)
        text = re.sub(r"\S+@\S+", " ", page.locator("body").inner_text())
        left = sorted(set(english) | {w.lower() for w in WORKFLOW_PATTERN.findall(text)})
        assert left == [], (path, left)
    screenshot(page, f"order-detail-notes-{language}")


# ---------------------------------------------------------------- phones, accessibility, screenshots


@pytest.mark.parametrize("language", ["en", "fr"])
def test_workflow_pages_fit_a_phone_pass_axe_and_are_photographed(page_for, fresh_user, api, language):
    from tests.browser.test_staff_ui import axe_violations, fits

    reference = api.create_order()["reference"]
    api.http.post(
        api.base + f"/api/v1/orders/{reference}/notes",
        json={"body": "A rather long internal note that must wrap on a phone instead of scrolling " * 2},
        timeout=30,
    )
    username = fresh_user("admin", language)
    page = page_for(username, bypass_csp=True)  # only so that axe can be injected
    page.goto("/admin/orders?status=new&payment_status=unpaid&view=0")
    page.locator("#save-view summary").click()
    page.locator("#view-name").fill("Phone")
    page.locator("#save-view button[type=submit]").click()
    page.wait_for_load_state()
    pages = ((page.url, "orders-workflow"), (f"/admin/orders/{reference}", "order-detail-workflow"))
    for width, height in ((1440, 1000), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for path, name in pages:
            page.goto(path)
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            assert fits(page) == [], (path, width)
            assert axe_violations(page) == [], (path, width)
            screenshot(page, f"{name}-{language}-{width}")
        page.goto(pages[0][0])
        row = _row(page, reference)
        for cell in ("td.ref", "td.customer", "td.status", "td.payment", "td.total", "td.note"):
            assert row.locator(cell).is_visible(), (cell, width)
