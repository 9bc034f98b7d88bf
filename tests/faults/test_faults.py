"""Fault suite (`make test-faults`): two replicas of every service under a steady, bounded load
of order creation, signed Stripe webhooks and shipping with e-mail, and storefronts creating
orders throughout, while the broker drops our
connections, the SMTP server is gone for a while, every service is killed with -9 in turn and
started again, and PostgreSQL and RabbitMQ are restarted. After recovery nothing is lost or
doubled."""

import collections
import json
import os
import re
import subprocess
import sys  # noqa: E402
import threading
import time

import pytest
import requests

from oms_common.migrations import upgrade
from tests.support.drain import drain
from tests.support.smtp import SmtpSink
from tests.support.suite import REPO, create_database, create_vhost, delete_vhost, drop_database, suite_environment

from .cluster import (
    SERVICES,
    Cluster,
    Probe,
    close_vhost_connections,
    restart_broker,
    restart_database,
    terminate_database_backends,
    wait_until,
)

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402

TOKEN = "faults-admin-token-0123456789abcdef"
STRIPE_SECRET = "whsec_faults"
LOAD_ORDERS = 50  # bounded in count ...
LOAD_MAX_SECONDS = 240  # ... and in time
PACE_SECONDS = 1.0
STOREFRONT_CLIENTS = 3  # steady intake through every fault, beside the one-order-at-a-time workflow
REQUEST_PATIENCE = 90  # how long one logical request keeps retrying through faults
RECOVERY_SECONDS = 240
# Real restarts of this machine's RabbitMQ and PostgreSQL (the default). On a machine whose broker
# and database others use at the same time, OMS_FAULT_SIMULATE_RESTARTS=1 only cuts our own
# connections instead.
REAL_RESTARTS = os.environ.get("OMS_FAULT_SIMULATE_RESTARTS") != "1"


def order_body(i, method):
    return {
        "customer": {
            "email": f"fault-{i}@example.com",
            "first_name": "Fritz",
            "last_name": f"Fault{i}",
            "language": "de",
        },
        "billing_address": {
            "first_name": "Fritz",
            "last_name": f"Fault{i}",
            "street": "Weg 1",
            "postal_code": "3000",
            "city": "Bern",
            "country": "CH",
        },
        "lines": [{"article_number": f"F-{i}", "name": "Fault", "quantity": 1, "unit_price": "10.00"}],
        "shipping_cost": "5.00",
        "payment_method": method,
    }


