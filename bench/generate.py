"""Fill a PostgreSQL database with a realistic order book for `make bench`.

    python bench/generate.py                 # 1,000,000 orders, ~3,000,000 lines, 200,000 customers
    python bench/generate.py --orders 50000  # a quick, scaled-down run
    python bench/generate.py --reuse         # keep the database when it already holds this data set

The database (default ``oms_bench``; ``OMS_BENCH_DATABASE_URL`` or ``--url`` names another) is
dropped and created anew, the orders service's migrations are applied (its tables live in the
schema ``orders``), and the rows are streamed in with ``COPY ... FROM STDIN`` while two worker
processes generate them. Secondary indexes, unique and foreign-key constraints are dropped
before the load and rebuilt after it (two at a time, which is what bulk loading calls for);
their definitions are read from the migrated schema, so the benchmark always measures the
indexes the migrations create. Then ``order_counts`` and ``number_sequences`` are brought in
step with the data and the tables are vacuumed and analysed.

Distributions (deterministic for a given ``--seed``):
  * created_at spans ~3 years, with the order rate growing ~3x from the first to the last day
    and a day/night rhythm; ids, references and invoice numbers rise with created_at, as they
    do when a shop issues them;
  * status and payment status depend on the payment method and on the order's age: old orders
    are mostly completed/paid, some cancelled, a few stuck in dunning; the last weeks hold the
    new, in_progress, shipped, payment_pending and open (cart) orders;
  * 1-6 lines per order (mean ~3) over ~2000 articles 'ART-004711' with a skewed popularity;
  * currencies ~85 % CHF, ~15 % EUR; invoice numbers with the prefix 'RE-'; customers with a
    skewed number of orders each.
"""

import argparse
import bisect
import json
import math
import multiprocessing
import os
import queue
import random
import sys
import threading
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg2

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/oms_bench"
SCHEMA = "orders"
BENCH_SCHEMA = "bench"  # holds one row describing the data set, for --reuse

REFERENCE_START = 100000
INVOICE_PREFIX = "RE-"
INVOICE_START = 10001
YEARS = 3
CHUNK = 20000  # orders per generated chunk
PAYMENT_STATUS_RANK = {
    status: rank
    for rank, status in enumerate(
        ("failed", "unpaid", "pending", "announced", "authorized", "paid", "partially_refunded", "refunded", "voided")
    )
}

