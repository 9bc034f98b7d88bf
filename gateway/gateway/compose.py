"""Answers the gateway composes from several services, written once for the API and the UI."""


def order_detail(calls, reference, with_history=False):
    """The order as orders knows it, with its payment and e-mails from their services.

    The order itself is the primary part (its service's full deadline; a failure fails the
    answer). Payment and e-mails are secondary: asked at once, waited for together for at most
    ``calls.secondary_timeout`` seconds, and each one missing is named in ``unavailable``.
    With ``with_history`` the audit trail (also from orders) comes along as ``history``.
    """
    order_reply = calls.async_("orders", "get_order", reference)
    history_reply = calls.async_("orders", "order_history", reference) if with_history else None
    secondary = calls.secondary()
    payment = secondary.ask("payments", "get_payment", reference)
    mails = secondary.ask("notifications", "mails_for_order", reference)
    order = calls.result("orders", order_reply)
    order["payment"] = secondary.answer(payment)
    order["emails"] = secondary.answer(mails) or []
    if history_reply is not None:
        order["history"] = history_with_mails(calls.result("orders", history_reply), order["emails"])
    order["unavailable"] = sorted(secondary.unavailable)
    return order


def order_history(calls, reference):
    """The audit trail with the e-mails of the mail log merged in (e-mails are secondary)."""
    history_reply = calls.async_("orders", "order_history", reference)
    secondary = calls.secondary()
    mails = secondary.ask("notifications", "mails_for_order", reference)
    entries = calls.result("orders", history_reply)
    return {
        "items": history_with_mails(entries, secondary.answer(mails) or []),
        "unavailable": sorted(secondary.unavailable),
    }


def history_with_mails(entries, mails):
    """The order's audit trail with every e-mail of the mail log as an entry of its own, by time."""
    merged = list(entries)
    for mail in mails or []:
        merged.append(
            {
                "at": mail.get("sent_at") or mail.get("created_at"),
                "actor": "notifications",
                "actor_kind": "system",
                "origin": "notifications",
                "action": f"email_{mail.get('status')}",
                "from": None,
                "to": None,
                "reason": mail.get("error"),
                "email": mail.get("kind"),
                "details": {"recipient": mail.get("recipient"), "subject": mail.get("subject")},
            }
        )
    merged.sort(key=lambda entry: entry["at"] or "")
    return merged


def with_latest_notes(calls, page):
    """A list page with each row's newest internal note (its first line, author, time) as
    ``latest_note``: as the orders service lists them, or else from one call for the whole page.
    Notes are secondary: when orders cannot answer them in time the rows say ``null`` and
    ``unavailable`` names ``notes``."""
    items = page.get("items") or []
    if all("latest_note" in item for item in items):
        page["unavailable"] = page.get("unavailable") or []  # listed with them, in the same read
        return page
    secondary = calls.secondary()
    latest = {}
    if items:
        latest = (
            secondary.answer(secondary.ask("orders", "latest_notes", [item["reference"] for item in items]), missing={})
            or {}
        )
    for item in items:
        item["latest_note"] = latest.get(item["reference"])
    unavailable = page.get("unavailable") or []
    page["unavailable"] = unavailable + (["notes"] if secondary.unavailable else [])
    return page
