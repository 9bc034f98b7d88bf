"""Order list and search under load, each figure beside its baselines (DESIGN.md §6).

    python bench/list_search.py                       # against the database bench/generate.py filled
    python bench/list_search.py --requests 500 --seconds 5   # quicker, noisier

Starts, against that database and a private RabbitMQ vhost (created here, deleted at the end):
the orders service, the gateway (when the repository has one) and a trivial nameko service
(``bench_ping``), each as a ``nameko run`` subprocess the way ``tools/run.py`` starts them.
Then, for each case (newest 50; status filter; payment-status filter; both; search by exact
reference; search by exact invoice number; currency + country; the search field by surname,
e-mail and article number; page 1 against deep pages) it measures with 16 concurrent clients:

  * HTTP  — ``GET /api/v1/orders?...`` through the gateway (keep-alive connections, loopback);
  * RPC   — ``orders.list_orders`` called directly over nameko RPC (the gateway left out);
  * SQL   — the very statements the orders service issues for that request (captured from
            ``orders.reads.list_orders``), run on 16 psycopg2 connections;

and once the trivial RPC round trip ``bench_ping.ping`` (p50/p99 and calls/s) and the trivial
HTTP → RPC round trip ``GET /bench/ping`` (bench-only gateway variant), the floor against which
``list_targets`` judges the list's targets. The table shows
p50/p99 of the HTTP figure, its target, the direct-SQL baseline and the ratio HTTP/SQL (p50),
then the RPC and ping figures. Everything also goes to var/bench/list_search-<time>.json.
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

import list_targets
import psycopg2

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/oms_bench"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
SCHEMA = "orders"
PAGE_SIZE = 50

LIST_TARGET = (15.0, 50.0)  # p50, p99 in ms
SEARCH_TARGET = (10.0, None)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- the cases


def build_cases(url, samples, seed):
    """(name, kind, target, [query dicts]) — filter values rotate so the cache is not one page."""
    rnd = random.Random(seed)
    connection = psycopg2.connect(url, options=f"-csearch_path={SCHEMA}")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM orders")
        top = cursor.fetchone()[0] or 0
        ids = [rnd.randint(1, top) for _ in range(samples * 2)]
        cursor.execute("SELECT reference, invoice_number FROM orders WHERE id = ANY(%s)", (ids,))
        rows = cursor.fetchall()
    connection.close()
    references = [reference for reference, _ in rows][:samples]
    invoices = [invoice for _, invoice in rows if invoice][:samples]
    if not references:
        raise SystemExit("the bench database holds no orders: run bench/generate.py first")
    size = {"page_size": PAGE_SIZE}
    return [
        ("list newest 50", "list", LIST_TARGET, [dict(size)]),
        (
            "list, status filter",
            "list",
            LIST_TARGET,
            [{**size, "status": [s]} for s in ("new", "in_progress", "shipped", "completed", "dunning_1")],
        ),
        (
            "list, payment_status filter",
            "list",
            LIST_TARGET,
            [{**size, "payment_status": [p]} for p in ("unpaid", "announced", "paid", "pending")],
        ),
        (
            "list, status + payment_status",
            "list",
            LIST_TARGET,
            [
                {**size, "status": [s], "payment_status": [p]}
                for s, p in (
                    ("shipped", "unpaid"),
                    ("dunning_1", "unpaid"),
                    ("new", "paid"),
                    ("completed", "refunded"),
                    ("completed", "unpaid"),
                )
            ],
        ),
        ("search by reference", "search", SEARCH_TARGET, [{**size, "q": r} for r in references]),
        ("search by invoice number", "search", SEARCH_TARGET, [{**size, "q": i} for i in invoices]),
    ] + list_targets.new_cases(url, SCHEMA, samples, seed, PAGE_SIZE, LIST_TARGET, SEARCH_TARGET)


def query_string(query):
    pairs = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, item))
    return urlencode(pairs)


@contextlib.contextmanager
def capturing_orders_source(url):
    """A ``SessionSource`` on the orders schema of ``url`` and the list that every statement it
    runs is appended to, with its parameters, as ``(statement, parameters)``."""
    from sqlalchemy import event

    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import database_url
    from orders.models import infrastructure

    engine = make_engine(database_url(url, "orders"), schema=SCHEMA, pool_size=1)
    captured = []

    @event.listens_for(engine, "before_cursor_execute")
    def _capture(_conn, _cursor, statement, parameters, _context, _executemany):
        captured.append((statement, parameters))

    try:
        yield SessionSource(engine, infrastructure), captured
    finally:
        engine.dispose()


def capture_statements(url, queries_by_case, variant=None):
    """The SQL ``orders.reads.list_orders`` (``orders.queries`` in older code) runs for each
    query, with its parameters."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    if variant:
        sys.path.insert(0, str(BENCH / "variants"))
        __import__(f"orders_{variant}")  # replaces orders.queries.list_orders
    try:
        from orders import reads as queries
    except ImportError:  # the code before the reads moved out of queries.py
        from orders import queries

    result = []
    with capturing_orders_source(url) as (source, captured):
        for query_list in queries_by_case:
            statements = []
            for query in query_list:
                captured.clear()
                try:
                    queries.list_orders(source, query)
                except Exception as exc:  # noqa: BLE001 - a parameter this code does not know: its figures show errors
                    log(f"  cannot capture the SQL of {query}: {exc!r}"[:200])
                statements.append(list(captured) or [("SELECT 1", None)])
            result.append(statements)
    return result