FIRST_NAMES = (
    "Anna Lukas Laura Noah Lea Luca Mia Leon Sara Elias Nina David Julia Jonas Lena Tim Elena Marco "
    "Chiara Nicolas Sophie Matteo Claire Louis Emma Gabriel Alice Jan Marie Fabio Sandra Peter Ursula "
    "Hans Ruth Beat Monika Reto Daniela Stefan Andrea Thomas Franziska Urs Yvonne Martin Karin Samuel "
    "Giulia Alessandro"
).split()
LAST_NAMES = (
    "Müller Meier Schmid Keller Weber Huber Schneider Meyer Steiner Fischer Gerber Brunner Baumann "
    "Frei Zimmermann Moser Widmer Wyss Graf Roth Suter Baumgartner Bachmann Studer Bühler Bernasconi "
    "Rossi Ferrari Bianchi Favre Rochat Blanc Dubois Morel Fontana Lehmann Kaufmann Marti Hofmann "
    "Sutter Hess Kälin Ammann Wenger Vogel Egli Koch Lüthi Zürcher Imhof"
).split()
STREETS = (
    "Bahnhofstrasse",
    "Hauptstrasse",
    "Dorfstrasse",
    "Seestrasse",
    "Kirchweg",
    "Schulstrasse",
    "Rue du Lac",
    "Rue de la Gare",
    "Via Cantonale",
    "Bergstrasse",
    "Gartenweg",
    "Industriestrasse",
    "Lindenstrasse",
    "Poststrasse",
    "Rosenweg",
    "Sonnenbergstrasse",
    "Chemin des Vignes",
    "Via San Gottardo",
)
CITIES = (
    ("8001", "Zürich"),
    ("3011", "Bern"),
    ("4051", "Basel"),
    ("1201", "Genève"),
    ("1003", "Lausanne"),
    ("6900", "Lugano"),
    ("6003", "Luzern"),
    ("9000", "St. Gallen"),
    ("8400", "Winterthur"),
    ("2502", "Biel/Bienne"),
    ("7000", "Chur"),
    ("3600", "Thun"),
    ("5000", "Aarau"),
    ("6300", "Zug"),
    ("1700", "Fribourg"),
    ("2000", "Neuchâtel"),
    ("1950", "Sion"),
    ("8200", "Schaffhausen"),
)
DE_CITIES = (("10115", "Berlin"), ("80331", "München"), ("79098", "Freiburg im Breisgau"), ("78462", "Konstanz"))
MAIL_DOMAINS = (
    "bluewin.ch",
    "gmail.com",
    "gmx.ch",
    "hotmail.com",
    "sunrise.ch",
    "outlook.com",
    "protonmail.ch",
    "yahoo.de",
    "web.de",
    "example.org",
)
ARTICLE_WORDS = (
    "Pfeffer Salz Curry Paprika Safran Zimt Vanille Muskat Chili Kardamom Ingwer Kurkuma "
    "Oregano Thymian Rosmarin Basilikum Koriander Kreuzkümmel Fenchel Anis"
).split()
ARTICLE_KINDS = (
    "gemahlen",
    "ganz",
    "Mühle",
    "Nachfüllbeutel",
    "Bio",
    "Geschenkbox",
    "Mischung",
    "fein",
    "grob",
    "Dose 100 g",
    "Dose 250 g",
    "Probierset",
)
LANGUAGES = (("de", 0.62), ("fr", 0.24), ("it", 0.08), ("en", 0.06))
METHODS = (("invoice", 0.42), ("card", 0.24), ("paypal", 0.19), ("prepayment", 0.10), ("cash_on_delivery", 0.05))
LINE_COUNTS = ((1, 0.16), (2, 0.24), (3, 0.24), (4, 0.17), (5, 0.11), (6, 0.08))
QUANTITIES = ((1, 0.55), (2, 0.22), (3, 0.10), (4, 0.05), (5, 0.04), (6, 0.02), (10, 0.02))


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def running_shares(weights):
    """Each weight's running share of their sum, the last exactly 1.0: what a random number in
    [0, 1) is bisected against to pick by weight."""
    total, acc, running = sum(weights), [], 0.0
    for weight in weights:
        running += weight / total
        acc.append(running)
    acc[-1] = 1.0
    return acc


def cumulative(pairs):
    values, weights = zip(*pairs, strict=True)
    return values, running_shares(weights)


def picker(pairs):
    values, acc = cumulative(pairs)
    return lambda rnd: values[bisect.bisect_left(acc, rnd())]


def copy_text(value):
    """A value for COPY's text format (tab-separated, \\N for NULL)."""
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def ts(dt):
    return dt.isoformat(sep=" ", timespec="seconds")


# ---------------------------------------------------------------- the fixed world: articles, customers


def make_articles(seed, count=2000):
    rnd = random.Random(seed * 7 + 1)
    numbers = sorted(rnd.sample(range(1, 10000), count))
    articles = []
    for number in numbers:
        name = f"{rnd.choice(ARTICLE_WORDS)} {rnd.choice(ARTICLE_KINDS)}"
        price = rnd.choice((3.9, 4.5, 5.9, 6.5, 7.9, 8.9, 9.5, 12.9, 14.5, 19.9, 24.0, 29.9, 39.0, 49.9, 79.0))
        articles.append((f"ART-{number:06d}", copy_text(name), round(price + rnd.choice((0, 0, 0.5, 1.0)), 2)))
    # Zipf-like popularity: a few best sellers, a long tail
    order = list(range(count))
    rnd.shuffle(order)
    weights = [0.0] * count
    for rank, index in enumerate(order, start=1):
        weights[index] = 1.0 / (rank**0.9)
    return articles, running_shares(weights)


