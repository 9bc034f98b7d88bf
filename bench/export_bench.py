"""XML export of up to 1,000,000 orders: orders/s and peak RSS, beside a raw PostgreSQL COPY.

    .venv/bin/python bench/export_bench.py                  # 100,000 and 1,000,000 orders
    .venv/bin/python bench/export_bench.py --sizes 100000   # quicker
    OMS_BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/postgres  (admin URL; default shown)

The export copy of the exports service is filled directly (one INSERT … SELECT over
generate_series in PostgreSQL: 3 lines per order, 200,000 customers) in a private database
that is dropped at the end (--keep keeps it). Each export then runs in a fresh child process
(the same code path as a download: ExportStream → server-side cursor → lxml incremental
writer), so its peak RSS (ru_maxrss) is its own. The baseline is
``COPY (SELECT document … same rows, same order) TO STDOUT`` of the same run: the rate at
which PostgreSQL alone hands the same rows to a client.
Target (DESIGN.md §6): ≥ 10,000 orders/s, peak RSS ≤ 200 MB, flat as the count grows.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("OMS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BASE_TIME = "2025-01-01 00:00:00+00"

FILL_SQL = """
INSERT INTO exports.export_orders (reference, version, change_seq, invoice_number, customer_id, status,
                                   payment_status, created_at, updated_at, document)
SELECT ref, 1, i, 'RE-' || i, cust, st, ps, ca, ca, json_build_object(
    'reference', ref, 'invoice_number', 'RE-' || i, 'invoice_number_external', false,
    'status', st, 'payment_status', ps, 'payment_method', 'invoice', 'currency', 'CHF',
    'subtotal', '60.00', 'shipping_cost', '8.00', 'total', '68.00',
    'customer', json_build_object('id', cust, 'email', 'kunde' || cust || '@example.com',
                                  'name', 'Kundin Nr. ' || cust || ' & Söhne <AG>'),
    'language', 'de',
    'billing_address', json_build_object('first_name', 'Anna', 'last_name', 'Müller-' || cust, 'company', '',
        'street', 'Bahnhofstrasse ' || mod(i, 300), 'postal_code', '8001', 'city', 'Zürich', 'country', 'CH',
        'phone', '+41 44 000 00 00'),
    'shipping_address', json_build_object('first_name', 'Anna', 'last_name', 'Müller-' || cust, 'company', '',
        'street', 'Bahnhofstrasse ' || mod(i, 300), 'postal_code', '8001', 'city', 'Zürich', 'country', 'CH',
        'phone', ''),
    'lines', json_build_array(
        json_build_object('position', 1, 'article_number', 'A-' || mod(i, 5000), 'name', 'Teekanne «Gusseisen»',
                          'quantity', 2, 'unit_price', '19.95', 'line_total', '39.90'),
        json_build_object('position', 2, 'article_number', 'B-' || mod(i, 700), 'name', 'Grüntee Sencha 100 g',
                          'quantity', 1, 'unit_price', '7.50', 'line_total', '7.50'),
        json_build_object('position', 3, 'article_number', 'C-' || mod(i, 90), 'name', 'Teetasse 0.2 l',
                          'quantity', 3, 'unit_price', '4.20', 'line_total', '12.60')),
    'tracking_number', NULL, 'session_id', NULL, 'paused', false,
    'created_at', iso, 'updated_at', iso, 'submitted_at', iso, 'version', 1)
