"""The `oms` operator CLI against a running suite: users and tokens, parked events, stored
webhooks, export jobs now, backlogs, and one-line errors when infrastructure is unreachable."""

import json
import subprocess
import sys

import requests
from kombu import Connection, Exchange, Queue

from tests.support.smtp import wait_for
from tests.support.suite import REPO, free_port

from .conftest import held_outbox_event, order_body, published

OMS = [sys.executable, str(REPO / "tools" / "oms.py")]


def oms(suite, *args, env=None, timeout=60):
    environ = {**suite.env, **(env or {})}
    result = subprocess.run([*OMS, *args], capture_output=True, text=True, env=environ, timeout=timeout, cwd=str(REPO))
    return result


def oms_json(suite, *args):
    result = oms(suite, "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_help_names_every_command(ops_suite):
    result = oms(ops_suite, "--help")
    assert result.returncode == 0
    for command in ("user", "token", "parked", "webhooks", "export", "backlog", "settings"):
        assert command in result.stdout


def test_user_and_token_created_by_the_cli_work_against_the_gateway(ops_suite):
    created = oms_json(ops_suite, "user", "create", "cli-reader", "--role", "readonly")
    assert created["role"] == "readonly" and created["token"]
    reader = requests.Session()
    reader.headers["Authorization"] = f"Bearer {created['token']}"
    assert reader.get(ops_suite.base + "/api/v1/orders", timeout=15).status_code == 200
    assert reader.post(ops_suite.base + "/api/v1/orders", json=order_body(), timeout=15).status_code == 403

    second = oms_json(ops_suite, "token", "create", "cli-reader", "--name", "second")
    assert second["token"] != created["token"]
    assert (
        requests.get(
            ops_suite.base + "/api/v1/orders", timeout=15, headers={"Authorization": f"Bearer {second['token']}"}
        ).status_code
        == 200
    )
    users = {u["username"]: u for u in oms_json(ops_suite, "user", "list")["items"]}
    assert len(users["cli-reader"]["tokens"]) == 2

    again = oms(ops_suite, "user", "create", "cli-reader", "--role", "admin")
    assert again.returncode == 1 and "exists" in again.stderr
    unknown = oms(ops_suite, "token", "create", "nobody-such")
    assert unknown.returncode == 1 and unknown.stderr.strip().count("\n") == 0 and "nobody-such" in unknown.stderr


def test_parked_events_are_listed_and_replayed(ops_suite):
    queues = oms_json(ops_suite, "parked", "list")["items"]
    names = [row["queue"] for row in queues]
    queue = "evt-payments-payment_status_changed--exports.on_payment_status_changed"
    # only this queue is counted: other tests may park (and replay) messages of their own
    assert queue in names and next(row["parked"] for row in queues if row["queue"] == queue) == 0

    # a message parked as the reliable handler parks one (a harmless body: an unknown order)
    body = json.dumps({"event_id": "ops-parked-1", "order_reference": "999999999", "status": "paid", "sequence": 1})
    with Connection(ops_suite.env["OMS_AMQP_URI"]) as connection:
        parked = Queue(queue + ".parked", exchange=Exchange(""), routing_key=queue + ".parked", durable=True)
        producer = connection.Producer()
        producer.publish(
            body,
            exchange="",
            routing_key=queue + ".parked",
            declare=[parked],
            content_type="application/json",
            headers={"x-oms-error": "ops test"},
            delivery_mode=2,
        )

    listed = oms_json(ops_suite, "parked", "list", "--queue", queue, "--messages")["items"]
    assert listed[0]["parked"] == 1 and "ops-parked-1" in listed[0]["messages"][0]["body"]
    text = oms(ops_suite, "parked", "list", "--nonzero")
    assert text.returncode == 0 and queue in text.stdout

    replayed = oms_json(ops_suite, "parked", "replay", queue)
    assert replayed["replayed"] == {queue: 1}
    after = oms_json(ops_suite, "parked", "list", "--queue", queue)["items"]
    assert after[0]["parked"] == 0  # back with its handler (which may park it again after its retries)

    unknown = oms(ops_suite, "parked", "replay", "no-such-queue")
    assert unknown.returncode == 1 and "no-such-queue" in unknown.stderr


def test_stored_webhooks_are_listed_and_replayed(ops_suite):
    created = ops_suite.post("/api/v1/orders", json=order_body("card", "card-ops@example.com"))
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    payment = wait_for(
        lambda: (p := ops_suite.get(f"/api/v1/orders/{reference}/payment").json()).get("psp_reference") and p,
        timeout=20,
        message="the PaymentIntent",
    )
    event = ops_suite.psp.succeed_intent(payment["psp_reference"])
    assert ops_suite.psp.deliver_stripe(event) == [200]
    wait_for(
        lambda: ops_suite.get(f"/api/v1/orders/{reference}").json()["payment_status"] == "paid",
        timeout=20,
        message="the webhook applied",
    )

    # the same payment reported again under a new event id: stored, changes nothing ("ignored")
    again = ops_suite.psp.succeed_intent(payment["psp_reference"])
    assert ops_suite.psp.deliver_stripe(again) == [200]

    def both_settled():
        items = oms_json(ops_suite, "webhooks", "list", "--order", reference)["items"]
        by_event = {item["provider_event_id"]: item for item in items}
        return len(items) == 2 and by_event.get(again["id"], {}).get("status") == "ignored" and by_event

    by_event = wait_for(both_settled, timeout=20, interval=0.5, message="the second webhook ignored")
    assert by_event[event["id"]]["status"] == "applied"

    replayed = oms(ops_suite, "webhooks", "replay", str(by_event[again["id"]]["id"]))
    assert replayed.returncode == 0, replayed.stderr
    wait_for(
        lambda: (
            {
                i["provider_event_id"]: i["status"]
                for i in oms_json(ops_suite, "webhooks", "list", "--order", reference)["items"]
            }[again["id"]]
            == "ignored"
        ),
        timeout=20,
        message="the replayed webhook processed again",
    )
    history = ops_suite.get(f"/api/v1/orders/{reference}/payment/history").json()["items"]
    moves = [
        (entry["action"], entry["from"])
        for entry in history
        if entry.get("to") == "paid" and entry["action"] != "psp_event_ignored"
    ]
    assert len(moves) == 1, history  # paid once, replay or not
    assert len([entry for entry in history if entry["action"] == "psp_event_ignored"]) == 2  # second event, replay

    applied = oms(ops_suite, "webhooks", "replay", str(by_event[event["id"]]["id"]))
    assert applied.returncode == 1 and "only failed" in applied.stderr
    missing = oms(ops_suite, "webhooks", "replay", "987654321")
    assert missing.returncode == 1 and missing.stderr.startswith("oms: refused")


def test_an_export_job_runs_now(ops_suite):
    job = ops_suite.post(
        "/api/v1/exports/jobs",
        json={"name": "cli-now", "cron": "0 3 1 1 *", "format": "csv", "kind": "orders", "target": "cli"},
    )
    assert job.status_code == 201, job.text
    job_id = job.json()["id"]
    assert job_id in [j["id"] for j in oms_json(ops_suite, "export", "jobs")["items"]]
    ran = oms(ops_suite, "export", "run", str(job_id))
    assert ran.returncode == 0, ran.stderr

    def finished_run():
        runs = ops_suite.get("/api/v1/exports/runs").json()
        runs = runs.get("items", runs) if isinstance(runs, dict) else runs
        return [r for r in runs if r.get("job_id") == job_id and r.get("status") in ("succeeded", "done", "ok")]

    assert wait_for(finished_run, timeout=30, message="the export run")
    assert oms(ops_suite, "export", "run", "987654").returncode == 1


def test_backlog_shows_every_outbox_and_drains_to_zero(ops_suite):
    assert ops_suite.post("/api/v1/orders", json=order_body()).status_code == 201
    with held_outbox_event(ops_suite.env) as event_id:  # first seen non-zero
        assert oms_json(ops_suite, "backlog")["outbox"]["orders"] >= 1

    def drained():
        report = oms_json(ops_suite, "backlog")
        return report if all(count == 0 for count in report["outbox"].values()) else None

    report = wait_for(drained, timeout=30, interval=0.5, message="every outbox published")
    assert published(ops_suite.env, event_id)
    assert set(report["outbox"]) == {"orders", "payments", "notifications", "exports", "documents", "gateway"}
    assert isinstance(report["failed_mails"], int) and isinstance(report["stuck_payments"], int)
    assert isinstance(report["parked_total"], int) and report["parked"]
    text = oms(ops_suite, "backlog")
    assert text.returncode == 0 and "outbox" in text.stdout and "stuck payments" in text.stdout


def test_unreachable_rabbitmq_or_database_is_one_clear_line(ops_suite):
    dead = free_port()
    broker = oms(ops_suite, "parked", "list", env={"OMS_AMQP_URI": f"amqp://guest:guest@127.0.0.1:{dead}/"})
    assert broker.returncode == 2
    assert broker.stderr.strip().count("\n") == 0 and "RabbitMQ" in broker.stderr and str(dead) in broker.stderr
    rpc = oms(ops_suite, "webhooks", "list", env={"OMS_AMQP_URI": f"amqp://guest:guest@127.0.0.1:{dead}/"})
    assert rpc.returncode == 2 and "RabbitMQ" in rpc.stderr
    database = oms(ops_suite, "user", "list", env={"OMS_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{dead}/x"})
    assert database.returncode == 2
    assert database.stderr.strip().count("\n") == 0 and "database" in database.stderr and str(dead) in database.stderr
