"""Answers the gateway composes from several services, written once for the API and the UI."""


def history_with_mails(entries, mails):
    """The order's audit trail with every e-mail of the mail log as an entry of its own, by time."""
    merged = list(entries)
    for mail in mails or []:
        merged.append({
            "at": mail.get("sent_at") or mail.get("created_at"), "actor": "notifications", "actor_kind": "system",
            "origin": "notifications", "action": f"email_{mail.get('status')}", "from": None, "to": None,
            "reason": mail.get("error"), "email": mail.get("kind"),
            "details": {"recipient": mail.get("recipient"), "subject": mail.get("subject")},
        })
    merged.sort(key=lambda entry: entry["at"] or "")
    return merged