class Load:
    """One client, one order at a time; every logical request is retried (same Idempotency-Key)
    until it gets an answer that is not a 5xx, a connection error or a 409 with Retry-After (the
    first attempt still running)."""

    def __init__(self, cluster, psp):
        self.cluster, self.psp = cluster, psp
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {TOKEN}"
        self.created = {}  # idempotency key -> reference
        self.card, self.invoice, self.shipped = [], [], []
        self.webhook_events = {}  # reference -> stripe event id
        self.retries = collections.Counter()
        self.failures = []
        self.turn = 0
        self.done = threading.Event()

    def call(self, method, path, what, session=None, **kwargs):
        deadline = time.monotonic() + REQUEST_PATIENCE
        while True:
            self.turn += 1
            base = self.cluster.gateways[self.turn % len(self.cluster.gateways)]
            pause = 0.5
            try:
                response = (session or self.session).request(method, base + path, timeout=20, **kwargs)
                if response.status_code == 409 and "Retry-After" in response.headers:
                    # the first attempt with this key still runs on a replica: wait as told
                    self.retries[f"{what} 409 still running"] += 1
                    pause = float(response.headers["Retry-After"])
                elif response.status_code < 500:
                    return response
                else:
                    self.retries[f"{what} {response.status_code}"] += 1
            except requests.RequestException as error:
                self.retries[f"{what} {type(error).__name__}"] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: no answer within {REQUEST_PATIENCE}s")
            time.sleep(pause)

    def deliver(self, event, index):
        body = json.dumps(event).encode()
        deadline = time.monotonic() + REQUEST_PATIENCE
        while True:
            url = self.cluster.webhooks[index % len(self.cluster.webhooks)]
            index += 1
            try:
                response = requests.post(
                    url,
                    data=body,
                    timeout=20,
                    headers={"Content-Type": "application/json", "Stripe-Signature": self.psp.sign_stripe(body)},
                )
                if response.status_code < 300:
                    return
                self.retries[f"webhook {response.status_code}"] += 1
            except requests.RequestException as error:
                self.retries[f"webhook {type(error).__name__}"] += 1
            if time.monotonic() > deadline:
                raise AssertionError("webhook: not accepted in time")
            time.sleep(0.5)

    def one(self, i):
        method = "card" if i % 2 else "invoice"
        key = f"fault-order-{i}"
        response = self.call(
            "POST", "/api/v1/orders", "create", json=order_body(i, method), headers={"Idempotency-Key": key}
        )
        assert response.status_code in (200, 201), response.text
        reference = response.json()["reference"]
        self.created[key] = reference
        if method == "invoice":
            self.invoice.append(reference)
            shipped = self.call(
                "POST", f"/api/v1/orders/{reference}/ship", "ship", json={"notify": True, "tracking_number": f"T{i}"}
            )
            if shipped.status_code == 409:  # a retried ship whose first attempt got through
                assert self.call("GET", f"/api/v1/orders/{reference}", "get").json()["status"] == "shipped"
            else:
                assert shipped.status_code == 200, shipped.text
            self.shipped.append(reference)
        else:
            self.card.append(reference)
            deadline = time.monotonic() + REQUEST_PATIENCE
            while True:
                payment = self.call("GET", f"/api/v1/orders/{reference}/payment", "payment")
                if payment.status_code == 200 and payment.json().get("psp_reference"):
                    break
                assert time.monotonic() < deadline, f"no PaymentIntent for {reference}"
                time.sleep(0.5)
            event = self.psp.succeed_intent(payment.json()["psp_reference"])
            self.webhook_events[reference] = event["id"]
            self.deliver(event, i)
            self.deliver(event, i + 1)  # PSPs deliver twice: the other replica gets the duplicate

    def run(self):
        started = time.monotonic()
        try:
            for i in range(LOAD_ORDERS):
                if time.monotonic() - started > LOAD_MAX_SECONDS:
                    break
                try:
                    self.one(i)
                except AssertionError as error:
                    self.failures.append(f"order {i}: {error}")
                time.sleep(PACE_SECONDS)
        finally:
            self.done.set()


