"""Outbox (local): the mails `make run`'s SMTP catcher kept under var/mail/, for admins.

Shown only while that catcher runs (``OMS_LOCAL_OUTBOX_DIR``, set by tools/run.py when no
OMS_SMTP_HOST is configured). A mail is addressed by its file name, which must match the
catcher's own pattern: no path, no traversal. Everything shown is escaped by the templates.
"""

import os
import re
from email import policy
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from werkzeug.routing import Rule

from oms_common.problems import Forbidden, NotFound
from oms_common.settings import setting

FILE_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,79}\.eml$")
LIST_LIMIT = 200
MAX_MAIL_BYTES = 5 * 1024 * 1024
HEADERS = ("From", "To", "Subject", "Date")


def directory():
    value = setting(None, "OMS_LOCAL_OUTBOX_DIR", "gateway")
    return Path(value) if value else None


def enabled():
    return directory() is not None


def _require_admin(page):
    if not enabled():
        raise NotFound("There is no local outbox: mails go to the configured SMTP server.")
    if page.user.role != "admin":
        raise Forbidden(page.t("You may not do this."))


def _header(message, name):
    try:
        return str(message.get(name, "") or "")
    except Exception:  # noqa: BLE001 - a malformed header is shown as missing, not as an error
        return ""


def _summaries():
    folder = directory()
    names = (
        sorted(
            (entry.name for entry in os.scandir(folder) if entry.is_file() and FILE_NAME.match(entry.name)),
            reverse=True,
        )
        if folder.is_dir()
        else []
    )
    mails = []
    for name in names[:LIST_LIMIT]:
        try:
            with open(folder / name, "rb") as handle:
                message = BytesHeaderParser(policy=policy.default).parse(handle)
        except OSError:  # removed meanwhile
            continue
        mails.append({"name": name, **{key.lower(): _header(message, key) for key in HEADERS}})
    return mails, len(names)


def outbox(page):
    _require_admin(page)
    mails, total = _summaries()
    return page.render("outbox.html", mails=mails, total=total, folder=str(directory()))


def outbox_mail(page, name):
    _require_admin(page)
    path = directory() / name
    if not FILE_NAME.match(name) or not path.is_file():
        raise NotFound("No such mail.")
    with open(path, "rb") as handle:
        raw = handle.read(MAX_MAIL_BYTES)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(preferencelist=("plain",))
    try:
        text = body.get_content() if body is not None else ""
    except (LookupError, ValueError):  # unknown charset or broken transfer encoding
        text = body.get_payload(decode=True).decode("utf-8", "replace") if body is not None else ""
    mail = {"name": name, "text": text, **{key.lower(): _header(message, key) for key in HEADERS}}
    return page.render("outbox_mail.html", mail=mail)


GERMAN = {
    "Outbox (local)": "Postausgang (lokal)",
    "No SMTP server is configured: every mail is kept here, in": (
        "Kein SMTP-Server eingerichtet: jede Mail bleibt hier, in"
    ),
}


def register(url_map, views, environment):
    from .i18n import CATALOGS

    CATALOGS["de"].update(GERMAN)
    url_map.add(Rule("/admin/outbox", endpoint="outbox"))
    url_map.add(Rule("/admin/outbox/<name>", endpoint="outbox_mail"))
    views.update({"outbox": outbox, "outbox_mail": outbox_mail})
    environment.globals["local_outbox"] = enabled
