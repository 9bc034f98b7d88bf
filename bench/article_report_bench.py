"""The article-order report (S12) over the 1,000,000-order data set, beside its SQL (DESIGN.md §6).

    python bench/article_report_bench.py                 # against the database bench/generate.py filled
    python bench/article_report_bench.py --repeat 30     # more repetitions per figure

Target: one month, ≤ 300 ms. What is measured, per case, from the same run:

  * HTTP — ``GET /api/v1/reports/article-orders?article=…&from=…&to=…`` through the gateway
           (orders + gateway started here as ``nameko run`` processes on a private RabbitMQ
           vhost, keep-alive connection, loopback), response read completely; also as
           ``format=csv``. This is the figure the target is for.
  * RPC  — ``orders.article_report(query)`` over nameko RPC (``rpc_load.py``), the gateway left
           out: what the transport of the answer costs, beside what the gateway adds;
  * SQL  — the very statements ``orders.queries.article_report`` issues for that request
           (captured through a SQLAlchemy event, with their parameters: the order-id bounds of
           the date range, then one statement for the list and the totals), run directly on
           PostgreSQL over psycopg2 in one transaction, every row fetched: the baseline.

One client, requests one after another (a report is one person's interactive request, not a
load test); ``--warmup`` unmeasured requests first, then ``--repeat`` measured ones; median
and p95 in ms.

What "the report" is here: the request as the API serves it by default — the detailed list
(reference, date, customer, article number, name, quantity, line total) of at most ``limit``
lines (default 10,000; ``truncated`` says when more matched) and the totals (orders,
quantity, revenue per currency) over *every* matching line, however many. For an article
number or a part of one, a month's matching lines fit under the default limit; the "every
line of the month" case is included to show what a 10,000-line page plus totals over the
whole month (~130,000 lines) costs, and one case asks for the complete list (``limit``
100,000) to show what the list itself costs.

The month: the complete calendar month with the most orders in the data set (~45,000
orders in the 1,000,000-order set, whose rate grows ~3× over three years). DESIGN.md §6
says "one month (~80,000 orders)"; that many orders fall in two months of this data set, so
the two-month window ending with that month is measured too.

Reuses the bench helper's machinery from ``list_search.py`` (suite of nameko processes, private
vhost, migrations, percentiles). The orders service runs with the open-order cleanup off
(``OMS_OPEN_ORDER_SWEEP_SECONDS=0``): a benchmark must not cancel the data set's carts.
Figures also go to var/bench/article_report-<time>.json.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import sys
import time
import warnings
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import psycopg2

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from list_search import (  # noqa: E402 - the bench helper's machinery, shared
    DEFAULT_AMQP,
    DEFAULT_URL,
    REPO,
    SCHEMA,
    Suite,
    capturing_orders_source,
    log,
    migrate,
    percentile,
    print_heading,
    rpc_load,
    wait_for_http,
)

TARGET_MS = 300.0
PATH = "/api/v1/reports/article-orders"


# ---------------------------------------------------------------- the cases


def month_bounds(day):
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def build_cases(url):
    """(name, query, orders in range) for the busiest complete month and the two months ending with it."""
    connection = psycopg2.connect(url, options=f"-csearch_path={SCHEMA}")
    with connection, connection.cursor() as cursor:
        cursor.execute("""
            SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month, count(*)
            FROM orders
            WHERE created_at < date_trunc('month', (SELECT max(created_at) FROM orders) AT TIME ZONE 'UTC')
                              AT TIME ZONE 'UTC'
            GROUP BY 1 ORDER BY 2 DESC LIMIT 1""")
        row = cursor.fetchone()
        if row is None:
            raise SystemExit("the bench database holds no complete month of orders: run bench/generate.py first")
        month, month_orders = row
        first, last = month_bounds(month)
        two_first = month_bounds(first - timedelta(days=1))[0]
        cursor.execute(
            "SELECT count(*) FROM orders WHERE created_at >= %s AND created_at < %s",
            (two_first, last + timedelta(days=1)),
        )
        two_orders = cursor.fetchone()[0]
        # articles by popularity within the month: the most sold one and one of middling popularity
        cursor.execute(
            """
            SELECT l.article_number, count(*) FROM orders o JOIN order_lines l ON l.order_id = o.id
            WHERE o.created_at >= %s AND o.created_at < %s GROUP BY 1 ORDER BY 2 DESC""",
            (first, last + timedelta(days=1)),
        )
        popularity = cursor.fetchall()
    connection.close()
    top = popularity[0][0]
    middling = popularity[min(len(popularity) - 1, len(popularity) // 4)][0]
    part = top[:-2]  # e.g. ART-0011: every article ART-001100 … ART-001199
    month_range = {"from": str(first), "to": str(last)}
    two_range = {"from": str(two_first), "to": str(last)}
    label = first.strftime("%Y-%m")
    return [
        (f"{label}: most sold article {top}", {"article": top, **month_range}, month_orders, True),
        (f"{label}: part '{part}' (100 articles)", {"article": part, **month_range}, month_orders, True),
        (f"{label}: part '{top[-4:]}' (inside the number)", {"article": top[-4:], **month_range}, month_orders, True),
        (f"{label}: article {middling}", {"article": middling, **month_range}, month_orders, True),
        (
            f"{label}: part '{part}', complete list (limit 100000)",
            {"article": part, **month_range, "limit": 100000},
            month_orders,
            False,
        ),
        (f"{label}: every line ('ART-'), 10,000 listed", {"article": "ART-", **month_range}, month_orders, False),
        (
            f"{two_first.strftime('%Y-%m')}..{label}: most sold article {top}",
            {"article": top, **two_range},
            two_orders,
            True,
        ),
        (f"{two_first.strftime('%Y-%m')}..{label}: part '{part}'", {"article": part, **two_range}, two_orders, True),
    ]


def capture_statements(url, queries):
    """The SQL ``orders.queries.article_report`` runs for each query, with its parameters,
    and the report it returns (for the size columns)."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from orders import queries as orders_queries

    result = []
    with capturing_orders_source(url) as (source, captured):
        for query in queries:
            captured.clear()
            report = orders_queries.article_report(source, query)
            result.append((list(captured), report))
    return result


