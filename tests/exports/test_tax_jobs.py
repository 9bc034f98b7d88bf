"""Export jobs choose their format version (``schema_version``, default 1); migration 0003 gives the
rows copied before it their VAT columns from the documents they keep, and existing jobs version 1."""

import importlib.util
import json
from datetime import datetime, timezone

import pytest
from lxml import etree
from sqlalchemy import create_engine, text

from exports import job_runs, serialize, serialize_v2
from oms_common.migrations import upgrade
from oms_common.problems import ValidationFailed
from tests.conftest import service_dir
from tests.support.suite import create_database, drop_database

from .conftest import order_doc, taxed_order_doc
from .test_jobs import job_data, make_due

V2 = {"o": serialize_v2.NS}


def run_now(call, exports_db, settings, job):
    make_due(exports_db, job["id"])
    [run] = job_runs.run_due_jobs(exports_db, settings, replica="test")
    assert run["status"] == "succeeded", run
    return run


def test_a_job_with_schema_version_2_writes_v2_files(call, feed, exports_db, settings, clean_jobs, unique):
    feed(taxed_order_doc(f"J{unique}-1"))
    v2 = call("create_job", job_data(unique, schema_version=2, incremental=False))
    v1 = call("create_job", job_data(unique + "-1", incremental=False))
    v2_csv = call("create_job", job_data(unique + "-c", format="csv", schema_version=2, incremental=False))
    assert (v2["schema_version"], v1["schema_version"]) == (2, 1)
    assert call("get_job", v2["id"])["schema_version"] == 2

    root = etree.parse(run_now(call, exports_db, settings, v2)["file"]).getroot()
    assert serialize_v2.xml_schema().validate(root), serialize_v2.xml_schema().error_log
    [order] = root.findall("o:order", V2)
    assert [rate.text for rate in order.iterfind("o:lines/o:line/o:tax_rate", V2)] == ["8.10", "2.60"]
    assert [rate.text for rate in order.iterfind("o:tax_breakdown/o:row/o:rate", V2)] == ["8.10", "2.60"]

    old = etree.parse(run_now(call, exports_db, settings, v1)["file"]).getroot()
    assert old.tag == f"{{{serialize.NS}}}export" and serialize.xml_schema().validate(old)
    assert b"tax" not in etree.tostring(old)

    with open(run_now(call, exports_db, settings, v2_csv)["file"], encoding="utf-8-sig") as handle:
        header = handle.readline().rstrip("\r\n").split(";")
    assert header[-4:] == ["line_tax_rate", "prices_include_tax", "tax_country", "tax_breakdown"]


def test_a_jobs_schema_version_is_validated_and_can_change(call, clean_jobs, unique):
    for bad in (3, 0, "2", True, None):
        with pytest.raises(ValidationFailed) as raised:
            call("create_job", job_data(unique, schema_version=bad))
        assert list(raised.value.errors) == ["schema_version"], bad
    job = call("create_job", job_data(unique))
    changed = call("update_job", job["id"], {"schema_version": 2, "version": job["version"]})
    assert changed["schema_version"] == 2 and changed["cron"] == job["cron"]
    with pytest.raises(ValidationFailed):
        call("update_job", job["id"], {"schema_version": 9})
    assert call("update_job", job["id"], {"enabled": False})["schema_version"] == 2  # kept when not named


def _migration():
    path = service_dir("exports") / "migrations" / "versions" / "0003_order_taxes.py"
    spec = importlib.util.spec_from_file_location("exports_migration_0003", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TAX_COLUMNS = "prices_include_tax, tax_country, line_tax_rates, tax_breakdown"


@pytest.mark.infrastructure
def test_migration_0003_fills_the_tax_columns_of_rows_copied_before_it():
    name, url = create_database("oms_exports_0003")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        upgrade(service_dir("exports"), url, revision="0002")
        broken = taxed_order_doc("M-3")
        broken["lines"][0]["tax_rate"] = "8.1234"
        broken["tax_breakdown"][0]["tax"] = "8.71"  # net + tax is no longer gross
        documents = {"M-1": taxed_order_doc("M-1"), "M-2": order_doc("M-2"), "M-3": broken}
        now = datetime(2025, 1, 1, tzinfo=timezone.utc)
        with engine.begin() as connection:
            for seq, (reference, document) in enumerate(documents.items(), start=1):
                connection.execute(
                    text(
                        "INSERT INTO exports.export_orders (reference, version, change_seq, customer_id, status,"
                        " payment_status, created_at, updated_at, document) VALUES (:r, 1, :s, 1, 'new', 'unpaid',"
                        " :t, :t, CAST(:d AS json))"
                    ),
                    {"r": reference, "s": seq, "t": now, "d": json.dumps(document)},
                )
            connection.execute(
                text(
                    "INSERT INTO exports.export_jobs (name, cron, timezone, kind, format, filters, target, incremental,"
                    " enabled, next_run_at, watermark, version, created_at, updated_at) VALUES ('old', '0 2 * * *',"
                    " 'UTC', 'orders', 'xml', '{}', 'erp', false, true, :t, 0, 1, :t, :t)"
                ),
                {"t": now},
            )

        upgrade(service_dir("exports"), url)

        def columns():
            with engine.connect() as connection:
                rows = connection.execute(
                    text(f"SELECT reference, {TAX_COLUMNS} FROM exports.export_orders ORDER BY reference")
                )
                return {row[0]: tuple(row[1:]) for row in rows}

        found = columns()
        assert found["M-1"] == (True, "CH", ["8.10", "2.60"], documents["M-1"]["tax_breakdown"])
        assert found["M-2"] == (None, None, None, None)  # its document has no VAT data: v2 shows none
        assert found["M-3"] == (True, "CH", None, None)  # only what is of the orders service's shape
        with engine.begin() as connection:
            connection.execute(text("SET search_path TO exports"))
            connection.execute(_migration().BACKFILL)  # again: changes nothing
            assert connection.execute(text("SELECT schema_version FROM export_jobs")).scalar_one() == 1
        assert columns() == found
    finally:
        engine.dispose()
        drop_database(name)
