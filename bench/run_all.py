"""`make bench`: the data set, then every benchmark of DESIGN.md §6, one after the other.

    python bench/run_all.py                   # everything, at full size (1,000,000 orders)
    python bench/run_all.py --quick           # 100,000 orders in oms_bench_quick, short measurements
    python bench/run_all.py --only list       # steps whose name contains "list"

Each step is its own process (and prints its own table); a step that fails does not stop the
others, and the exit code is non-zero if any failed. Steps whose script is not in bench/ yet
are skipped with a note.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
QUICK_URL = "postgresql://postgres@127.0.0.1:5432/oms_bench_quick"


def steps(quick):
    python = sys.executable
    generate = [python, str(BENCH / "generate.py"), "--reuse"]
    list_search = [python, str(BENCH / "list_search.py")]
    intake = [python, str(BENCH / "intake.py")]
    if quick:
        generate += ["--orders", "100000"]
        intake += ["--orders", "300"]
        list_search += ["--requests", "500", "--seconds", "5", "--single", "50"]
    return [
        ("data set (bench/generate.py)", generate),
        ("order list and search (bench/list_search.py)", list_search),
        ("article-order report (bench/article_report_bench.py)", [python, str(BENCH / "article_report_bench.py")]),
        ("webhooks (bench/webhooks_bench.py)", [python, str(BENCH / "webhooks_bench.py")]),
        ("XML export (bench/export_bench.py)", [python, str(BENCH / "export_bench.py")]),
        ("notifications (bench/notifications_bench.py)", [python, str(BENCH / "notifications_bench.py")]),
        ("order intake (bench/intake.py)", intake),
        ("bank statements (bench/bank_statements.py)", [python, str(BENCH / "bank_statements.py")]),
        (
            "invoice PDFs (bench/documents_bench.py)",
            [python, str(BENCH / "documents_bench.py")] + (["--count", "300"] if quick else []),
        ),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="run only the steps whose name contains this text")
    options = parser.parse_args(argv)
    env = dict(os.environ)
    if options.quick:
        env.setdefault("OMS_BENCH_DATABASE_URL", QUICK_URL)
    results = []
    for name, command in steps(options.quick):
        if options.only and options.only not in name:
            continue
        if not Path(command[1]).exists():
            results.append((name, "not written yet", 0.0))
            continue
        print(f"\n=== {name}", flush=True)
        began = time.monotonic()
        code = subprocess.call(command, env=env)
        results.append((name, "ok" if code == 0 else f"FAILED (exit {code})", time.monotonic() - began))
    print("\n=== summary")
    for name, outcome, seconds in results:
        print(f"  {name:<54} {outcome:<18} {seconds:6.0f} s")
    return 1 if any(outcome.startswith("FAILED") for _, outcome, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