class Storefront:
    """Steady intake beside the workflow load: ``clients`` storefronts each creating an invoice
    order every ``PACE_SECONDS`` through every fault, until the workflow load is done. Their orders
    join ``load.created`` (and so every exactly-once count); requests retry like the load's."""

    def __init__(self, load, clients=STOREFRONT_CLIENTS):
        self.load, self.clients = load, clients
        self.threads = []

    def start(self):
        for client in range(self.clients):
            thread = threading.Thread(target=self._run, args=(client,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def join(self, timeout):
        for thread in self.threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self.threads)

    def _run(self, client):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        n = 0
        while not self.load.done.is_set():
            n += 1
            key, index = f"storefront-{client}-{n}", f"s{client}-{n}"
            try:
                response = self.load.call(
                    "POST",
                    "/api/v1/orders",
                    "storefront create",
                    json=order_body(index, "invoice"),
                    headers={"Idempotency-Key": key},
                    session=session,
                )
                assert response.status_code in (200, 201), response.text
                self.load.created[key] = response.json()["reference"]
            except AssertionError as error:
                self.load.failures.append(f"storefront order {index}: {error}")
            time.sleep(PACE_SECONDS)


@pytest.fixture
def infrastructure(tmp_path):
    vhost, amqp_uri = create_vhost("oms-faults")
    database, database_url = create_database("oms_faults")
    for _, directory, _ in SERVICES:
        if (directory / "alembic.ini").exists():
            upgrade(directory, database_url)
    yield vhost, amqp_uri, database, database_url
    drop_database(database)
    delete_vhost(vhost)


def test_two_replicas_survive_faults_with_nothing_lost_or_doubled(infrastructure, tmp_path):
    vhost, amqp_uri, database, database_url = infrastructure
    psp = FakePSP(stripe_webhook_secret=STRIPE_SECRET)
    psp.start()
    (tmp_path / "mail").mkdir()
    smtp = SmtpSink(tmp_path / "mail")
    smtp.start()
    env = suite_environment(
        amqp_uri,
        database_url,
        tmp_path,
        OMS_BOOTSTRAP_ADMIN_TOKEN=TOKEN,
        OMS_SMTP_HOST="127.0.0.1",
        OMS_EXPORTS_INTERNAL_TOKEN="faults-internal-token",
        OMS_SMTP_PORT=smtp.port,
        OMS_STRIPE_API_KEY=psp.stripe_api_key,
        OMS_STRIPE_API_BASE=psp.base_url,
        OMS_STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        OMS_MAX_WORKERS=4,
        OMS_OUTBOX_POLL_SECONDS=0.5,
        OMS_MAIL_RETRY_BASE_SECONDS=1,
        OMS_MAIL_RETRY_MAX_SECONDS=4,
        OMS_MAIL_MAX_ATTEMPTS=200,
        OMS_MAIL_SEND_LEASE_SECONDS=20,
        OMS_INBOX_RETRY_BASE_SECONDS=1,
        OMS_LOG_LEVEL="WARNING",
        OMS_RPC_TIMEOUT_SECONDS=10,
    )
    cluster = Cluster(env, tmp_path)
    probe = Probe(database_url)
    faults = collections.Counter()
    try:
        cluster.start()  # both replicas of everything at once, as an orchestrator would
        up = wait_until(lambda: all(_healthy(base) for base in cluster.gateways), timeout=120)
        assert up, "the cluster did not come up\n" + cluster.log_tail()

        load = Load(cluster, psp)
        worker = threading.Thread(target=load.run, daemon=True)
        worker.start()
        storefront = Storefront(load)
        storefront.start()
        started = time.monotonic()

        time.sleep(6)
        faults["broker connections closed"] += close_vhost_connections(vhost)
        time.sleep(4)
        smtp.stop()  # the SMTP server gone for a while
        time.sleep(15)
        waiting_for_smtp = probe.scalar("notifications", "SELECT count(*) FROM mails WHERE status = 'queued'")
        smtp.start()
        faults["SMTP down (s)"] = 15
        time.sleep(3)
        for service, _, _ in SERVICES:  # kill -9 every service in turn
            replica = cluster.replicas[(service, "a")]
            replica.kill9()
            faults[f"kill -9 {service}"] += 1
            time.sleep(2)
            replica.start()
            time.sleep(3)
        if REAL_RESTARTS:
            restart_database()
            faults["PostgreSQL restarted"] += 1
            time.sleep(5)
            restart_broker()
            faults["RabbitMQ restarted"] += 1
        else:
            faults["database backends terminated"] += terminate_database_backends(database)
            time.sleep(5)
            faults["broker connections closed"] += close_vhost_connections(vhost)

        assert load.done.wait(LOAD_MAX_SECONDS + REQUEST_PATIENCE * 3), "the load did not finish"
        assert storefront.join(REQUEST_PATIENCE * 2), "the storefronts did not finish"
        load_seconds = time.monotonic() - started
        assert not load.failures, load.failures
        assert not cluster.dead(), f"dead replicas: {cluster.dead()}\n" + cluster.log_tail()

        expected_orders = len(load.created)
        shipped, card = set(load.shipped), set(load.card)

        def settled():
            status = dict(probe.rows("orders", "SELECT reference, status FROM orders"))
            paid = dict(probe.rows("orders", "SELECT reference, payment_status FROM orders"))
            if any(status.get(r) != "shipped" for r in shipped):
                return False
            if any(status.get(r) != "new" or paid.get(r) != "paid" for r in card):
                return False
            if sum(backlogs(probe).values()):
                return False
            if probe.scalar(
                "payments", "SELECT count(*) FROM webhook_inbox WHERE status NOT IN ('applied', 'ignored')"
            ):
                return False
            unsent = probe.scalar("notifications", "SELECT count(*) FROM mails WHERE status <> 'sent'")
            mails = probe.scalar("notifications", "SELECT count(*) FROM mails")
            return unsent == 0 and mails >= expected_orders + len(shipped) and len(smtp.messages()) >= mails

        recovered = wait_until(settled, timeout=RECOVERY_SECONDS, interval=2)
        if recovered:  # count only once nothing more can come: a wrong second effect shows then
            drain(
                vhost,
                [service for service, _, _ in SERVICES],
                lambda: sum(backlogs(probe).values()) == 0,
                lambda: (
                    probe.scalar(
                        "payments", "SELECT count(*) FROM webhook_inbox WHERE status NOT IN ('applied', 'ignored')"
                    )
                    == 0
                ),
                lambda: probe.scalar("notifications", "SELECT count(*) FROM mails WHERE status = 'queued'") == 0,
                timeout=120,
                interval=1,
            )

        counts = final_counts(probe, smtp, load, vhost)
        numbers = counts.pop("_invoice numbers")
        counts["invoice number range"] = f"{numbers[0]}..{numbers[-1]}" if numbers else "none"
        counts["mails waiting while SMTP was down"] = waiting_for_smtp
        counts.update(
            {
                "load seconds": round(load_seconds),
                "faults": dict(faults),
                "retried requests": dict(load.retries),
                "replica starts": {r.name: r.starts for r in cluster.replicas.values()},
            }
        )
        print("\nFAULT SUITE COUNTS\n" + json.dumps(counts, indent=2, default=str))
        assert recovered, "did not settle:\n" + json.dumps(counts, indent=2, default=str)

        # every order exists once, with its payment record
        assert counts["storefront orders"] > 0
        assert counts["orders"] == counts["distinct references"] == expected_orders
        assert counts["payment records"] == expected_orders
        # what a client saw of the faults: retried 503s and connections to a killed replica, no other 5xx
        assert not [kind for kind in load.retries if re.search(r" 5\d\d$", kind) and not kind.endswith(" 503")]
        assert counts["orders per customer"] == {1}
        assert counts["exports copies"] == expected_orders
        # every webhook applied once
        assert counts["card orders paid"] == len(card)
        assert counts["paid transitions per card order"] == {1}
        assert counts["inbox rows"] == counts["distinct inbox events"] == len(load.webhook_events)
        assert counts["payment_pending -> new per card order"] == {1}
        # every mail sent once
        assert counts["mails unsent"] == 0
        assert counts["mails by kind"].get("order_confirmation") == expected_orders
        assert counts["mails by kind"].get("shipping_confirmation") == len(shipped)
        assert counts["smtp messages"] == counts["mails"] == counts["distinct smtp events"]
        # no outbox, inbox or parked backlog
        assert sum(counts["outbox backlog"].values()) == 0
        assert counts["inbox pending"] == 0
        assert counts["parked"] == 0, counts["parked queues"]
        # invoice numbers unique and gapless
        assert len(numbers) == len(set(numbers)) == counts["invoice numbers"]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        # the faults really happened and really hit: connections closed, mails deferred
        assert sum(faults[f"kill -9 {service}"] for service, _, _ in SERVICES) == len(SERVICES)
        assert faults["broker connections closed"] > 0
        assert (
            (faults["PostgreSQL restarted"] and faults["RabbitMQ restarted"])
            if REAL_RESTARTS
            else faults["database backends terminated"] > 0
        )
        assert waiting_for_smtp > 0
    finally:
        cluster.stop()
        smtp.stop()
        psp.stop()


def _healthy(base):
    try:
        return requests.get(base + "/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def backlogs(probe):
    return {
        service: probe.scalar(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        for service, _, _ in SERVICES
    }


def final_counts(probe, smtp, load, vhost):
    orders = probe.rows(
        "orders",
        "SELECT reference, invoice_number FROM orders WHERE reference = ANY(%s)",
        (list(load.created.values()),),
    )
    per_customer = probe.rows(
        "orders",
        "SELECT c.email, count(*) FROM orders o JOIN customers c "
        "ON c.id = o.customer_id WHERE c.email LIKE 'fault-%%' GROUP BY c.email",
    )
    card = list(load.card)
    paid = probe.rows(
        "payments",
        "SELECT order_reference, count(*) FROM payment_audit WHERE to_status = 'paid' "
        "AND action <> 'psp_event_ignored' AND order_reference = ANY(%s) "
        "GROUP BY order_reference",
        (card,),
    )
    moved = probe.rows(
        "orders",
        "SELECT o.reference, count(*) FROM order_history h JOIN orders o ON "
        "o.id = h.order_id WHERE h.action = 'status_changed' AND h.from_status = "
        "'payment_pending' AND h.to_status = 'new' GROUP BY o.reference",
    )
    inbox = probe.rows("payments", "SELECT provider_event_id FROM webhook_inbox")
    mails = probe.rows("notifications", "SELECT event_id, kind, status FROM mails")
    smtp_events = collections.Counter(message["X-OMS-Event-ID"] for message, _ in smtp.messages())
    queues = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    parked = {
        name: int(count)
        for name, count in (line.split("\t") for line in queues.splitlines() if "\t" in line)
        if name.endswith(".parked")
    }
    numbers = sorted(int(re.sub(r"\D", "", number)) for _, number in orders if number)
    return {
        "orders": len(orders),
        "distinct references": len({reference for reference, _ in orders}),
        "orders per customer": {count for _, count in per_customer},
        "storefront orders": len([key for key in load.created if key.startswith("storefront-")]),
        "payment records": probe.scalar(
            "payments", "SELECT count(*) FROM payments WHERE order_reference = ANY(%s)", (list(load.created.values()),)
        ),
        "exports copies": probe.scalar(
            "exports", "SELECT count(*) FROM export_orders WHERE reference = ANY(%s)", (list(load.created.values()),)
        ),
        "card orders": len(card),
        "invoice orders shipped": len(load.shipped),
        "card orders paid": probe.scalar(
            "orders", "SELECT count(*) FROM orders WHERE payment_status = 'paid' AND reference = ANY(%s)", (card,)
        ),
        "paid transitions per card order": {count for _, count in paid} | ({0} if len(paid) < len(card) else set()),
        "payment_pending -> new per card order": {count for reference, count in moved if reference in set(card)}
        | ({0} if len([r for r, _ in moved if r in set(card)]) < len(card) else set()),
        "webhooks delivered (incl. duplicates)": 2 * len(load.webhook_events),
        "inbox rows": len(inbox),
        "distinct inbox events": len({e for (e,) in inbox}),
        "inbox pending": probe.scalar(
            "payments", "SELECT count(*) FROM webhook_inbox WHERE status NOT IN ('applied', 'ignored')"
        ),
        "mails": len(mails),
        "mails unsent": len([m for m in mails if m[2] != "sent"]),
        "mails by kind": dict(collections.Counter(kind for _, kind, _ in mails)),
        "smtp messages": sum(smtp_events.values()),
        "distinct smtp events": len(smtp_events),
        "smtp duplicates": {event: n for event, n in smtp_events.items() if n > 1},
        "outbox backlog": backlogs(probe),
        "parked": sum(parked.values()),
        "parked queues": {k: v for k, v in parked.items() if v},
        "invoice numbers": len(numbers),
        "_invoice numbers": numbers,
    }