def customer_chunk(task):
    """Customers [first_id, last_id): (COPY text for the customers table, per-customer order fields)."""
    first_id, last_id = task
    world = _world
    seed, customers, orders = world["seed"], world["customers"], world["orders"]
    start, now = world["start"], world["now"]
    span = (now - start).total_seconds()
    rnd = random.Random(seed * 1_000_003 + first_id)
    pick_language = picker(LANGUAGES)
    rows, fields = [], []
    for customer_id in range(first_id, last_id):
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        language = pick_language(rnd.random)
        germany = rnd.random() < 0.12
        postal_code, city = rnd.choice(DE_CITIES if germany else CITIES)
        local = f"{first}.{last}".lower().replace("ü", "ue").replace("ä", "ae").replace("ö", "oe").replace("â", "a")
        email = copy_text(f"{local}{customer_id}@{rnd.choice(MAIL_DOMAINS)}")
        address = {
            "first_name": first,
            "last_name": last,
            "company": rnd.choice(("", "", "", "", "Gewürzhaus AG", "Restaurant Sonne", "Café Central GmbH")),
            "street": f"{rnd.choice(STREETS)} {rnd.randint(1, 140)}",
            "postal_code": postal_code,
            "city": city,
            "country": "DE" if germany else "CH",
            "phone": f"+41 7{rnd.randint(5, 9)} {rnd.randint(100, 999)} {rnd.randint(10, 99)} {rnd.randint(10, 99)}",
        }
        # a customer signs up shortly before the first order it can place (see generate_chunk)
        first_order = min(orders - 1, int((customer_id - 1) / customers / 1.15 * orders)) if orders else 0
        signed_up = created_at_for(first_order, max(orders, 1), start, span) - timedelta(
            seconds=rnd.randint(60, 86400 * 10)
        )
        created = ts(signed_up)
        rows.append(
            f"{customer_id}\t{email}\t{copy_text(first)}\t{copy_text(last)}\t{language}\t\\N\t{created}\t{created}\n"
        )
        fields.append(
            (
                email,
                copy_text(f"{first} {last}"),
                language,
                copy_text(json.dumps(address, ensure_ascii=False, separators=(", ", ": "))),
            )
        )
    return "".join(rows).encode(), fields


# ---------------------------------------------------------------- time line


def created_at_for(index, total, start, span_seconds):
    """Order ``index`` of ``total``: monotone in index, the rate growing ~3x over the span,
    with a day/night rhythm (more orders in the evening, few at night)."""
    growth = math.log(3.0)
    u = (index + 0.5) / total
    fraction = math.log(1 + u * (math.exp(growth) - 1)) / growth
    moment = start + timedelta(seconds=fraction * span_seconds)
    # move the order inside its day according to a day/night profile, keeping the date
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if day + timedelta(days=1) > start + timedelta(seconds=span_seconds):
        return moment.replace(microsecond=0)  # today: nothing after now
    seconds_in_day = (moment - day).total_seconds() / 86400.0
    shaped = seconds_in_day**0.8 if seconds_in_day > 0 else 0.0  # bends toward the evening
    return day + timedelta(seconds=int(shaped * 86399))


# ---------------------------------------------------------------- status, payment