# ---------------------------------------------------------------- measuring


def stats(seconds):
    values = sorted(seconds)
    return {
        "count": len(values),
        "median_ms": statistics.median(values) * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
        "min_ms": values[0] * 1000,
        "max_ms": values[-1] * 1000,
    }


def measure(run, warmup, repeat):
    for _ in range(warmup):
        run()
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        timings.append(time.perf_counter() - began)
    return stats(timings)


def sql_runner(url, statements):
    connection = psycopg2.connect(url, options=f"-csearch_path={SCHEMA}")

    def run():
        with connection.cursor() as cursor:  # as the service's read session: BEGIN, the statements, ROLLBACK
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
        connection.rollback()

    return run, connection


def http_runner(address, token, query):
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    path = f"{PATH}?{urlencode(query)}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    last = {}

    def run():
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
        last["body"] = body

    return run, connection, last


def check_totals(report):
    """The report's totals are the sum of its lines (when the list is complete)."""
    if report["truncated"]:
        return "list truncated"
    revenue = {}
    for item in report["items"]:
        revenue[item["currency"]] = revenue.get(item["currency"], Decimal("0.00")) + Decimal(item["line_total"])
    expected = {
        "orders": len({item["reference"] for item in report["items"]}),
        "quantity": sum(item["quantity"] for item in report["items"]),
        "revenue": {currency: f"{total:.2f}" for currency, total in sorted(revenue.items())},
    }
    actual = dict(report["totals"], revenue=dict(sorted(report["totals"]["revenue"].items())))
    if actual != expected:
        raise RuntimeError(f"totals {actual} are not the sum of the lines {expected}")
    return "= sum of lines"


# ---------------------------------------------------------------- report


