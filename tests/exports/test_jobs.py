"""Scheduled export jobs: management, one run per due time across replicas, complete files
only, and incremental runs that neither repeat nor miss an order (also after a failed run)."""

import os
from datetime import datetime, timezone

import pytest
from lxml import etree
from nameko.containers import ServiceContainer
from sqlalchemy import update

from exports import job_runs, serialize
from exports.handlers import current_change
from exports.models import ExportJob, ExportRun
from exports.service import ExportsService
from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ValidationFailed

from .conftest import ADMIN, free_port, order_doc, wait_until

NS = {"o": serialize.NS}


def job_data(unique, **overrides):
    data = {
        "name": f"erp-{unique}",
        "cron": "0 3 * * *",
        "kind": "orders",
        "format": "xml",
        "filters": {"q": f"J{unique}-"},
        "target": f"erp/{unique}",
        "incremental": True,
    }
    data.update(overrides)
    return data


def files_in(directory):
    return sorted(os.listdir(directory)) if directory.exists() else []


def references_in(path):
    root = etree.parse(str(path)).getroot()
    assert serialize.xml_schema().validate(root), serialize.xml_schema().error_log
    return [order.get("reference") for order in root.findall("o:order", NS)]


def make_due(source, job_id):
    with source.unit_of_work() as uow:
        uow.session.execute(
            update(ExportJob).where(ExportJob.id == job_id).values(next_run_at=datetime.now(timezone.utc))
        )
        uow.commit()


def test_job_management_validates_and_schedules(call, clean_jobs, unique):
    job = call("create_job", job_data(unique, cron="30 2 * * 1-5", timezone="Europe/Zurich"), actor=ADMIN)
    assert job["kind"] == "orders" and job["filters"] == {"q": f"J{unique}-"} and job["created_by"] == "alice"
    next_run = datetime.fromisoformat(job["next_run_at"])
    assert next_run > datetime.now(timezone.utc)
    assert next_run.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Zurich")).strftime("%H:%M") == "02:30"

    with pytest.raises(ValidationFailed) as raised:
        call(
            "create_job",
            job_data(unique + "x", cron="61 * * * *", target="../../etc", format="pdf", filters={"status": ["lost"]}),
        )
    assert {"cron", "target", "format"} <= set(raised.value.errors)
    with pytest.raises(ValidationFailed) as raised:
        call("create_job", job_data(unique + "y", filters={"status": ["lost"], "colour": "red"}))
    assert set(raised.value.errors) == {"filters.status.0", "filters.colour"}
    with pytest.raises(Conflict):
        call("create_job", job_data(unique))
    for target in ("/etc", "a/../../b", "..", "a\\b"):
        with pytest.raises(ValidationFailed):
            call("create_job", job_data(unique + "z", target=target))

    updated = call("update_job", job["id"], {"cron": "*/5 * * * *", "version": job["version"]})
    assert updated["version"] == job["version"] + 1 and updated["cron"] == "*/5 * * * *"
    with pytest.raises(Conflict):
        call("update_job", job["id"], {"enabled": False, "version": job["version"]})  # stale version
    kept = call("get_job", job["id"])
    assert (kept["version"], kept["enabled"], kept["cron"]) == (updated["version"], updated["enabled"], updated["cron"])
    assert [j["id"] for j in call("list_jobs")] == [job["id"]]
    queued = call("run_job_now", job["id"])
    assert datetime.fromisoformat(queued["next_run_at"]) <= datetime.now(timezone.utc)
    call("delete_job", job["id"])
    with pytest.raises(NotFound):
        call("get_job", job["id"])


def test_incremental_job_after_a_failed_run_misses_nothing_and_repeats_nothing(
    call, feed, exports_db, settings, clean_jobs, unique, monkeypatch
):
    job = call("create_job", job_data(unique))
    directory = settings.export_dir / "erp" / unique
    exported = []

    def run():
        make_due(exports_db, job["id"])
        [result] = job_runs.run_due_jobs(exports_db, settings, replica="test")
        return result

    feed(order_doc(f"J{unique}-1"), order_doc(f"J{unique}-2"), order_doc(f"X{unique}-other"))
    first = run()
    assert first["status"] == "succeeded" and first["rows"] == 2
    exported += references_in(first["file"])

    # a run that fails halfway: the file is never published and the watermark stays
    feed(order_doc(f"J{unique}-3"), order_doc(f"J{unique}-1", version=2, status="shipped"))
    original = serialize.ELEMENT_BUILDERS["orders"]
    written = []

    def failing(order):
        written.append(order["reference"])
        if len(written) == 2:
            raise OSError("disk full")
        return original(order)

    monkeypatch.setitem(serialize.ELEMENT_BUILDERS, "orders", failing)
    failed = run()
    monkeypatch.setitem(serialize.ELEMENT_BUILDERS, "orders", original)
    assert failed["status"] == "failed" and "disk full" in failed["error"] and failed["file"] is None
    assert len(written) == 2
    assert [name for name in files_in(directory) if name.endswith(".part")] == []
    assert call("get_job", job["id"])["watermark"] == first["watermark_to"]

    feed(order_doc(f"J{unique}-4"))
    second = run()
    assert second["status"] == "succeeded" and second["watermark_from"] == first["watermark_to"]
    exported += references_in(second["file"])
    assert sorted(references_in(second["file"])) == [f"J{unique}-1", f"J{unique}-3", f"J{unique}-4"]

    empty = run()
    assert empty["status"] == "succeeded" and empty["rows"] == 0 and references_in(empty["file"]) == []

    # every change exported once: J-1 twice because it changed (v1, then v2), the rest once
    assert sorted(exported) == sorted([f"J{unique}-1", f"J{unique}-2", f"J{unique}-1", f"J{unique}-3", f"J{unique}-4"])
    published = files_in(directory)
    assert len(published) == 3 and all(name.endswith(".xml") and not name.startswith(".") for name in published)
    runs = call("list_runs", {"job_id": job["id"]})
    assert [r["status"] for r in runs["items"]] == ["succeeded", "succeeded", "failed", "succeeded"]


