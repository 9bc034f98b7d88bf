"""Notification mails per second, beside raw smtplib sends to the same SMTP server (same run).

    python bench/notifications_bench.py                 # 2000 mails, PostgreSQL at 127.0.0.1
    python bench/notifications_bench.py --mails 500     # quicker

Starts a real SMTP server (aiosmtpd, in its own process, counting and discarding what it
receives) on a free port, and a fresh database (``oms_bench_notifications``, created and
dropped here) with the notifications migrations applied. Then:

  * raw     — ``smtplib.SMTP.send_message`` of one fixed, pre-built message, over one
              connection, N times: what the machine and the SMTP server can take;
  * render  — templates rendered and the RFC 5322 message built, in memory only (no I/O);
  * queue   — the event handler's work: claim the event id, copy the order, render, insert
              the mail row (one transaction per event), as ``order_shipped`` events;
  * deliver — the sender's work: claim due rows (``FOR UPDATE SKIP LOCKED``), build the
              message, hand it to SMTP, record it as sent (one transaction per mail);
  * total   — queue + deliver: mails rendered and handed to SMTP per second, end to end.

Every figure is printed beside the raw smtplib rate, as a ratio. Results also go to
var/bench/notifications-<time>.json.
"""

import argparse
import json
import os
import smtplib
import socket
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "services" / "notifications"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from smtp_counter import SmtpCounter  # noqa: E402

from tests.support import samples  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/oms_bench_notifications"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- the SMTP server


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- the database


def fresh_database(url):
    import psycopg2

    from oms_common.migrations import upgrade

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))

    def run(sql):
        connection = psycopg2.connect(admin)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql)
        connection.close()

    run(f'DROP DATABASE IF EXISTS "{name}"')
    run(f'CREATE DATABASE "{name}"')
    upgrade(REPO / "services" / "notifications", url)
    return url, lambda: run(f'DROP DATABASE IF EXISTS "{name}"')


def source_for(url):
    from notifications.models import infrastructure
    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import database_url

    resolved = database_url(url, "notifications")
    engine = make_engine(resolved, schema="notifications", pool_size=4)
    return SessionSource(engine, infrastructure)


# ---------------------------------------------------------------- the cases


def the_order(index):
    language = ("de", "fr", "it", "en")[index % 4]
    address = samples.address(last_name=f"Muster {index}")
    return {
        "reference": str(100000 + index),
        "invoice_number": f"RE-{10000 + index}",
        "status": "shipped",
        "payment_status": "unpaid",
        **samples.teapot_and_tea_totals(),
        "language": language,
        "customer": {"id": index, "email": f"buyer{index}@example.com", "name": f"Anna Muster {index}"},
        "billing_address": address,
        "shipping_address": dict(address),
        "lines": samples.teapot_and_tea(),
        "tracking_number": f"99.00.{index:06d}",
        "created_at": "2026-11-27T08:00:00+00:00",
    }


def shipped_event(index):
    order = the_order(index)
    return {
        "event_id": uuid.uuid4().hex,
        "event_type": "order_shipped",
        "occurred_at": "2026-11-27T09:00:00+00:00",
        "order": order,
        "actor": {"name": "bench", "kind": "system", "role": None, "origin": "bench"},
        "from_status": "new",
        "to_status": "shipped",
        "notify": True,
        "reason": None,
        "tracking_number": order["tracking_number"],
    }


def rate(count, seconds):
    return count / seconds if seconds > 0 else float("inf")


def bench_raw(port, count):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "Shop <shop@example.com>"
    message["To"] = "Anna Muster <anna@example.com>"
    message["Subject"] = "Your order 100000 has been shipped"
    message.set_content("Hello Anna Muster,\n\nyour order 100000 is on its way.\n" * 10)
    message.add_alternative("<p>Hello Anna Muster,</p><p>your order 100000 is on its way.</p>" * 10, subtype="html")
    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    for _ in range(count):
        client.send_message(message, from_addr="shop@example.com", to_addrs=["anna@example.com"])
    elapsed = time.perf_counter() - started
    client.quit()
    return rate(count, elapsed)