def status_for(age_days, method, rnd):
    """(status, payment_status) for an order of this age and payment method."""
    r = rnd.random()
    psp = method in ("card", "paypal")
    if age_days < 0.05 and r < 0.06:  # a cart, last hour
        return "open", "pending" if psp else "unpaid"
    if age_days < 0.2 and psp and r < 0.10:
        return "payment_pending", "pending"
    if age_days < 0.5 and psp and r < 0.02:  # the callback never came (S9)
        return "payment_pending", "pending"
    r = rnd.random()
    if age_days < 2:
        status = "new" if r < 0.6 else ("in_progress" if r < 0.85 else ("shipped" if r < 0.97 else "cancelled"))
    elif age_days < 7:
        status = "new" if r < 0.08 else ("in_progress" if r < 0.25 else ("shipped" if r < 0.90 else "cancelled"))
    elif age_days < 30:
        status = (
            "in_progress"
            if r < 0.02
            else "shipped"
            if r < 0.40
            else "completed"
            if r < 0.93
            else "cancelled"
            if r < 0.96
            else "dunning_1"
        )
    elif age_days < 90:
        status = (
            "shipped"
            if r < 0.04
            else "completed"
            if r < 0.925
            else "cancelled"
            if r < 0.96
            else "dunning_1"
            if r < 0.985
            else "dunning_2"
        )
    else:
        status = (
            "shipped"
            if r < 0.003
            else "completed"
            if r < 0.951
            else "cancelled"
            if r < 0.992
            else "dunning_1"
            if r < 0.996
            else "dunning_2"
        )
    if status in ("dunning_1", "dunning_2") and psp:
        status = "completed"
    r = rnd.random()
    if status == "completed":
        payment = "paid" if r < 0.975 else ("partially_refunded" if r < 0.99 else "refunded")
    elif status == "cancelled":
        if psp:
            payment = "voided" if r < 0.5 else ("refunded" if r < 0.85 else "failed")
        else:
            payment = "unpaid" if r < 0.9 else "refunded"
    elif status in ("dunning_1", "dunning_2"):
        payment = "unpaid" if r < 0.8 else "announced"
    elif psp:
        payment = "paid" if r < 0.8 else "authorized"
    elif method == "invoice":
        if status == "shipped":
            payment = "unpaid" if r < 0.55 else ("announced" if r < 0.65 else "paid")
        else:
            payment = "unpaid"
    elif method == "prepayment":
        payment = "unpaid" if (status == "new" and r < 0.6) else ("announced" if r < 0.7 else "paid")
    else:  # cash on delivery
        payment = "unpaid" if status in ("new", "in_progress", "shipped") else "paid"
    return status, payment


# ---------------------------------------------------------------- one chunk of orders

_world = {}


def _init_world(seed, customers, orders, start_iso, now_iso):
    articles, article_acc = make_articles(seed)
    _world.update(
        seed=seed,
        customers=customers,
        orders=orders,
        articles=articles,
        article_acc=article_acc,
        start=datetime.fromisoformat(start_iso),
        now=datetime.fromisoformat(now_iso),
    )