def test_a_run_that_died_after_publishing_its_file_is_not_repeated(
    call, feed, exports_db, settings, clean_jobs, unique
):
    """The process ends between the rename and the commit: the next claim completes the run."""
    job = call("create_job", job_data(unique, format="csv"))
    feed(order_doc(f"J{unique}-1"))
    directory = settings.export_dir / "erp" / unique
    directory.mkdir(parents=True)
    orphan_file = directory / "orphan.csv"
    orphan_file.write_text("complete")
    with exports_db.unit_of_work() as uow:
        watermark = current_change(uow.session)
        uow.session.add(
            ExportRun(
                job_id=job["id"],
                job_name=job["name"],
                due_at=datetime(2001, 1, 1, tzinfo=timezone.utc),
                started_at=datetime.now(timezone.utc),
                status="running",
                rows=1,
                file=str(orphan_file),
                watermark_from=0,
                watermark_to=watermark,
            )
        )
        uow.commit()
    make_due(exports_db, job["id"])
    [run] = job_runs.run_due_jobs(exports_db, settings, replica="test")
    assert run["rows"] == 0  # the orphan's file already carried J-1
    runs = {r["file"]: r for r in call("list_runs", {"job_id": job["id"]})["items"]}
    shown = f"erp/{unique}/orphan.csv"  # relative to the export directory: no server path in answers
    assert runs[shown]["status"] == "succeeded" and "Recovered" in runs[shown]["error"]
    assert not any(str(settings.export_dir) in (r["file"] or "") + (r["error"] or "") for r in runs.values())


def test_a_job_due_while_two_replicas_run_produces_one_file(
    call, feed, base_config, clean_jobs, settings, unique, exports_db
):
    feed(*(order_doc(f"J{unique}-{i}") for i in range(20)))
    created = [
        call(
            "create_job",
            job_data(f"{unique}{n}", filters={"q": f"J{unique}-"}, target=f"replicas/{unique}/{n}", format=fmt),
        )
        for n, fmt in enumerate(("xml", "csv", "xml", "csv", "xml"))
    ]
    replicas = []
    for _ in range(2):
        config = {**base_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}", "JOB_TIMER_SECONDS": 0.05}
        container = ServiceContainer(ExportsService, config)
        container.start()
        replicas.append(container)
    try:
        for job in created:
            call("run_job_now", job["id"])

        def all_ran():
            runs = call("list_runs", {"page_size": 200})["items"]
            mine = [r for r in runs if r["job_id"] in {j["id"] for j in created}]
            return mine if len(mine) >= len(created) and all(r["status"] != "running" for r in mine) else None

        wait_until(all_ran, timeout=20, message="every job ran")

        def none_due_any_more():
            # a run is claimed by moving next_run_at past now in the claiming transaction, so once
            # no job is due and no run is running, no replica can start a second run
            with exports_db.read_session() as session:
                return all(session.get(ExportJob, job["id"]).next_run_at > utcnow() for job in created)

        wait_until(none_due_any_more, timeout=20, message="no job due any more")
        runs = [r for r in call("list_runs", {"page_size": 200})["items"] if r["job_id"] in {j["id"] for j in created}]
    finally:
        for container in replicas:
            container.stop()
    assert sorted(r["job_id"] for r in runs) == sorted(j["id"] for j in created)  # one run per job
    assert all(r["status"] == "succeeded" and r["rows"] == 20 for r in runs)
    for n, job in enumerate(created):
        directory = settings.export_dir / "replicas" / unique / str(n)
        assert files_in(directory) == [os.path.basename(next(r["file"] for r in runs if r["job_id"] == job["id"]))]


def test_an_incremental_customers_csv_job_writes_changed_customers_once(
    call, feed, exports_db, settings, clean_jobs, unique
):
    from .conftest import SYNTHETIC

    first_id = SYNTHETIC + 500000 + int(unique[:4], 16)
    email = f"cust-{unique.lower()}@example.com"
    job = call("create_job", job_data(unique, kind="customers", format="csv", filters={"q": f"cust-{unique.lower()}"}))
    feed(
        order_doc(
            f"J{unique}-1", customer_id=first_id, customer={"id": first_id, "email": email, "name": "=Erika Muster"}
        )
    )
    make_due(exports_db, job["id"])
    [first] = job_runs.run_due_jobs(exports_db, settings, replica="test")
    body = open(first["file"], encoding="utf-8-sig").read().splitlines()
    assert body[0] == "id;email;name;language;updated_at;merged_into"
    assert body[1].startswith(f"{first_id};{email};'=Erika Muster;de;")
    # another order of the same customer without a change of the customer: nothing new to export
    feed(
        order_doc(
            f"J{unique}-2", customer_id=first_id, customer={"id": first_id, "email": email, "name": "=Erika Muster"}
        )
    )
    make_due(exports_db, job["id"])
    [second] = job_runs.run_due_jobs(exports_db, settings, replica="test")
    assert second["rows"] == 0
    feed(
        order_doc(
            f"J{unique}-3",
            version=1,
            customer_id=first_id,
            customer={"id": first_id, "email": email, "name": "Erika Muster-Meier"},
        )
    )
    make_due(exports_db, job["id"])
    [third] = job_runs.run_due_jobs(exports_db, settings, replica="test")
    assert third["rows"] == 1 and "Erika Muster-Meier" in open(third["file"], encoding="utf-8-sig").read()