def bench_render(mail_api, count):
    from notifications import domain
    from notifications.rendering import template_context

    events = [shipped_event(i) for i in range(count)]
    started = time.perf_counter()
    for event in events:
        request = domain.mail_for_order_event("order_shipped", event, mail_api.settings.triggers)
        email_address, name = domain.recipient_of(request.order)
        language = domain.choose_language(request.order["language"], "en")
        rendered = mail_api.renderer.render(
            domain.TEMPLATE_OF[request.kind], language, template_context(request, mail_api.settings, name)
        )
        bytes(
            domain.build_message(
                {
                    "recipient": email_address,
                    "recipient_name": name,
                    "subject": rendered.subject,
                    "body_text": rendered.body_text,
                    "body_html": rendered.body_html,
                    "event_id": event["event_id"],
                    "kind": request.kind,
                },
                mail_api.settings,
            )
        )
    return rate(count, time.perf_counter() - started)


def bench_pipeline(source, mail_api, port, count, batch_size, parallel):
    from notifications import delivery, handlers, smtp
    from notifications.settings import SmtpSettings

    events = [shipped_event(i) for i in range(count)]
    started = time.perf_counter()
    for event in events:
        handlers.handle_order_event(source, mail_api, "order_shipped", event)
    queued_at = time.perf_counter()
    transport = smtp.SmtpTransport(SmtpSettings(host="127.0.0.1", port=port))  # connections kept as in the service
    sent = 0
    while True:
        report = delivery.deliver_due(
            source, transport, mail_api.settings, batch_size=batch_size, lease=timedelta(minutes=5), parallel=parallel
        )
        sent += report.sent
        if report.claimed == 0:
            break
        if report.retried or report.failed:
            raise SystemExit(f"delivery failed during the bench: {report}")
    finished = time.perf_counter()
    if sent != count:
        raise SystemExit(f"sent {sent} of {count} mails")
    return rate(count, queued_at - started), rate(count, finished - queued_at), rate(count, finished - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=2000)
    from notifications.settings import SenderSettings

    parser.add_argument("--batch", type=int, default=SenderSettings.batch_size, help="sender batch size")
    parser.add_argument("--parallel", type=int, default=SenderSettings.parallel, help="lanes sent at once")
    parser.add_argument(
        "--url",
        default=os.environ.get("OMS_BENCH_NOTIFICATIONS_URL", DEFAULT_URL),
        help="PostgreSQL URL of a scratch database (dropped and created)",
    )
    args = parser.parse_args()

    from notifications.rendering import Renderer

    mail_api = SimpleNamespace(
        settings=samples.teashop_mail_settings(), renderer=Renderer(strict=True), wake=lambda: None
    )
    smtp = SmtpCounter(free_port())
    port = smtp.port
    url, drop = fresh_database(args.url)
    source = source_for(url)
    try:
        log(f"SMTP server on 127.0.0.1:{port}; database {url}; {args.mails} mails")
        raw = bench_raw(port, args.mails)
        log(f"raw smtplib: {raw:.0f}/s")
        rendered = bench_render(mail_api, args.mails)
        log(f"render only: {rendered:.0f}/s")
        queued, delivered, total = bench_pipeline(source, mail_api, port, args.mails, args.batch, args.parallel)
        log(f"pipeline: queue {queued:.0f}/s, deliver {delivered:.0f}/s, total {total:.0f}/s")
    finally:
        source.engine.dispose()
        drop()
        smtp.stop()

    rows = [
        ("raw smtplib send (fixed message, baseline)", raw),
        ("render + build message (memory only)", rendered),
        ("queue: claim + render + insert (per event)", queued),
        ("deliver: claim + build + SMTP + record", delivered),
        ("total: mails rendered and handed to SMTP", total),
    ]
    print()
    print(f"{'what':<46} {'mails/s':>10} {'vs raw':>8}")
    for name, value in rows:
        print(f"{name:<46} {value:>10.0f} {value / raw:>7.0%}")
    out = REPO / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"notifications-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"mails": args.mails, "database": "postgresql", "per_second": dict(rows)}, indent=2))
    print(f"\nwritten to {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