def generate_chunk(task):
    """Orders [first, last) and their lines as COPY text: (orders, lines, open orders, line count).

    Every submitted order gets an invoice number; numbering assumes no open order (cart) came
    before this chunk, and the parent shifts the chunk when some did (only the last hour has carts)."""
    first, last = task
    world = _world
    seed, total, customers = world["seed"], world["orders"], world["customers"]
    start, now = world["start"], world["now"]
    span = (now - start).total_seconds()
    articles, article_acc = world["articles"], world["article_acc"]
    customer_fields = world["customer_fields"]
    rnd = random.Random(seed * 9_999_991 + first)
    random_ = rnd.random
    pick_method, pick_lines, pick_quantity = picker(METHODS), picker(LINE_COUNTS), picker(QUANTITIES)
    order_rows, line_rows = [], []
    invoice = INVOICE_START + first
    opens = line_count = 0
    # customers: a skewed share of repeat buyers; customer ids also rise roughly with time
    for index in range(first, last):
        order_id = index + 1
        created = created_at_for(index, total, start, span)
        age_days = (now - created).total_seconds() / 86400.0
        horizon = max(1, int(customers * min(1.0, (index + 1) / total * 1.15)))
        if random_() < 0.55:  # a returning customer, from the oldest (most loyal) ones
            customer_id = 1 + int((random_() ** 2.2) * horizon)
        else:
            customer_id = 1 + int(random_() * horizon)
        customer_id = min(customer_id, customers)
        email, name, language, billing = customer_fields[customer_id - 1]
        method = pick_method(random_)
        status, payment = status_for(age_days, method, rnd)
        currency = "EUR" if (random_() < 0.15) else "CHF"
        # lines
        chosen = set()
        subtotal_cents = 0
        for position in range(1, pick_lines(random_) + 1):
            index_article = bisect.bisect_left(article_acc, random_())
            while index_article in chosen:
                index_article = (index_article + 1) % len(articles)
            chosen.add(index_article)
            number, article_name, price = articles[index_article]
            quantity = pick_quantity(random_)
            price_cents = int(round(price * 100)) if currency == "CHF" else int(round(price * 95))
            total_cents = price_cents * quantity
            subtotal_cents += total_cents
            line_count += 1
            line_rows.append(
                f"{order_id}\t{position}\t{number}\t{article_name}\t{quantity}\t"
                f"{price_cents // 100}.{price_cents % 100:02d}\t{total_cents // 100}.{total_cents % 100:02d}\n"
            )
        shipping_cents = 0 if subtotal_cents >= 10000 else (790 if currency == "CHF" else 690)
        total_cents = subtotal_cents + shipping_cents
        reference = REFERENCE_START + index
        if status == "open":
            invoice_number = "\\N"
            session_id = f"sess-{rnd.getrandbits(64):016x}"
            submitted = "\\N"
            paused = "t" if random_() < 0.1 else "f"
            opens += 1
        else:
            invoice_number = f"{INVOICE_PREFIX}{invoice}"
            invoice += 1
            session_id = "\\N"
            submitted = ts(created)
            paused = "f"
        shipping = billing if random_() < 0.85 else billing.replace('"street": "', '"street": "Postfach, ', 1)
        tracking = f"99.{random_() * 1e10:010.0f}" if status in ("shipped", "completed") and random_() < 0.7 else "\\N"
        changes = {
            "open": 0,
            "payment_pending": 0,
            "new": 0,
            "in_progress": 1,
            "shipped": 2,
            "completed": 3,
            "cancelled": 1,
            "dunning_1": 3,
            "dunning_2": 4,
        }[status]
        updated = created + timedelta(seconds=int(min(age_days, 20) * 86400 * random_())) if changes else created
        payment_sequence = "\\N" if payment in ("unpaid",) else str(1 + (changes > 1) + (payment == "refunded"))
        order_rows.append(
            f"{order_id}\t{reference}\t{invoice_number}\tf\t{customer_id}\t{email}\t{name}\t{language}\t"
            f"{status}\t{payment}\t{PAYMENT_STATUS_RANK[payment]}\t{payment_sequence}\t{method}\t{currency}\t"
            f"{subtotal_cents // 100}.{subtotal_cents % 100:02d}\t{shipping_cents // 100}.{shipping_cents % 100:02d}\t"
            f"{total_cents // 100}.{total_cents % 100:02d}\t{billing}\t{shipping}\t{session_id}\t{paused}\t"
            f"{tracking}\t{1 + changes}\t{ts(created)}\t{ts(updated)}\t{submitted}\n"
        )
    return "".join(order_rows).encode(), "".join(line_rows).encode(), opens, line_count


ORDER_COLUMNS = (
    "id, reference, invoice_number, invoice_number_external, customer_id, customer_email, "
    "customer_name, language, status, payment_status, payment_status_rank, payment_status_sequence, "
    "payment_method, currency, subtotal, shipping_cost, total, billing_address, shipping_address, "
    "session_id, paused, tracking_number, version, created_at, updated_at, submitted_at"
)
LINE_COLUMNS = "order_id, position, article_number, name, quantity, unit_price, line_total"


# ---------------------------------------------------------------- streaming COPY


class QueueReader:
    """A file-like object for copy_expert fed with byte chunks from a queue (None ends it)."""

    def __init__(self, source):
        self.source = source
        self.chunk = b""
        self.offset = 0
        self.done = False

    def read(self, size=-1):
        while self.offset >= len(self.chunk):
            if self.done:
                return b""
            chunk = self.source.get()
            if chunk is None:
                self.done = True
                return b""
            self.chunk, self.offset = chunk, 0
        if size is None or size < 0:
            size = len(self.chunk)
        data = self.chunk[self.offset : self.offset + size]
        self.offset += len(data)
        return data

    readline = read


class CopyThread(threading.Thread):
    """COPY into one table on its own connection, in one transaction with TRUNCATE (so FREEZE applies)."""

    def __init__(self, url, table, columns, source):
        super().__init__(daemon=True)
        self.url, self.table, self.columns, self.source = url, table, columns, source
        self.error = None
        self.reader = QueueReader(source)

    def run(self):
        try:
            connection = connect(self.url)
            with connection, connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                cursor.execute(f"TRUNCATE {SCHEMA}.{self.table}")
                cursor.copy_expert(
                    f"COPY {SCHEMA}.{self.table} ({self.columns}) FROM STDIN WITH (FORMAT text, FREEZE)",
                    self.reader,
                    size=1 << 20,
                )
            connection.close()
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
            # keep draining so producers never block forever
            while not self.reader.done:
                if self.source.get() is None:
                    break


