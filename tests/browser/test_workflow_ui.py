"""The order grid and detail staff work in all day: internal notes, filter chips, sorting,
columns, saved views and the export of what is listed — in Chromium, in more than one language."""
import re

from tests.browser.conftest import screenshot

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
    written = api.http.post(api.base + f"/api/v1/orders/{reference}/notes", json={"body": "Von der API notiert"},
                            timeout=30)
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
