"""Settings: the numbering of orders and invoices (the shop profile is in ``documents``)."""

from werkzeug.wrappers import Response

from oms_common.problems import Problem

from .forms import number
from .page import Page, shown_refusal


def numbering(page: Page) -> Response:
    page.require("settings.read")
    error, done = None, False
    if page.request.method == "POST":
        page.require("settings.write")
        form = page.request.form
        body = {
            "invoice_prefix": form.get("invoice_prefix", ""),
            "invoice_numbers_enabled": "invoice_numbers_enabled" in form,
            **{key: number(form.get(key)) for key in ("order_reference_start", "invoice_number_start")},
        }
        try:
            page.calls("orders", "update_numbering", body, page.actor)
            done = True
        except Problem as problem:
            error = shown_refusal(problem)
    state = page.calls("orders", "get_numbering")
    done_text = (
        page.t(
            "Numbering saved: next reference {reference}, next invoice number {number}.",
            reference=state.get("next_order_reference"),
            number=state.get("next_invoice_number"),
        )
        if done
        else None
    )
    return page.render_form("numbering.html", error, state=state, done=done, done_text=done_text)