def libpq_url(url):
    """``postgresql+psycopg2://`` (SQLAlchemy's spelling) as libpq wants it."""
    return urlunparse(urlparse(url)._replace(scheme="postgresql"))


def connect(url):
    return psycopg2.connect(libpq_url(url), options=f"-csearch_path={SCHEMA}")


def admin_url(url):
    return urlunparse(urlparse(libpq_url(url))._replace(path="/postgres"))


def database_name(url):
    return urlparse(url).path.lstrip("/")


# ---------------------------------------------------------------- steps


def existing_dataset(url):
    try:
        connection = psycopg2.connect(libpq_url(url))
    except psycopg2.OperationalError:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT params FROM {BENCH_SCHEMA}.dataset WHERE complete")
            row = cursor.fetchone()
            return row[0] if row else None
    except psycopg2.Error:
        return None
    finally:
        connection.close()


def recreate_database(url):
    name = database_name(url)
    connection = psycopg2.connect(admin_url(url))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def migrate(url):
    sys.path.insert(0, str(REPO / "services" / "orders"))
    sys.path.insert(0, str(REPO / "common"))
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    from oms_common.migrations import upgrade

    upgrade(REPO / "services" / "orders", url)


def strip_indexes(connection, tables):
    """Drops secondary indexes, unique and foreign-key constraints of ``tables`` (and foreign keys
    of other tables that reference them: TRUNCATE refuses a referenced table); returns what
    rebuilds them."""
    names = [f"{SCHEMA}.{t}" for t in tables] + list(tables)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE n.nspname = %s AND c.contype IN ('f', 'u')
              AND (c.conrelid::regclass::text = ANY(%s) OR (c.contype = 'f' AND c.confrelid::regclass::text = ANY(%s)))
            ORDER BY c.contype, c.conname""",
            (SCHEMA, names, names),
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = %s AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conname = i.indexname AND c.connamespace = %s::regnamespace)
            ORDER BY i.indexname""",
            (SCHEMA, list(tables), SCHEMA),
        )
        indexes = cursor.fetchall()
        unique_indexes = []
        for table, name, kind, _definition in constraints:
            if kind == "u":
                cursor.execute(
                    """SELECT pg_get_indexdef(conindid) FROM pg_constraint
                                  WHERE conname = %s AND connamespace = %s::regnamespace""",
                    (name, SCHEMA),
                )
                unique_indexes.append((table, name, cursor.fetchone()[0]))
        for table, name, kind, _ in constraints:
            if kind == "f":
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table, name, _ in unique_indexes:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX {SCHEMA}."{name}"')
    connection.commit()
    foreign_keys = [(table, name, definition) for table, name, kind, definition in constraints if kind == "f"]
    return {"indexes": indexes, "unique": unique_indexes, "foreign_keys": foreign_keys}


def rebuild_indexes(url, saved, workers=2):
    """Creates the saved indexes on ``workers`` connections at once, then re-attaches the constraints."""
    statements = [definition for _, definition in saved["indexes"]]
    statements += [definition for _, _, definition in saved["unique"]]

    statements.sort(key=lambda s: 0 if ".order_lines " in s else 1)  # the biggest table's first
    work = queue.Queue()
    for statement in statements:
        work.put(statement)
    errors = []

    def worker():
        connection = connect(url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET max_parallel_maintenance_workers = 0")
            while True:
                try:
                    statement = work.get_nowait()
                except queue.Empty:
                    break
                began = time.monotonic()
                try:
                    cursor.execute(statement)
                except psycopg2.Error as exc:
                    errors.append((statement, exc))
                    continue
                log(f"  {time.monotonic() - began:5.1f} s  {statement.split(' USING ')[0]}")
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"index rebuild failed: {errors}")
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        for table, name, _ in saved["unique"]:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE USING INDEX "{name}"')
        for table, name, definition in saved["foreign_keys"]:
            began = time.monotonic()
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            log(f"  {time.monotonic() - began:5.1f} s  foreign key {table}.{name}")
    connection.close()


