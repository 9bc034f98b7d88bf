"""Order intake at sale scale: orders created through the gateway by 1, 16 and 64 HTTP clients.

    python bench/intake.py                       # 2,000 orders per concurrency
    python bench/intake.py --orders 300          # quicker, noisier
    python bench/intake.py --concurrency 16      # one concurrency only

Starts the suite the way `make run` does (tools/run.py: every service, migrations, the
gateway) on a private RabbitMQ vhost and a private PostgreSQL database (both removed at the
end), with a local SMTP sink (aiosmtpd, its own process, counting what it accepts), plus
`bench_ping` (bench/ping_service.py) for the RPC baseline. For each concurrency:

  * create    — N orders (mixed payment methods, 1–6 lines) POSTed by that many clients;
                accepted orders/s, create p50/p99;
  * end to end — from the first POST until every order has its payment record, its export
                copy and its confirmation mail accepted by the SMTP sink;
  * rpc       — trivial nameko RPC (`bench_ping.ping`) calls/s at the same concurrency;
  * sql       — the bare INSERTs of the same rows (order + lines, one transaction per order)
                into a scratch copy of the tables, from as many connections (at most
                ``--sql-connections``, 16 by default: the suite itself holds ~60 of a shared
                server's 100);
  * cpu       — CPU ms per order of each process (gateway, orders, payments, notifications,
                exports, the PostgreSQL backends of this database, RabbitMQ), from /proc;
  * waits     — what the database backends were doing while the orders came in, sampled
                from pg_stat_activity every 20 ms: on CPU, waiting for a lock (and in which
                statement), for WAL, or idle in a transaction (waiting for the service).

The machine is shared: the ratios to the same run's baselines are what the targets
(DESIGN.md §6) are about. Results also go to var/bench/intake-<time>.json.
"""

import argparse
import collections
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import psycopg2

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from list_search import Budget, rpc_load, run_clients  # noqa: E402
from smtp_counter import SmtpCounter  # noqa: E402

sys.path.insert(0, str(REPO / "tools"))
from fake_psp import FakePSP  # noqa: E402

from tests.support.suite import RunningSuite, private_infrastructure, stripe_settings, suite_environment  # noqa: E402

METHODS = [("invoice", 40), ("card", 25), ("paypal", 15), ("prepayment", 15), ("cash_on_delivery", 5)]
PROCESSES = ("gateway", "orders", "payments", "notifications", "exports")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- orders


def order_bodies(count, seed):
    rng = random.Random(seed)
    methods = [method for method, weight in METHODS for _ in range(weight)]
    bodies = []
    for index in range(count):
        tag = uuid.uuid4().hex[:10]
        address = {
            "first_name": "Anna",
            "last_name": f"Muster {index}",
            "street": "Bahnhofstrasse 1",
            "postal_code": "8001",
            "city": "Zürich",
            "country": "CH",
        }
        lines = [
            {
                "article_number": f"ART-{rng.randrange(1, 2000):06d}",
                "name": f"Article {n}",
                "quantity": rng.choice((1, 1, 1, 2, 2, 3)),
                "unit_price": f"{rng.randrange(100, 20000) / 100:.2f}",
            }
            for n in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6)))
        ]
        bodies.append(
            {
                "customer": {
                    "email": f"buyer-{tag}@example.com",
                    "first_name": "Anna",
                    "last_name": f"Muster {index}",
                    "language": rng.choice(("de", "fr", "it", "en")),
                },
                "billing_address": address,
                "lines": lines,
                "shipping_cost": "8.00",
                "currency": rng.choice(("CHF",) * 6 + ("EUR",)),
                "payment_method": rng.choice(methods),
            }
        )
    return bodies


def create_orders(address, token, bodies, concurrency):
    host, port = address.rsplit(":", 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    encoded = [json.dumps(body) for body in bodies]
    references = [None] * len(bodies)

    def make_client():
        return http.client.HTTPConnection(host, int(port), timeout=60)

    def work(client, number):
        client.request("POST", "/api/v1/orders", body=encoded[number], headers=headers)
        response = client.getresponse()
        body = response.read()
        if response.status != 201:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
        references[number] = json.loads(body)["reference"]

    result = run_clients(concurrency, Budget(0, len(bodies), 10**6), make_client, work)
    return result, [reference for reference in references if reference]


# ---------------------------------------------------------------- processes and CPU


def _stat(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12]))  # ppid, utime + stime in ticks


