"""Plain-Python rules and writers of the exports service (no broker, no database)."""

import random
from datetime import datetime, timezone

import pytest
from lxml import etree
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from exports import domain, serialize, web
from exports.settings import ExportSettings

from .conftest import order_doc

POOL = (
    "abcXYZ 0123 äöüß éèê ñ ø 東京 北京 서울 مرحبا שלום 😀 👩‍👩‍👧 𝔘 \u200b\u200f\u202e"
    "&<>\"'`;,=+-@#%\t\n\r\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\u2028\u2029\ufffe\uffff\ud800\udfff]]><![CDATA["
)


def random_text(rng, length):
    return "".join(rng.choice(POOL) for _ in range(length))


def test_the_xml_writer_escapes_any_text_the_way_an_xml_parser_reads_it_back():
    rng = random.Random(20261127)
    for _ in range(300):
        value = random_text(rng, rng.randint(1, 40))
        text = etree.fromstring(f"<a>{serialize.esc(value)}</a>".encode("utf-8", "surrogatepass")).text or ""
        assert text == domain.xml_text(value)
        attribute = etree.fromstring(f'<a x="{serialize.attr(value)}"/>'.encode("utf-8", "surrogatepass")).get("x")
        assert attribute == domain.xml_text(value)


def test_random_hostile_orders_always_give_schema_valid_documents():
    rng = random.Random(7)
    docs = []
    for index in range(60):
        text = random_text(rng, rng.randint(1, 30)).replace("\ud800", "x").replace("\udfff", "y")
        docs.append(
            order_doc(
                f"R{index}",
                customer={"id": index + 1, "email": "x@example.com", "name": text},
                tracking_number=text,
                lines=[
                    {
                        "position": 1,
                        "article_number": text,
                        "name": text,
                        "quantity": 1,
                        "unit_price": "1.00",
                        "line_total": "1.00",
                    }
                ],
            )
        )
    body = b"".join(serialize.xml_chunks("orders", iter(docs), "2026-01-01T00:00:00+00:00", watermark=5))
    root = etree.fromstring(body)
    assert serialize.xml_schema().validate(root), serialize.xml_schema().error_log
    names = [e.text or "" for e in root.iterfind(".//{%s}customer/{%s}name" % (serialize.NS, serialize.NS))]
    assert names == [domain.xml_text(doc["customer"]["name"]) for doc in docs]


def test_chunks_are_bounded_and_the_end_element_counts_the_records():
    docs = (order_doc(f"B{i}") for i in range(2000))
    stats = serialize.Stats()
    chunks = list(serialize.xml_chunks("orders", docs, "2026-01-01T00:00:00+00:00", stats=stats))
    assert len(chunks) > 10
    assert max(len(chunk) for chunk in chunks) < serialize.CHUNK_SIZE + 8192
    assert stats.records == 2000 and stats.bytes == sum(map(len, chunks))
    assert b'<end count="2000"/>' in chunks[-1]


def test_check_exportable_refuses_what_the_schema_would_refuse():
    serialize.check_exportable(order_doc("1"))
    for bad in (
        order_doc("1", currency="chf"),
        order_doc("1", total="1.5"),
        order_doc("1 2"),
        order_doc("1", billing_address={"first_name": "A"}),
        {**order_doc("1"), "lines": []},
        order_doc("1", customer={"id": 1, "email": "x" * 300 + "@example.com", "name": "A"}),
    ):
        with pytest.raises(serialize.NotExportable):
            serialize.check_exportable(bad)


def test_csv_cells_never_start_a_formula_and_carry_the_same_text_as_xml():
    assert domain.csv_text("=1+1") == "'=1+1"
    assert domain.csv_text("-5") == "'-5" and domain.csv_text("@x") == "'@x" and domain.csv_text("+41") == "'+41"
    assert domain.csv_text("a\x00b") == "a\ufffdb"
    assert domain.csv_text('Zürich; "Nord"\n2') == 'Zürich; "Nord"\n2'  # csv quotes it, nothing lost
    body = b"".join(serialize.csv_chunks("orders", [order_doc("1")], delimiter="\t"))
    assert body.startswith(b"\xef\xbb\xbfreference\tinvoice_number\t")
    assert body.count(b"\r\n") == 3  # header and one row per line