FROM (
    SELECT i, (1000000 + i)::text AS ref, 1 + mod(i, 200000) AS cust,
           (ARRAY['new','in_progress','shipped','completed','cancelled'])[1 + mod(i, 5)] AS st,
           (ARRAY['unpaid','paid','announced'])[1 + mod(i, 3)] AS ps,
           timestamptz %(base)s + i * interval '1 second' AS ca,
           to_char((timestamptz %(base)s + i * interval '1 second') AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') AS iso
    FROM generate_series(1, %(count)s) AS i
) AS generated
"""


def created_to(count):
    """The created_to filter that selects exactly the first ``count`` generated orders."""
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(BASE_TIME.replace(" ", "T")) + timedelta(seconds=count)).isoformat()


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- child: one export, measured


def child(url, count, validate):
    from sqlalchemy import create_engine

    sys.path.insert(0, str(REPO / "services" / "exports"))
    from exports.streams import ExportStream, load_query

    engine = create_engine(url, connect_args={"options": "-csearch_path=exports"})
    params = load_query("orders", {"created_to": created_to(count)})
    rss_before = rss_mb()
    started = time.perf_counter()
    stream = ExportStream(engine, "orders", "xml", params, fetch_size=2000).open()
    total = 0
    head = []
    for chunk in stream:
        total += len(chunk)
        if validate and sum(len(c) for c in head) < 4_000_000:
            head.append(chunk)
    elapsed = time.perf_counter() - started
    result = {
        "orders": stream.stats.records,
        "bytes": total,
        "seconds": elapsed,
        "orders_per_s": stream.stats.records / elapsed,
        "peak_rss_mb": rss_mb(),
        "rss_before_mb": rss_before,
    }
    if validate:
        result["sample_valid"] = _validate_sample(b"".join(head))
    print(json.dumps(result))


def _validate_sample(data):
    """The first ~4 MB of the document, closed after the last complete order, against the XSD."""
    from lxml import etree

    from exports import serialize

    cut = data.rfind(b"</order>")
    count = data[:cut].count(b"<order ") if cut > 0 else 0
    document = data[: cut + len(b"</order>")] + f'<end count="{count}"/></export>'.encode()
    return bool(serialize.xml_schema().validate(etree.fromstring(document))) and count > 0


# ---------------------------------------------------------------- parent


def copy_baseline(url, count):
    import psycopg2

    class Sink:
        size = 0

        def write(self, data):
            self.size += len(data)

    sink = Sink()
    connection = psycopg2.connect(url.replace("postgresql+psycopg2", "postgresql"))
    try:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.copy_expert(
                "COPY (SELECT document FROM exports.export_orders WHERE created_at <= %s "
                "ORDER BY created_at, reference) TO STDOUT" % cursor.mogrify("%s", (created_to(count),)).decode(),
                sink,
            )
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    return {"seconds": elapsed, "rows_per_s": count / elapsed, "bytes": sink.size}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--database", help="reuse this (filled) database name")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.url, args.count, validate=True)

    import psycopg2

    sizes = [int(s) for s in args.sizes.split(",")]
    largest = max(sizes)
    parts = urlparse(ADMIN_URL)
    name = args.database or f"oms_bench_exports_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://{parts.netloc}/{name}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    fresh = not args.database
    if fresh:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        if fresh:
            from oms_common.migrations import upgrade

            upgrade(REPO / "services" / "exports", url)
            started = time.perf_counter()
            connection = psycopg2.connect(url)
            with connection, connection.cursor() as cursor:
                cursor.execute(FILL_SQL, {"count": largest, "base": BASE_TIME})
                cursor.execute("UPDATE exports.export_counters SET value = %s WHERE name = 'change'", (largest,))
            with connection.cursor() as cursor:
                connection.autocommit = True
                cursor.execute("VACUUM ANALYZE exports.export_orders")
                cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('exports.export_orders'))")
                size = cursor.fetchone()[0]
            connection.close()
            print(
                f"filled {largest:,} orders (3 lines each) in {time.perf_counter() - started:.1f} s; "
                f"table with indexes: {size}"
            )
        print(
            f"{'orders':>10} | {'export s':>9} | {'orders/s':>9} | {'MB out':>7} | {'peak RSS MB':>11} | "
            f"{'COPY s':>7} | {'COPY rows/s':>11} | {'export/COPY':>11} | sample XSD-valid"
        )
        for count in sizes:
            baseline = copy_baseline(url, count)
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--url",
                    f"postgresql+psycopg2://{parts.netloc}/{name}",
                    "--count",
                    str(count),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO,
            ).stdout
            result = json.loads(output.strip().splitlines()[-1])
            assert result["orders"] == count, result
            print(
                f"{count:>10,} | {result['seconds']:>9.1f} | {result['orders_per_s']:>9,.0f} | "
                f"{result['bytes'] / 1e6:>7.0f} | {result['peak_rss_mb']:>11.1f} | {baseline['seconds']:>7.1f} | "
                f"{baseline['rows_per_s']:>11,.0f} | {result['orders_per_s'] / baseline['rows_per_s']:>11.2f} | "
                f"{result['sample_valid']}"
            )
        print("target: >= 10,000 orders/s, peak RSS <= 200 MB and flat as the count grows")
    finally:
        if fresh and not args.keep:
            with admin.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        elif fresh:
            print(f"kept database {name} (reuse with --database {name})")
        admin.close()


if __name__ == "__main__":
    main()