def _cmdline(pid):
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def process_groups(suite_pid, ping_pid, database):
    """pid → group name: the suite's services, bench_ping, this database's backends, RabbitMQ."""
    groups = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            ppid, _ = _stat(pid)
            command = _cmdline(pid)
        except (OSError, IndexError, ValueError):
            continue
        if ppid == suite_pid:
            for name in PROCESSES:
                if f"{name}.service:" in command:
                    groups[pid] = name
        elif pid == ping_pid:
            groups[pid] = "bench_ping"
        elif command.startswith("postgres:") and f" {database} " in command:
            groups[pid] = "postgresql"
        elif "beam.smp" in command and "rabbit" in command:
            groups[pid] = "rabbitmq"
    return groups


def cpu_ticks(groups_of):
    ticks = {}
    for pid, name in groups_of().items():
        try:
            ticks[(pid, name)] = _stat(pid)[1]
        except (OSError, IndexError, ValueError):
            pass
    return ticks


def cpu_ms_per(before, after, count):
    per_tick = 1000 / os.sysconf("SC_CLK_TCK")
    totals = collections.Counter()
    for key, value in after.items():
        totals[key[1]] += (value - before.get(key, 0)) * per_tick
    return {name: round(total / count, 2) for name, total in sorted(totals.items())}


# ---------------------------------------------------------------- the database's view


class WaitSampler:
    """Samples pg_stat_activity of one database: what its backends do while orders come in."""

    def __init__(self, url, interval=0.02):
        self.url, self.interval = url, interval
        self.counts = collections.Counter()
        self.lock_statements = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(5)

    def _run(self):
        connection = psycopg2.connect(self.url)
        connection.autocommit = True
        database = urlparse(self.url).path.lstrip("/")
        with connection.cursor() as cursor:
            while not self._stop.is_set():
                cursor.execute(
                    "SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 90)"
                    " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                    " AND state IN ('active', 'idle in transaction')",
                    (database,),
                )
                self.samples += 1
                for state, wait_type, wait_event, query in cursor.fetchall():
                    if state == "idle in transaction":
                        what = "idle in transaction (service working)"
                    elif wait_type is None:
                        what = "running (CPU)"
                    elif wait_type == "Lock":
                        what = f"waiting for a lock ({wait_event})"
                        self.lock_statements[query] += 1
                    else:
                        what = f"{wait_type}: {wait_event}"
                    self.counts[what] += 1
                self._stop.wait(self.interval)
        connection.close()

    def report(self):
        """Busy backends on average per sample, by what they were doing."""
        samples = max(1, self.samples)
        return {
            "by_state": {what: round(n / samples, 2) for what, n in self.counts.most_common()},
            "lock_waits_by_statement": {
                query: round(n / samples, 2) for query, n in self.lock_statements.most_common(6)
            },
        }


# ---------------------------------------------------------------- downstream effects


def downstream_counts(cursor, references):
    cursor.execute("SELECT count(*) FROM payments.payments WHERE order_reference = ANY(%s)", (references,))
    payments = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM exports.export_orders WHERE reference = ANY(%s)", (references,))
    exports = cursor.fetchone()[0]
    return payments, exports


def wait_downstream(url, references, sink, mails_before, timeout):
    """Seconds until every order has its payment, its export copy and its mail at the sink."""
    connection = psycopg2.connect(url)
    connection.autocommit = True
    deadline = time.monotonic() + timeout
    try:
        with connection.cursor() as cursor:
            while True:
                payments, exports = downstream_counts(cursor, references)
                mails = sink.count - mails_before
                if payments >= len(references) and exports >= len(references) and mails >= len(references):
                    return time.perf_counter(), {"payments": payments, "exports": exports, "mails": mails}
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"downstream not done after {timeout} s: {payments} payments, "
                        f"{exports} export copies, {mails} mails of {len(references)}"
                    )
                time.sleep(0.05)
    finally:
        connection.close()