def test_schedules_follow_cron_in_the_jobs_time_zone():
    winter = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
    assert domain.next_due("0 2 * * *", winter, "Europe/Zurich") == datetime(2026, 1, 11, 1, 0, tzinfo=timezone.utc)
    summer = datetime(2026, 7, 10, 12, 0, tzinfo=timezone.utc)
    assert domain.next_due("0 2 * * *", summer, "Europe/Zurich") == datetime(2026, 7, 11, 0, 0, tzinfo=timezone.utc)
    assert domain.next_due("*/15 * * * *", datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)) == datetime(
        2026, 1, 1, 0, 15, tzinfo=timezone.utc
    )
    for bad in ("* * * *", "61 * * * *", "0 0 31 2 * *", "banana"):
        with pytest.raises(domain.ScheduleError):
            domain.check_cron(bad)
    with pytest.raises(domain.ScheduleError):
        domain.check_cron("0 0 * * *", "Mars/Olympus")


def test_targets_stay_below_the_export_directory():
    assert domain.check_target("erp/daily") == "erp/daily"
    assert domain.check_target("erp/daily/") == "erp/daily"
    for bad in ("/etc", "../x", "a/../../b", "a\\b", "", " ", "a/.hidden", "a/b c"):
        with pytest.raises(ValueError):
            domain.check_target(bad)


def test_file_names_and_their_temporary_names():
    name = domain.run_file_name("ERP Täglich!", "orders", datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), 7, "xml")
    assert name == "erp-t-glich-orders-20260102T030405Z-7.xml"
    assert domain.temp_name(name) == f".{name}.part"


def test_the_customer_name_splits_at_the_last_space():
    assert domain.split_name("Anna Maria  Muster", "X") == ("Anna Maria", "Muster")
    assert domain.split_name("Madonna", "Ciccone") == ("Madonna", "Ciccone")


def test_the_listener_requires_the_internal_token_when_one_is_set(tmp_path):
    settings = ExportSettings(export_dir=tmp_path, internal_token="s3cret")
    request = Request(EnvironBuilder(path="/exports/orders.xml").get_environ())
    response = web.download(None, settings, request, "orders.xml")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    wrong = Request(EnvironBuilder(path="/exports/schema.xsd", headers={web.TOKEN_HEADER: "s3cre"}).get_environ())
    assert web.download(None, settings, wrong, "schema.xsd").status_code == 401
    request = Request(EnvironBuilder(path="/exports/schema.xsd", headers={web.TOKEN_HEADER: "s3cret"}).get_environ())
    assert web.download(None, settings, request, "schema.xsd").status_code == 200


def test_the_listener_answers_nobody_when_no_internal_token_is_configured(tmp_path):
    settings = ExportSettings(export_dir=tmp_path, internal_token="")
    for headers in ({}, {web.TOKEN_HEADER: ""}, {web.TOKEN_HEADER: "anything"}):
        request = Request(EnvironBuilder(path="/exports/orders.xml", headers=headers).get_environ())
        response = web.download(None, settings, request, "orders.xml")
        assert response.status_code == 401 and response.mimetype == "application/problem+json"
        assert b"<order" not in response.get_data()


def test_settings_check_the_csv_delimiter(tmp_path):
    assert ExportSettings.from_config({"EXPORT_DIR": str(tmp_path), "CSV_DELIMITER": "tab"}).csv_delimiter == "\t"
    assert ExportSettings.from_config({"EXPORT_DIR": str(tmp_path)}).csv_delimiter == ";"
    with pytest.raises(ValueError):
        ExportSettings.from_config({"EXPORT_DIR": str(tmp_path), "CSV_DELIMITER": '"'})


def test_a_database_that_cannot_be_reached_gives_503_not_500(tmp_path):
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    request = Request(EnvironBuilder(path="/exports/orders.xml", headers={web.TOKEN_HEADER: "t"}).get_environ())
    response = web.download(engine, ExportSettings(export_dir=tmp_path, internal_token="t"), request, "orders.xml")
    assert response.status_code == 503 and response.json["status"] == 503
