"""The order list's cost targets beside the floor of the architecture, for bench/list_search.py.

The floor is ``GET /bench/ping`` of the bench-only gateway variant (``variants/gateway_ping.py``):
the same HTTP listener, token check and one RPC to orders, with no work. The targets, each
printed with ok / not ok beside its baseline from the same run:

  * CPU per list-50 request (gateway + orders) ≤ 2 × the CPU of one ping (gateway + orders);
  * 16-client p50 of the list, a filtered list and the searches ≤ 2 × the ping's 16-client p50,
    and p99 ≤ 3 × p50;
  * one client alone: list p50 ≤ 6 ms, search p50 ≤ 4 ms (stated for 1,000,000 orders);
  * every page as cheap as the first: page N (the middle of the list, where a walk from the
    nearer end is longest, and the last page) ≤ 2 × page 1, one client alone, HTTP and SQL.
"""

import random

import psycopg2

PING_PATH = "/bench/ping"
CPU_FACTOR, P50_FACTOR, P99_FACTOR, PAGE_FACTOR = 2.0, 2.0, 3.0, 2.0
ALONE_TARGETS = {"list newest 50": 6.0, "search by surname": 4.0, "search by e-mail": 4.0, "search by reference": 4.0}
LOADED_CASES = (
    "list newest 50",
    "list, status filter",
    "list, currency + country",
    "search by reference",
    "search by surname",
    "search by e-mail",
    "search by article number",
)


def new_cases(url, schema, samples, seed, page_size, list_target, search_target):
    """The search cases of the one search field, a filtered list and the deep pages."""
    rnd = random.Random(seed + 1)
    connection = psycopg2.connect(url, options=f"-csearch_path={schema}")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM customers")
        top = cursor.fetchone()[0] or 0
        cursor.execute(
            "SELECT last_name, email FROM customers WHERE id = ANY(%s)",
            ([rnd.randint(1, top) for _ in range(samples)],),
        )
        customers = cursor.fetchall()
        cursor.execute(
            "SELECT article_number FROM order_lines WHERE id = ANY(%s)",
            ([rnd.randint(1, top * 10) for _ in range(samples)],),
        )
        articles = sorted({article for (article,) in cursor.fetchall()})
        cursor.execute("SELECT coalesce(sum(count), 0) FROM order_counts")
        total = int(cursor.fetchone()[0])
        cursor.execute("SELECT coalesce(sum(count), 0) FROM order_counts WHERE status = 'completed'")
        completed = int(cursor.fetchone()[0])
    connection.close()
    size = {"page_size": page_size}

    def middle_pages(count, extra=None):
        middle = max(1, (count // page_size) // 2)
        return [
            {**size, **(extra or {}), "page": middle + offset} for offset in (-2, -1, 0, 1, 2) if middle + offset > 0
        ]

    last = max(1, -(-total // page_size))
    return [
        (
            "list, currency + country",
            "list",
            list_target,
            [{**size, "currency": [c], "country": [k]} for c, k in (("EUR", "DE"), ("CHF", "CH"), ("EUR", "CH"))],
        ),
        ("search by surname", "search", search_target, [{**size, "search": last_name} for last_name, _ in customers]),
        ("search by e-mail", "search", search_target, [{**size, "search": email} for _, email in customers]),
        ("search by article number", "search", search_target, [{**size, "search": a} for a in articles] or [size]),
        ("page 1, newest first", "page", list_target, [{**size, "page": 1}]),
        ("middle page, newest first", "page", list_target, middle_pages(total)),
        ("last page, newest first", "page", list_target, [{**size, "page": last}]),
        ("page 1, by total", "page", list_target, [{**size, "page": 1, "sort": "-total"}]),
        ("middle page, by total", "page", list_target, middle_pages(total, {"sort": "-total"})),
        ("page 1, completed", "page", list_target, [{**size, "page": 1, "status": ["completed"]}]),
        ("middle page, completed", "page", list_target, middle_pages(completed, {"status": ["completed"]})),
    ]


def _cpu(figure):
    cpu = (figure or {}).get("cpu_ms_per_request") or {}
    return cpu.get("gateway", float("nan")) + cpu.get("orders", float("nan"))


def _mark(good):
    return "ok" if good else "NOT OK"


def target_lines(results, http_ping):
    """(text, ok) per target; ``http_ping`` is the ping's figure (16 clients, with ``alone``)."""
    lines = []
    by_name = {row["name"]: row for row in results}
    if http_ping is None:
        return [("(no ping route: the gateway variant has none; targets not judged)", None)]
    ping_cpu, ping_p50 = _cpu(http_ping), http_ping["p50_ms"]
    lines.append(
        (
            f"floor: HTTP ping p50 {ping_p50:.1f} ms, p99 {http_ping['p99_ms']:.1f} ms at 16 clients, "
            f"alone {http_ping['alone']['p50_ms']:.2f} ms; CPU gw+ord {ping_cpu:.2f} ms/request",
            None,
        )
    )
    newest = by_name.get("list newest 50", {}).get("http")
    if newest:
        cpu = _cpu(newest)
        lines.append(
            (
                f"CPU per list-50 (gw+ord) {cpu:.2f} ms ≤ {CPU_FACTOR:g} × ping {ping_cpu:.2f} ms "
                f"= {CPU_FACTOR * ping_cpu:.2f}",
                cpu <= CPU_FACTOR * ping_cpu,
            )
        )
    for name in LOADED_CASES:
        figure = by_name.get(name, {}).get("http")
        if not figure:
            continue
        good = figure["p50_ms"] <= P50_FACTOR * ping_p50 and figure["p99_ms"] <= P99_FACTOR * figure["p50_ms"]
        lines.append(
            (
                f"{name}: 16-client p50 {figure['p50_ms']:.1f} ms ≤ {P50_FACTOR:g} × ping = "
                f"{P50_FACTOR * ping_p50:.1f}; p99 {figure['p99_ms']:.1f} ≤ {P99_FACTOR:g} × p50",
                good,
            )
        )
    for name, limit in ALONE_TARGETS.items():
        alone = by_name.get(name, {}).get("http1")
        if alone:
            lines.append(
                (
                    f"{name}: one client p50 {alone['p50_ms']:.2f} ms ≤ {limit:g} ms (stated for 1M orders)",
                    alone["p50_ms"] <= limit,
                )
            )
    for first, deeper in (
        ("page 1, newest first", "middle page, newest first"),
        ("page 1, newest first", "last page, newest first"),
        ("page 1, by total", "middle page, by total"),
        ("page 1, completed", "middle page, completed"),
    ):
        base, deep = by_name.get(first), by_name.get(deeper)
        if not base or not deep:
            continue
        for kind, key in (("HTTP", "http1"), ("SQL", "sql1")):
            if base.get(key) and deep.get(key):
                ratio = deep[key]["p50_ms"] / base[key]["p50_ms"] if base[key]["p50_ms"] else float("nan")
                lines.append(
                    (
                        f"{deeper} vs {first}, one client, {kind}: {deep[key]['p50_ms']:.2f} / "
                        f"{base[key]['p50_ms']:.2f} ms = {ratio:.2f} × ≤ {PAGE_FACTOR:g} ×",
                        ratio <= PAGE_FACTOR,
                    )
                )
    return lines


def print_targets(results, http_ping):
    print("Targets of the order list (same run):")
    for text, good in target_lines(results, http_ping):
        print(f"  {'' if good is None else _mark(good) + ':':<8} {text}")
    print()