# ---------------------------------------------------------------- bare SQL baseline


def prepare_sql_baseline(url):
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS bench_intake")
        for table in ("orders", "order_lines"):
            # the same columns, defaults and indexes; no foreign keys (nothing else to point at)
            cursor.execute(f"CREATE TABLE IF NOT EXISTS bench_intake.{table} (LIKE orders.{table} INCLUDING ALL)")
    connection.close()


def sql_inserts(url, bodies, concurrency):
    statements = []
    for body in bodies:
        reference = f"S{uuid.uuid4().hex[:20]}"
        total = sum(line["quantity"] * float(line["unit_price"]) for line in body["lines"]) + 8.0
        statements.append((reference, body, round(total, 2)))

    def make_client():
        return psycopg2.connect(url)

    def work(connection, number):
        reference, body, total = statements[number]
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_intake.orders (reference, customer_id, customer_email, customer_name, language,"
                " status, payment_status, payment_status_rank, payment_method, currency, subtotal, shipping_cost,"
                " total, billing_address, shipping_address, paused, version, created_at, updated_at, submitted_at,"
                " invoice_number_external) VALUES (%s, 1, %s, 'Anna Muster', 'de', 'new', 'unpaid', 0, %s, %s, %s,"
                " 8.00, %s, %s, %s, false, 1, now(), now(), now(), false) RETURNING id",
                (
                    reference,
                    body["customer"]["email"],
                    body["payment_method"],
                    body["currency"],
                    total - 8.0,
                    total,
                    json.dumps(body["billing_address"]),
                    json.dumps(body["billing_address"]),
                ),
            )
            order_id = cursor.fetchone()[0]
            cursor.executemany(
                "INSERT INTO bench_intake.order_lines (order_id, position, article_number, name, quantity,"
                " unit_price, line_total) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        order_id,
                        n,
                        line["article_number"],
                        line["name"],
                        line["quantity"],
                        line["unit_price"],
                        round(line["quantity"] * float(line["unit_price"]), 2),
                    )
                    for n, line in enumerate(body["lines"], start=1)
                ],
            )
        connection.commit()

    return run_clients(concurrency, Budget(0, len(statements), 10**6), make_client, work)


# ---------------------------------------------------------------- one concurrency


def measure(suite, sink, url, groups_of, token, amqp_uri, concurrency, count, seed, sql_connections):
    bodies = order_bodies(count, seed)
    mails_before = sink.count
    before = cpu_ticks(groups_of)
    with WaitSampler(url) as sampler:
        started = time.perf_counter()
        created, references = create_orders(suite.env["OMS_GATEWAY_ADDRESS"], token, bodies, concurrency)
    done_at, effects = wait_downstream(url, references, sink, mails_before, timeout=max(120, count))
    after = cpu_ticks(groups_of)
    end_to_end = len(references) / (done_at - started)
    cpu = cpu_ms_per(before, after, max(1, len(references)))
    cpu.pop("bench_ping", None)
    options = SimpleNamespace(
        concurrency=concurrency, requests=max(500, count), seconds=10.0, warmup=min(100, count), think_ms=0.0
    )
    ping = rpc_load(amqp_uri, "bench_ping", "ping", [[]], options)
    sql = sql_inserts(url, order_bodies(count, seed + 1), min(concurrency, sql_connections))
    sql["connections"] = min(concurrency, sql_connections)
    return {
        "concurrency": concurrency,
        "orders": count,
        "created": created,
        "end_to_end_per_second": end_to_end,
        "effects": effects,
        "cpu_ms_per_order": cpu,
        "database_activity": sampler.report(),
        "rpc": ping,
        "sql": sql,
    }