# ---------------------------------------------------------------- statistics


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * (len(sorted_values) - 1)))))
    return sorted_values[index]


def summary(latencies, wall, errors):
    values = sorted(latencies)
    return {
        "count": len(values),
        "errors": errors,
        "p50_ms": percentile(values, 0.50) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "mean_ms": (statistics.fmean(values) * 1000) if values else float("nan"),
        "max_ms": (values[-1] * 1000) if values else float("nan"),
        "per_second": (len(values) / wall) if wall > 0 else float("nan"),
    }


class Budget:
    """Hands out request numbers to client threads: warm-up first, then a bounded count and time."""

    def __init__(self, warmup, requests, seconds):
        self.warmup, self.requests, self.seconds = warmup, requests, seconds
        self.lock = threading.Lock()
        self.issued = 0
        self.measured_from = None
        self.deadline = None

    def next(self):
        with self.lock:
            if self.issued >= self.warmup + self.requests:
                return None
            if self.issued >= self.warmup:
                now = time.perf_counter()
                if self.measured_from is None:
                    self.measured_from, self.deadline = now, now + self.seconds
                elif now > self.deadline:
                    return None
            self.issued += 1
            return self.issued - 1


def run_clients(concurrency, budget, make_client, work, think=0.0):
    """Runs ``work(client, number)`` from ``concurrency`` threads, each pausing a random
    (exponential, mean ``think`` seconds) time between requests; returns the summary."""
    pause = random.Random(1)
    latencies, errors = [], [0]
    lock = threading.Lock()
    failures = []

    ready = threading.Barrier(concurrency)

    def connect():
        for attempt in range(6):  # a shared PostgreSQL may be out of connection slots for a moment
            try:
                return make_client()
            except Exception as exc:  # noqa: BLE001 - retried, then reported
                if attempt == 5:
                    raise
                log(f"  client could not connect ({str(exc).strip()[:120]}); retrying")
                time.sleep(1 + attempt)

    def thread_main():
        try:
            client = connect()
        except Exception as exc:  # noqa: BLE001 - the figure fails, the run goes on
            with lock:
                errors[0] += 1
                failures.append(f"connect: {exc!r}"[:300])
            ready.abort()
            return
        try:
            ready.wait()  # every client connected before the first request
        except threading.BrokenBarrierError:
            close = getattr(client, "close", None)
            if close:
                close()
            return
        mine = []
        try:
            while True:
                number = budget.next()
                if number is None:
                    break
                began = time.perf_counter()
                try:
                    work(client, number)
                except Exception as exc:  # noqa: BLE001 - counted, first ones reported
                    with lock:
                        errors[0] += 1
                        if len(failures) < 3:
                            failures.append(repr(exc)[:300])
                    client = make_client()
                    continue
                if number >= budget.warmup:
                    mine.append(time.perf_counter() - began)
                if think:
                    time.sleep(pause.expovariate(1.0 / think))
        finally:
            with lock:
                latencies.extend(mine)
            close = getattr(client, "close", None)
            if close:
                close()

    threads = [threading.Thread(target=thread_main, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - (budget.measured_from or time.perf_counter())
    result = summary(latencies, wall, errors[0])
    result["warmup"] = budget.warmup
    if failures:
        result["error_sample"] = failures
    return result


# ---------------------------------------------------------------- the three ways in


def http_load(address, token, queries, options, concurrency=None, requests=None, path=None):
    host, port = address.rsplit(":", 1)
    paths = [path] if path else [f"/api/v1/orders?{query_string(q)}" for q in queries]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def make_client():
        return http.client.HTTPConnection(host, int(port), timeout=30)

    def work(client, number):
        client.request("GET", paths[number % len(paths)], headers=headers)
        response = client.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")

    budget = Budget(min(options.warmup, requests or options.warmup), requests or options.requests, options.seconds)
    think = options.think_ms / 1000 if concurrency is None else 0.0  # the one-client figures never pause
    return run_clients(concurrency or options.concurrency, budget, make_client, work, think)


def sql_load(url, statements, options, concurrency=None, requests=None):
    def make_client():
        return psycopg2.connect(url, options=f"-csearch_path={SCHEMA}")

    def work(connection, number):
        with connection.cursor() as cursor:  # as the service's session: BEGIN, the statements, ROLLBACK
            for statement, parameters in statements[number % len(statements)]:
                cursor.execute(statement, parameters)
                cursor.fetchall()
        connection.rollback()

    budget = Budget(min(options.warmup, requests or options.warmup), requests or options.requests, options.seconds)
    think = options.think_ms / 1000 if concurrency is None else 0.0  # the one-client figures never pause
    return run_clients(concurrency or options.concurrency, budget, make_client, work, think)


def rpc_load(amqp_uri, service, method, calls, options, requests=None, concurrency=None):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(calls, handle)
        args_file = handle.name
    try:
        command = [
            sys.executable,
            str(BENCH / "rpc_load.py"),
            "--amqp-uri",
            amqp_uri,
            "--service",
            service,
            "--method",
            method,
            "--args-file",
            args_file,
            "--concurrency",
            str(concurrency or options.concurrency),
            "--requests",
            str(requests or options.requests),
            "--seconds",
            str(options.seconds),
            "--warmup",
            str(options.warmup),
            "--think-ms",
            str(options.think_ms if concurrency is None else 0),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=options.seconds * 4 + 120)
        if completed.returncode != 0:
            raise RuntimeError(f"rpc_load failed: {completed.stderr[-2000:]}")
        data = json.loads(completed.stdout)
    finally:
        os.unlink(args_file)
    result = summary(data["latencies"], data["wall"], data["errors"])
    result["warmup"] = options.warmup
    if data.get("error_sample"):
        result["error_sample"] = data["error_sample"]
    return result


# ---------------------------------------------------------------- infrastructure


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Suite:
    """The nameko processes of one run, their private vhost, their logs."""

    def __init__(self, database_url, amqp_base, log_dir):
        self.database_url = database_url
        self.vhost = f"oms-bench-{uuid.uuid4().hex[:10]}"
        base = urlparse(amqp_base)
        self.amqp_uri = urlunparse(base._replace(path="/" + self.vhost))
        self.user = base.username or "guest"
        self.token = "oms_bench_" + secrets.token_urlsafe(24)
        self.address = f"127.0.0.1:{free_port()}"
        self.log_dir = log_dir
        self.processes = {}
        self.vhost_created = False

    def env(self):
        env = dict(os.environ)
        env.update(
            {
                "OMS_DATABASE_URL": self.database_url,
                "OMS_AMQP_URI": self.amqp_uri,
                "OMS_BOOTSTRAP_ADMIN_TOKEN": self.token,
                "OMS_GATEWAY_ADDRESS": self.address,
                "OMS_OPEN_ORDER_SWEEP_SECONDS": "0",  # the data set's open carts stay as generated
                "PYTHONWARNINGS": "ignore",
                # the services' packages, for variants started from bench/variants (make install has them too)
                "PYTHONPATH": os.pathsep.join(
                    [str(REPO / "gateway"), str(REPO / "services" / "orders"), str(REPO / "common")]
                    + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
                ),
            }
        )
        return env

    def __enter__(self):
        rabbitmqctl("add_vhost", self.vhost)
        self.vhost_created = True
        rabbitmqctl("set_permissions", "-p", self.vhost, self.user, ".*", ".*", ".*")
        return self

    def start(self, name, directory, path, config=None):
        command = [sys.executable, "-m", "nameko", "run"]
        command += (
            ["--config", str(config or directory / "config.yml")]
            if (config or (directory / "config.yml").exists())
            else ["--broker", self.amqp_uri]
        )
        command.append(path)
        output = open(self.log_dir / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen(
            command, cwd=str(directory), env=self.env(), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        output.close()

    def cpu_seconds(self):
        """CPU time (user + system) each service process has used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        result = {}
        for name, process in self.processes.items():
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
                result[name] = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError, ValueError):
                result[name] = float("nan")
        return result

    def measured(self, load):
        """Runs ``load()`` and adds the services' CPU milliseconds per measured request to its figure."""
        before = self.cpu_seconds()
        figure = load()
        after = self.cpu_seconds()
        requests = figure["count"] + (figure.get("warmup") or 0)
        if requests:
            figure["cpu_ms_per_request"] = {
                name: round((after[name] - before[name]) * 1000 / requests, 2) for name in after
            }
        return figure

    def check_alive(self):
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with code {process.returncode}:\n{tail}")

    def __exit__(self, *exc_info):
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.vhost_created:
            try:
                rabbitmqctl("delete_vhost", self.vhost)
            except Exception as exc:  # noqa: BLE001 - reported, the run's figures still count
                log(f"could not delete vhost {self.vhost}: {exc}")


def wait_for_rpc(suite, service, options, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        suite.check_alive()
        command = [
            sys.executable,
            str(BENCH / "rpc_load.py"),
            "--amqp-uri",
            suite.amqp_uri,
            "--service",
            service,
            "--method",
            "ping",
            "--concurrency",
            "1",
            "--requests",
            "1",
            "--warmup",
            "0",
            "--timeout",
            "5",
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if completed.returncode == 0 and json.loads(completed.stdout)["errors"] == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{service} did not answer ping within {timeout} s")


def wait_for_http(suite, timeout=90):
    host, port = suite.address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        suite.check_alive()
        try:
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", "/api/v1/orders?page_size=1", headers={"Authorization": f"Bearer {suite.token}"})
            response = connection.getresponse()
            body = response.read()
            connection.close()
            if response.status == 200:
                return json.loads(body)
            last = f"HTTP {response.status}: {body[:300]!r}"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise RuntimeError(f"the gateway did not serve the order list within {timeout} s ({last})")


def migrate(url, directories):
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from oms_common.migrations import upgrade
    from oms_common.settings import database_url

    for name, directory in directories:
        if (directory / "alembic.ini").exists():
            upgrade(directory, database_url(url, name))


def reset_gateway_schema(url):
    """The gateway's users start over each run: its admin is made from this run's token only
    when no admin exists (a second run's token would be refused). The bench data set is orders'."""
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS gateway CASCADE")
    connection.close()


def gateway_present():
    return (REPO / "gateway" / "config.yml").exists() and (REPO / "gateway" / "gateway" / "service.py").exists()


# ---------------------------------------------------------------- report


def fmt(value, width=7):
    return f"{value:{width}.1f}" if value == value else f"{'-':>{width}}"


def cpu_text(figure):
    """Service CPU per request, e.g. 'gw 2.1 + ord 7.9' (from /proc; other tenants do not count)."""
    cpu = figure.get("cpu_ms_per_request") or {}
    short = {"gateway": "gw", "orders": "ord", "bench_ping": "ping"}
    parts = [f"{short.get(name, name)} {value:.1f}" for name, value in cpu.items() if value and value >= 0.05]
    return " + ".join(parts)


def meets(figure, target):
    return figure["p50_ms"] <= target[0] and (not target[1] or figure["p99_ms"] <= target[1])


def print_heading(caption, header):
    """A table's caption after a blank line, then its column header over a rule as wide."""
    print()
    print(caption)
    print(header)
    print("-" * len(header))


def print_table(results, ping, concurrency, think_ms=0.0):
    """what | p50 | p99 | target | baseline p50/p99 | ratio, plus throughput and the 1-client p50."""
    pacing = f"mean think time {think_ms:g} ms" if think_ms else "closed loop, no think time"
    print_heading(
        f"{concurrency} concurrent clients ({pacing}); 'alone' = p50 with one client; ratio = p50 / SQL baseline p50",
        f"{'what':<40} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>7} {'alone':>6}  {'target':<15} "
        f"{'baseline p50/p99':>16} {'ratio':>6}  {'ok':<3} CPU ms/request",
    )
    for row in results:
        target = row["target"]
        target_text = f"p50≤{target[0]:g}" + (f" p99≤{target[1]:g}" if target[1] else "")
        sql = row["sql"]
        baseline = f"{fmt(sql['p50_ms'], 5).strip()}/{fmt(sql['p99_ms'], 5).strip()} SQL"
        lines = [
            ("HTTP " + row["name"], row.get("http"), row.get("http1"), True),
            ("  RPC orders.list_orders, no gateway", row.get("rpc"), row.get("rpc1"), False),
            ("  SQL alone (same statements)", sql, row.get("sql1"), None),
        ]
        for label, figure, alone, is_http in lines:
            if figure is None:
                if is_http:
                    print(f"{label:<40} {'(gateway not run)':>23}")
                continue
            alone_text = fmt(alone["p50_ms"], 6) if alone else f"{'-':>6}"
            errors = f"  ({figure['errors']} errors)" if figure.get("errors") else ""
            if is_http is None:
                print(
                    f"{label:<40} {fmt(figure['p50_ms'])} {fmt(figure['p99_ms'])} {fmt(figure['per_second'])} "
                    f"{alone_text}{errors}"
                )
                continue
            ratio = figure["p50_ms"] / sql["p50_ms"] if sql["p50_ms"] else float("nan")
            ok = ("yes" if meets(figure, target) else "NO") if is_http else ""
            print(
                f"{label:<40} {fmt(figure['p50_ms'])} {fmt(figure['p99_ms'])} {fmt(figure['per_second'])} "
                f"{alone_text}  {(target_text if is_http else ''):<15} {baseline:>16} {ratio:5.1f}x  {ok:<3} "
                f"{cpu_text(figure)}{errors}"
            )
    if ping:
        alone = ping.get("alone")
        print(
            f"{'nameko RPC baseline bench_ping.ping()':<40} {fmt(ping['p50_ms'])} {fmt(ping['p99_ms'])} "
            f"{fmt(ping['per_second'])} {fmt(alone['p50_ms'], 6) if alone else '-':>6}  "
            f"(a trivial @rpc round trip, same clients)  {cpu_text(ping)}"
        )
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("OMS_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--amqp-uri", default=os.environ.get("OMS_BENCH_AMQP_URI", DEFAULT_AMQP))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per figure (at most)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring time per figure (at most)")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean pause of each client between requests (0: closed loop, as DESIGN.md §6)",
    )
    parser.add_argument("--warmup", type=int, default=100, help="requests per figure before measuring")
    parser.add_argument("--single", type=int, default=200, help="requests of the one-client figures")
    parser.add_argument("--samples", type=int, default=500, help="distinct references/invoice numbers searched")
    parser.add_argument("--no-rpc", action="store_true", help="skip the RPC-without-gateway figures")
    parser.add_argument("--no-gateway", action="store_true", help="skip the HTTP figures")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only", help="run only cases whose name contains this text (or one of several, separated by |)"
    )
    parser.add_argument(
        "--gateway-variant",
        default="ping",
        help="run bench/variants/gateway_<NAME>.py as the gateway (default: ping, the gateway "
        "plus the bench-only /bench/ping route the targets are judged against)",
    )
    parser.add_argument(
        "--orders-variant",
        help="run bench/variants/orders_<NAME>.py instead of the orders "
        "service as it is (to measure a proposed change)",
    )
    options = parser.parse_args(argv)

    options.url = options.url.replace("postgresql+psycopg2://", "postgresql://", 1)  # libpq's spelling
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the services and drop the vhost
    began = time.monotonic()
    load_before = os.getloadavg()
    cases = build_cases(options.url, options.samples, options.seed)
    if options.only:
        wanted = [part.strip() for part in options.only.split("|") if part.strip()]
        cases = [case for case in cases if any(part in case[0] for part in wanted)]
    log("capturing the SQL the orders service runs for each request")
    statements = capture_statements(options.url, [case[3] for case in cases], options.orders_variant)
    use_gateway = gateway_present() and not options.no_gateway
    if use_gateway:
        reset_gateway_schema(options.url)
    migrate(
        options.url,
        [("orders", REPO / "services" / "orders")] + ([("gateway", REPO / "gateway")] if use_gateway else []),
    )

    log_dir = REPO / "var" / "bench" / time.strftime("list_search-%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    results, ping, http_ping = [], None, None
    with Suite(options.url, options.amqp_uri, log_dir) as suite:
        log(
            f"vhost {suite.vhost}; starting orders, bench_ping"
            + (", gateway" if use_gateway else " (no gateway in this repository yet)")
        )
        if options.orders_variant:
            suite.start(
                "orders",
                BENCH / "variants",
                f"orders_{options.orders_variant}:OrdersService",
                config=REPO / "services" / "orders" / "config.yml",
            )
        else:
            suite.start("orders", REPO / "services" / "orders", "orders.service:OrdersService")
        suite.start("bench_ping", BENCH, "ping_service:BenchPingService")
        if use_gateway and options.gateway_variant:
            suite.start(
                "gateway",
                BENCH / "variants",
                f"gateway_{options.gateway_variant}:GatewayService",
                config=REPO / "gateway" / "config.yml",
            )
        elif use_gateway:
            suite.start("gateway", REPO / "gateway", "gateway.service:GatewayService")
        wait_for_rpc(suite, "orders", options)
        wait_for_rpc(suite, "bench_ping", options)
        if use_gateway:
            first = wait_for_http(suite)
            log(f"gateway at http://{suite.address} answers; {first.get('total')} orders listed")
        log(f"up after {time.monotonic() - began:.1f} s; logs in {log_dir}")

        log("nameko RPC baseline: bench_ping.ping")
        ping = suite.measured(
            lambda: rpc_load(suite.amqp_uri, "bench_ping", "ping", [[]], options, requests=options.requests * 2)
        )
        ping["alone"] = rpc_load(
            suite.amqp_uri, "bench_ping", "ping", [[]], options, requests=options.single, concurrency=1
        )
        log(
            f"  p50 {ping['p50_ms']:.1f} ms, p99 {ping['p99_ms']:.1f} ms, {ping['per_second']:.0f} calls/s; "
            f"alone p50 {ping['alone']['p50_ms']:.2f} ms"
        )
        if use_gateway and options.gateway_variant == "ping":
            log("HTTP → RPC floor: GET /bench/ping")
            path = list_targets.PING_PATH
            http_ping = suite.measured(lambda: http_load(suite.address, suite.token, [], options, path=path))
            http_ping["alone"] = http_load(
                suite.address, suite.token, [], options, concurrency=1, requests=options.single, path=path
            )
            log(
                f"  p50 {http_ping['p50_ms']:.1f} ms, p99 {http_ping['p99_ms']:.1f} ms; "
                f"alone p50 {http_ping['alone']['p50_ms']:.2f} ms"
            )
        for (name, kind, target, queries), case_statements in zip(cases, statements, strict=True):
            row = {"name": name, "kind": kind, "target": target, "queries": len(queries)}
            log(f"{name}: SQL")
            row["sql"] = sql_load(options.url, case_statements, options)
            row["sql1"] = sql_load(options.url, case_statements, options, concurrency=1, requests=options.single)
            if not options.no_rpc:
                log(f"{name}: RPC orders.list_orders")
                calls = [[q] for q in queries]
                row["rpc"] = suite.measured(lambda: rpc_load(suite.amqp_uri, "orders", "list_orders", calls, options))
                row["rpc1"] = rpc_load(
                    suite.amqp_uri, "orders", "list_orders", calls, options, requests=options.single, concurrency=1
                )
            if use_gateway:
                log(f"{name}: HTTP GET /api/v1/orders")
                row["http"] = suite.measured(lambda: http_load(suite.address, suite.token, queries, options))
                row["http1"] = http_load(
                    suite.address, suite.token, queries, options, concurrency=1, requests=options.single
                )
            suite.check_alive()
            results.append(row)
            parts = [
                f"{key} p50 {row[key]['p50_ms']:.1f} / p99 {row[key]['p99_ms']:.1f} ms"
                for key in ("http", "rpc", "sql")
                if key in row
            ]
            log("  " + "; ".join(parts))
    load_after = os.getloadavg()
    print_table(results, ping, options.concurrency, options.think_ms)
    list_targets.print_targets(results, http_ping)
    log(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min; {os.cpu_count()} CPUs): "
        "other work on the machine skews these figures"
    )
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": options.url,
        "concurrency": options.concurrency,
        "think_ms": options.think_ms,
        "gateway": use_gateway,
        "ping": ping,
        "http_ping": http_ping,
        "targets": [{"text": text, "ok": good} for text, good in list_targets.target_lines(results, http_ping)],
        "cases": results,
        "cpu_count": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "orders_variant": options.orders_variant,
        "gateway_variant": options.gateway_variant,
    }
    out = REPO / "var" / "bench" / (time.strftime("list_search-%Y%m%d-%H%M%S") + ".json")
    out.write_text(json.dumps(report, indent=2))
    log(f"figures written to {out.relative_to(REPO)}; took {time.monotonic() - began:.0f} s")
    failed = [row["name"] for row in results if row.get("http") and row["http"]["errors"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
