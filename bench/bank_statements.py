"""A camt.054 with 10,000 credits imported (DESIGN.md §6), beside the parse alone, same run.

    python bench/bank_statements.py                 # 10,000 credits, 3 rounds
    python bench/bank_statements.py --credits 2000  # smaller

What is measured:

  * parse  — ``bank_statements.parse.read_statement`` on the file: the defused parse and the
             whole-file check, nothing else. The baseline.
  * import — ``bank_statements.imports.import_statement``, the use case the RPC runs: the
             parse, finding each credit's payment by its QR reference, and booking all of them
             in one transaction (row locks, entries, audit rows, ``payment_status_changed``
             in the outbox per payment). Each round books a fresh file on fresh unpaid payments.
  * again  — the same file imported once more: every entry a duplicate, nothing changed.

The payments schema is migrated into a private database (dropped at the end); the payments
are inserted directly. Entries/s and the ratio to the parse are printed per figure (best of the
rounds). The nameko transport is left out: one RPC carrying the file costs the same whatever
is inside it.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def database(admin_url):
    import psycopg2

    from oms_common.migrations import upgrade

    name = f"oms_bench_bank_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://{urlparse(admin_url).netloc}/{name}"
    upgrade(REPO / "services" / "payments", url)
    return admin, name, url


def insert_payments(source, count, round_number):
    """``count`` unpaid invoice payments of CHF 49.90, as checkout opens them."""
    from sqlalchemy import insert

    from oms_common.db import utcnow
    from payments.checkout import new_payment_values
    from payments.models import Payment

    now = utcnow()
    references = [str(8 * 10**9 + round_number * 10**6 + index) for index in range(count)]
    orders = (
        {"reference": reference, "payment_method": "invoice", "currency": "CHF", "total": "49.90", "status": "new"}
        for reference in references
    )
    rows = [new_payment_values(order, now) for order in orders]
    with source.unit_of_work() as uow:
        uow.session.execute(insert(Payment), rows)
        uow.commit()
    return references


def statement(references, round_number):
    from oms_common.payment_references import qr_reference
    from tests.payments import camt

    return camt.document(
        [
            camt.credit(
                "49.90", reference=qr_reference(reference), acct_ref=f"BENCH-{round_number}-{index}", text="Rechnung"
            )
            for index, reference in enumerate(references)
        ],
        kind="054",
        version=8,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("OMS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    options = parser.parse_args()

    from oms_common.db import SessionSource, make_engine
    from oms_common.settings import database_url
    from payments.bank_statements import imports, parse
    from payments.models import infrastructure

    admin, name, url = database(options.pg_admin_url)
    limit = 64 * 1024 * 1024
    figures = {"parse": [], "import": [], "again": []}
    try:
        engine = make_engine(database_url(url, "payments"), schema="payments", pool_size=2)
        source = SessionSource(engine, infrastructure)
        for round_number in range(1, options.rounds + 1):
            data = statement(insert_payments(source, options.credits, round_number), round_number)
            started = time.perf_counter()
            parsed = parse.read_statement(data, limit)
            figures["parse"].append(time.perf_counter() - started)
            assert len(parsed.transactions) == options.credits
            started = time.perf_counter()
            report = imports.import_statement(
                source, data, limit, {"name": "bench", "kind": "system"}, lambda number: None
            )
            figures["import"].append(time.perf_counter() - started)
            assert report["counts"]["matched"] == options.credits, report["counts"]
            started = time.perf_counter()
            again = imports.import_statement(
                source, data, limit, {"name": "bench", "kind": "system"}, lambda number: None
            )
            figures["again"].append(time.perf_counter() - started)
            assert again["counts"]["duplicates"] == options.credits and not again["changed"]
        engine.dispose()
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    size = len(data) / 1024 / 1024
    print(f"camt.054.001.08, {options.credits} credits ({size:.1f} MiB), best of {options.rounds} rounds")
    print(f"{'figure':<40} {'seconds':>8} {'entries/s':>10} {'× parse':>8}")
    baseline = min(figures["parse"])
    for label, key in (
        ("parse alone (baseline)", "parse"),
        ("import: match and book every credit", "import"),
        ("the same file again (all duplicates)", "again"),
    ):
        best = min(figures[key])
        print(
            f"{label:<40} {best:>8.2f} {options.credits / best:>10,.0f} {baseline / best:>8.2f}"
            f"   (median {statistics.median(figures[key]):.2f} s)"
        )


if __name__ == "__main__":
    main()