def print_results(results):
    print()
    print(
        f"{'clients':>7} {'orders':>6} {'accepted/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'e2e/s':>8} "
        f"{'rpc/s':>8} {'e2e/rpc':>8} {'sql/s':>8} {'sql con':>7} {'errors':>6}"
    )
    for r in results:
        c = r["created"]
        print(
            f"{r['concurrency']:>7} {r['orders']:>6} {c['per_second']:>10.1f} {c['p50_ms']:>8.1f} "
            f"{c['p99_ms']:>8.1f} {r['end_to_end_per_second']:>8.1f} {r['rpc']['per_second']:>8.0f} "
            f"{r['end_to_end_per_second'] / r['rpc']['per_second']:>8.2f} {r['sql']['per_second']:>8.0f} "
            f"{r['sql']['connections']:>7} {c['errors']:>6}"
        )
    names = sorted({name for r in results for name in r["cpu_ms_per_order"]})
    print("\nCPU ms per order")
    print(f"{'clients':>7} " + " ".join(f"{name[:13]:>13}" for name in names) + f" {'total':>8}")
    for r in results:
        cpu = r["cpu_ms_per_order"]
        print(
            f"{r['concurrency']:>7} "
            + " ".join(f"{cpu.get(name, 0):>13.2f}" for name in names)
            + f" {sum(cpu.values()):>8.2f}"
        )
    for r in results:
        activity = r["database_activity"]
        print(f"\ndatabase backends while {r['concurrency']} clients created orders (busy backends, mean):")
        for what, value in activity["by_state"].items():
            print(f"  {value:6.2f}  {what}")
        for query, value in activity["lock_waits_by_statement"].items():
            print(f"  {value:6.2f}    lock wait in: {query}")
    by = {r["concurrency"]: r for r in results}
    print("\ntargets (DESIGN.md §6)")
    if 16 in by:
        r = by[16]
        ratio = r["end_to_end_per_second"] / r["rpc"]["per_second"]
        print(
            f"  {'ok' if ratio >= 0.30 else 'not ok':<7} end to end at 16 clients >= 0.30 x trivial RPC/s "
            f"({r['end_to_end_per_second']:.1f} / {r['rpc']['per_second']:.0f} = {ratio:.2f})"
        )
        p50, p99 = r["created"]["p50_ms"], r["created"]["p99_ms"]
        print(
            f"  {'ok' if p99 <= 3 * p50 else 'not ok':<7} create p99 <= 3 x p50 at 16 clients "
            f"({p99:.0f} ms vs {p50:.0f} ms = {p99 / p50:.1f} x)"
        )
    if 16 in by and 64 in by:
        low, high = by[16]["end_to_end_per_second"], by[64]["end_to_end_per_second"]
        print(
            f"  {'ok' if high >= low else 'not ok':<7} 64 clients >= 16 clients' throughput end to end "
            f"({high:.1f} vs {low:.1f} orders/s)"
        )
    errors = sum(r["created"]["errors"] for r in results)
    print(f"  {'ok' if errors == 0 else 'not ok':<7} every create answered 201 ({errors} errors)")