def load_customers(url, customers, processes):
    """Customers, generated by ``processes`` workers and streamed into COPY; keeps each
    customer's order fields (e-mail, name, language, address) for the order generators."""
    source = queue.Queue(maxsize=6)
    thread = CopyThread(
        url, "customers", "id, email, first_name, last_name, language, merged_into_id, created_at, updated_at", source
    )
    thread.start()
    tasks = [(first, min(first + CHUNK, customers + 1)) for first in range(1, customers + 1, CHUNK)]
    fields = []
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for rows, chunk_fields in pool.imap(customer_chunk, tasks):
                source.put(rows)
                fields.extend(chunk_fields)
                if thread.error:
                    break
    finally:
        source.put(None)
        thread.join()
    if thread.error:
        raise thread.error
    _world["customer_fields"] = fields  # inherited by the order generators (fork)


def load_orders(url, orders, processes):
    """Orders and lines, generated by ``processes`` workers, streamed into two COPYs at once.

    Chunks arrive in order (imap), so the tables' physical order follows created_at as it
    does in a shop that inserts orders as they come."""
    order_queue, line_queue = queue.Queue(maxsize=6), queue.Queue(maxsize=6)
    orders_thread = CopyThread(url, "orders", ORDER_COLUMNS, order_queue)
    lines_thread = CopyThread(url, "order_lines", LINE_COLUMNS, line_queue)
    orders_thread.start()
    lines_thread.start()
    tasks = [(first, min(first + CHUNK, orders)) for first in range(0, orders, CHUNK)]
    context = multiprocessing.get_context("fork")
    opens = lines = 0
    began = time.monotonic()
    try:
        with context.Pool(processes) as pool:  # forked: inherits _world with the customers
            for number, ((_first, last), (order_bytes, line_bytes, chunk_opens, line_count)) in enumerate(
                zip(tasks, pool.imap(generate_chunk, tasks, chunksize=1), strict=True), start=1
            ):
                if opens:  # carts earlier on took no invoice number: close the gap
                    order_bytes = _shift_invoice_numbers(order_bytes, -opens)
                order_queue.put(order_bytes)
                line_queue.put(line_bytes)
                opens += chunk_opens
                lines += line_count
                if number % 10 == 0 or last == orders:
                    elapsed = time.monotonic() - began
                    log(f"  {last:>9,} orders, {lines:>10,} lines generated ({last / elapsed:,.0f} orders/s)")
                if orders_thread.error or lines_thread.error:
                    break
    finally:
        order_queue.put(None)
        line_queue.put(None)
        orders_thread.join()
        lines_thread.join()
    for thread in (orders_thread, lines_thread):
        if thread.error:
            raise thread.error
    return orders - opens, lines


def _shift_invoice_numbers(data, offset, column=2):
    prefix = INVOICE_PREFIX.encode()
    out = []
    for row in data.split(b"\n"):
        if not row:
            continue
        fields = row.split(b"\t")
        value = fields[column]
        if value != b"\\N":
            fields[column] = prefix + str(int(value[len(prefix) :]) + offset).encode()
        out.append(b"\t".join(fields))
    out.append(b"")
    return b"\n".join(out)