def print_table(rows):
    print_heading(
        f"one client, sequential; median / p95 in ms (RPC: median); "
        f"target: one month ≤ {TARGET_MS:g} ms (HTTP JSON median)",
        f"{'case':<58} {'orders':>7} {'match':>7} {'listed':>7}  {'HTTP JSON':>13} {'HTTP CSV':>13} "
        f"{'RPC':>6} {'SQL alone':>13} {'ratio':>6}  {'ok':<4} totals",
    )
    for row in rows:

        def pair(figure):
            return f"{figure['median_ms']:6.1f}/{figure['p95_ms']:6.1f}"

        ratio = row["http"]["median_ms"] / row["sql"]["median_ms"] if row["sql"]["median_ms"] else float("nan")
        ok = ("yes" if row["http"]["median_ms"] <= TARGET_MS else "NO") if row["target"] else "-"
        listed = f"{row['listed']}{'+' if row['truncated'] else ''}"
        print(
            f"{row['name'][:58]:<58} {row['orders_in_range']:>7} {row['matched_orders']:>7} {listed:>7}  "
            f"{pair(row['http'])} {pair(row['csv'])} {row['rpc']['median_ms']:6.1f} {pair(row['sql'])} "
            f"{ratio:5.1f}x  "
            f"{ok:<4} {row['totals']}"
        )
    print()
    print(
        "orders = orders created in the range; match = orders with a matching line (the totals cover all of "
        "them);\nlisted = lines in the answer (+: truncated at the limit); RPC = orders.article_report without the "
        "gateway;\nratio = HTTP JSON median / SQL median; ok only for the cases the target is for (one month, an "
        "article number or part of it, the API's default limit)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("OMS_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--amqp-uri", default=os.environ.get("OMS_BENCH_AMQP_URI", DEFAULT_AMQP))
    parser.add_argument("--repeat", type=int, default=15, help="measured requests per figure")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured requests per figure first")
    parser.add_argument("--only", help="run only cases whose name contains this text")
    options = parser.parse_args(argv)
    options.url = options.url.replace("postgresql+psycopg2://", "postgresql://", 1)  # libpq's spelling
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the services and drop the vhost
    began = time.monotonic()
    load_before = os.getloadavg()

    cases = build_cases(options.url)
    if options.only:
        cases = [case for case in cases if options.only in case[0]]
    log(f"{len(cases)} cases; applying migrations (orders 0002 makes the trigram index if it is missing)")
    migrate(options.url, [("orders", REPO / "services" / "orders"), ("gateway", REPO / "gateway")])
    log("capturing the SQL the orders service runs for each report")
    captured = capture_statements(options.url, [case[1] for case in cases])

    os.environ["OMS_OPEN_ORDER_SWEEP_SECONDS"] = "0"  # Suite.env() copies the environment
    log_dir = REPO / "var" / "bench" / time.strftime("article_report-%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with Suite(options.url, options.amqp_uri, log_dir) as suite:
        log(f"vhost {suite.vhost}; starting orders and gateway")
        suite.start("orders", REPO / "services" / "orders", "orders.service:OrdersService")
        suite.start("gateway", REPO / "gateway", "gateway.service:GatewayService")
        wait_for_http(suite)
        log(f"gateway at http://{suite.address} answers; up after {time.monotonic() - began:.1f} s; logs in {log_dir}")
        for (name, query, orders_in_range, target), (statements, report) in zip(cases, captured, strict=True):
            log(name)
            row = {
                "name": name,
                "query": query,
                "orders_in_range": orders_in_range,
                "target": target,
                "matched_orders": report["totals"]["orders"],
                "listed": len(report["items"]),
                "truncated": report["truncated"],
                "statements": len(statements),
            }
            run, connection = sql_runner(options.url, statements)
            try:
                row["sql"] = measure(run, options.warmup, options.repeat)
            finally:
                connection.close()
            run, connection, last = http_runner(suite.address, suite.token, query)
            try:
                row["http"] = measure(run, options.warmup, options.repeat)
                served = json.loads(last["body"])
            finally:
                connection.close()
            row["totals"] = check_totals(served)
            if served["totals"] != report["totals"] or len(served["items"]) != row["listed"]:
                raise RuntimeError(f"{name}: the gateway's report differs from the direct call")
            rpc_options = argparse.Namespace(
                seconds=600.0, warmup=options.warmup, think_ms=0.0, requests=options.repeat, concurrency=1
            )
            figure = rpc_load(suite.amqp_uri, "orders", "article_report", [[query]], rpc_options)
            if figure.get("errors"):
                raise RuntimeError(f"{name}: RPC errors {figure.get('error_sample')}")
            row["rpc"] = {
                "count": figure["count"],
                "median_ms": figure["p50_ms"],
                "p99_ms": figure["p99_ms"],
                "max_ms": figure["max_ms"],
            }
            run, connection, last = http_runner(suite.address, suite.token, {**query, "format": "csv"})
            try:
                row["csv"] = measure(run, options.warmup, options.repeat)
            finally:
                connection.close()
            suite.check_alive()
            rows.append(row)
            log(
                f"  HTTP median {row['http']['median_ms']:.1f} ms (p95 {row['http']['p95_ms']:.1f}); "
                f"CSV {row['csv']['median_ms']:.1f}; RPC {row['rpc']['median_ms']:.1f}; "
                f"SQL {row['sql']['median_ms']:.1f} ms (p95 {row['sql']['p95_ms']:.1f}); "
                f"{row['matched_orders']} orders matched, {row['listed']} lines listed"
            )
    load_after = os.getloadavg()
    print_table(rows)
    log(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min; {os.cpu_count()} CPUs): "
        "other work on the machine skews these figures"
    )
    out = REPO / "var" / "bench" / (time.strftime("article_report-%Y%m%d-%H%M%S") + ".json")
    out.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "database": options.url,
                "repeat": options.repeat,
                "warmup": options.warmup,
                "target_ms": TARGET_MS,
                "cases": rows,
                "cpu_count": os.cpu_count(),
                "load_before": load_before,
                "load_after": load_after,
            },
            indent=2,
            default=str,
        )
    )
    log(f"figures written to {out.relative_to(REPO)}; took {time.monotonic() - began:.0f} s")
    return 1 if any(row["target"] and row["http"]["median_ms"] > TARGET_MS for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