def check_numbers(url, results):
    """Invoice numbers gapless and unique, references unique, over everything this run created."""
    connection = psycopg2.connect(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT prefix FROM orders.number_sequences WHERE name = 'invoice'")
        prefix = cursor.fetchone()[0] or ""
        cursor.execute("SELECT reference, invoice_number FROM orders.orders")
        rows = cursor.fetchall()
    connection.close()
    references = [reference for reference, _ in rows]
    invoices = sorted(int(number[len(prefix) :]) for _, number in rows if number)
    gapless = invoices == list(range(invoices[0], invoices[0] + len(invoices))) if invoices else True
    print(f"  {'ok' if gapless else 'not ok':<7} invoice numbers gapless and unique ({len(invoices)} issued)")
    unique = len(set(references)) == len(references)
    print(f"  {'ok' if unique else 'not ok':<7} references unique ({len(references)} orders)")
    return gapless and unique


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000, help="orders per concurrency")
    parser.add_argument("--concurrency", type=int, action="append", help="default: 1, 16 and 64")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--sql-connections", type=int, default=16, help="most connections of the SQL baseline")
    parser.add_argument("--keep-logs", action="store_true", help="print the suite's log tail at the end")
    args = parser.parse_args()
    concurrencies = args.concurrency or [1, 16, 64]

    token = "oms_bench_" + uuid.uuid4().hex
    workdir = Path(tempfile.mkdtemp(prefix="oms-intake-bench-"))
    suite = ping = sink = None
    results = []
    with private_infrastructure("oms-bench-intake") as private:
        amqp_uri, url, vhost, database = private
        # card and PayPal orders need their provider configured: the local fake speaks Stripe's and
        # PayPal's wire format (the PaymentIntent and PayPal order opened at submission are part of the cost)
        psp = FakePSP(stripe_webhook_secret="whsec_bench")
        psp.start()
        try:
            env = suite_environment(
                amqp_uri,
                url,
                workdir,
                OMS_BOOTSTRAP_ADMIN_TOKEN=token,
                OMS_SMTP_HOST="127.0.0.1",
                OMS_LOG_LEVEL="WARNING",
                PYTHONWARNINGS="ignore",
                **stripe_settings(psp),
                OMS_PAYPAL_API_BASE=psp.base_url,
                OMS_PAYPAL_CLIENT_ID=psp.paypal_client_id,
                OMS_PAYPAL_CLIENT_SECRET=psp.paypal_client_secret,
                OMS_PAYPAL_WEBHOOK_ID=psp.paypal_webhook_id,
            )
            sink = SmtpCounter(int(env["OMS_SMTP_PORT"]))
            log(f"database {database}, vhost {vhost}, SMTP sink on {sink.port}; starting the suite (tools/run.py)")
            suite = RunningSuite(env)
            if not suite.wait_for("OMS is up", timeout=180):
                raise SystemExit("the suite did not start:\n" + suite.tail(80))
            ping = subprocess.Popen(
                [sys.executable, "-m", "nameko", "run", "--broker", amqp_uri, "ping_service:BenchPingService"],
                cwd=str(BENCH),
                env={**env, "PYTHONPATH": str(BENCH)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            prepare_sql_baseline(url)
            database_name = urlparse(url).path.lstrip("/")

            def groups_of():
                return process_groups(suite.process.pid, ping.pid, database_name)

            # warm up: a few orders through everything, and bench_ping answering
            warm, _ = create_orders(env["OMS_GATEWAY_ADDRESS"], token, order_bodies(20, args.seed - 1), 4)
            if warm["errors"]:
                raise SystemExit(f"warm-up orders failed: {warm.get('error_sample')}\n{suite.tail(60)}")
            rpc_load(
                amqp_uri,
                "bench_ping",
                "ping",
                [[]],
                SimpleNamespace(concurrency=1, requests=20, seconds=30, warmup=0, think_ms=0.0),
            )
            for concurrency in concurrencies:
                log(f"{args.orders} orders from {concurrency} clients")
                result = measure(
                    suite,
                    sink,
                    url,
                    groups_of,
                    token,
                    amqp_uri,
                    concurrency,
                    args.orders,
                    args.seed + concurrency,
                    args.sql_connections,
                )
                created = result["created"]
                log(
                    f"  accepted {created['per_second']:.1f}/s (p50 {created['p50_ms']:.0f} ms, p99 "
                    f"{created['p99_ms']:.0f} ms), end to end {result['end_to_end_per_second']:.1f}/s, "
                    f"rpc {result['rpc']['per_second']:.0f}/s, sql {result['sql']['per_second']:.0f}/s"
                )
                if created.get("error_sample"):
                    log(f"  errors: {created['error_sample']}")
                results.append(result)
            print_results(results)
            numbers_ok = check_numbers(url, results)
        finally:
            if ping is not None:
                ping.terminate()
                ping.wait(20)
            if suite is not None:
                suite.stop()
                if args.keep_logs:
                    print(suite.tail(100))
            if sink is not None:
                sink.stop()
            psp.stop()
    out = REPO / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"intake-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"orders": args.orders, "results": results}, indent=2, default=str))
    print(f"\nwritten to {path.relative_to(REPO)}")
    return 0 if numbers_ok else 1


if __name__ == "__main__":
    sys.exit(main())