def finish(url, orders, customers, invoices, lines, seed, elapsed):
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM order_counts")
        cursor.execute("""INSERT INTO order_counts (status, payment_status, count)
                          SELECT status, payment_status, count(*) FROM orders GROUP BY status, payment_status""")
        cursor.execute(
            "UPDATE number_sequences SET start_at = %s, last_issued = %s, prefix = '' WHERE name = 'reference'",
            (REFERENCE_START, REFERENCE_START + orders - 1 if orders else None),
        )
        cursor.execute(
            "UPDATE number_sequences SET start_at = %s, last_issued = %s, prefix = %s WHERE name = 'invoice'",
            (INVOICE_START, INVOICE_START + invoices - 1 if invoices else None, INVOICE_PREFIX),
        )
        # references are drawn from this sequence (orders migration 0004): next is the one after the data set's
        cursor.execute("SELECT setval('order_reference_seq', %s, false)", (REFERENCE_START + orders,))
        for table in ("customers", "orders"):  # explicit ids were loaded; order_lines used its sequence
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{SCHEMA}.{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {BENCH_SCHEMA}")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BENCH_SCHEMA}.dataset "
            f"(params jsonb NOT NULL, complete boolean NOT NULL, created_at timestamptz DEFAULT now())"
        )
        cursor.execute(f"DELETE FROM {BENCH_SCHEMA}.dataset")
        cursor.execute(
            f"INSERT INTO {BENCH_SCHEMA}.dataset (params, complete) VALUES (%s, true)",
            (
                json.dumps(
                    {
                        "orders": orders,
                        "customers": customers,
                        "lines": lines,
                        "seed": seed,
                        "invoices": invoices,
                        "seconds": round(elapsed, 1),
                    }
                ),
            ),
        )
    connection.close()


def vacuum_analyze(url):
    connection = connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        for table in ("customers", "orders", "order_lines", "order_counts", "number_sequences"):
            cursor.execute(f"VACUUM (ANALYZE) {SCHEMA}.{table}")
    connection.close()


def counts(url):
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        result = {}
        for table in ("customers", "orders", "order_lines"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            result[table] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        result["size"] = cursor.fetchone()[0]
    connection.close()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("OMS_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: orders / 5")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the database if it already holds a complete data set of this size"
    )
    parser.add_argument("--processes", type=int, default=max(1, min(4, os.cpu_count() or 2)))
    args = parser.parse_args(argv)
    customers = args.customers or max(1, args.orders // 5)

    if args.reuse:
        existing = existing_dataset(args.url)
        if (
            existing
            and existing.get("orders") == args.orders
            and existing.get("customers") == customers
            and existing.get("seed") == args.seed
        ):
            log(
                f"reusing {database_name(args.url)}: {existing['orders']:,} orders, {existing['lines']:,} lines, "
                f"{existing['customers']:,} customers (generated in {existing.get('seconds')} s)"
            )
            return 0
        log(f"--reuse: {database_name(args.url)} does not hold this data set ({existing}); generating it")

    began = time.monotonic()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    start = now - timedelta(days=365 * YEARS)
    log(f"database {database_name(args.url)}: dropping and creating")
    recreate_database(args.url)
    log("applying the orders service migrations")
    migrate(args.url)
    connection = connect(args.url)
    saved = strip_indexes(connection, ("customers", "orders", "order_lines", "order_history"))
    connection.close()
    log(
        f"dropped {len(saved['indexes'])} indexes, {len(saved['unique'])} unique and "
        f"{len(saved['foreign_keys'])} foreign-key constraints for the load"
    )

    step = time.monotonic()
    log(f"loading {customers:,} customers")
    _init_world(args.seed, customers, args.orders, start.isoformat(), now.isoformat())
    load_customers(args.url, customers, args.processes)
    log(f"  done in {time.monotonic() - step:.1f} s")
    step = time.monotonic()
    log(f"loading {args.orders:,} orders with their lines ({args.processes} generator processes)")
    invoices, lines = load_orders(args.url, args.orders, args.processes)
    log(f"  done in {time.monotonic() - step:.1f} s")
    step = time.monotonic()
    log("rebuilding indexes and constraints")
    rebuild_indexes(args.url, saved)
    log(f"  done in {time.monotonic() - step:.1f} s")
    step = time.monotonic()
    log("order_counts, number_sequences, id sequences; VACUUM ANALYZE")
    finish(args.url, args.orders, customers, invoices, lines, args.seed, time.monotonic() - began)
    vacuum_analyze(args.url)
    log(f"  done in {time.monotonic() - step:.1f} s")
    result = counts(args.url)
    log(
        f"{result['orders']:,} orders, {result['order_lines']:,} lines, {result['customers']:,} customers; "
        f"database size {result['size']}; total {time.monotonic() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
