"""The watched folder: due camt files are imported by the system and moved to done/, refused
ones to failed/ with the reason; one replica scans at a time; files still being written wait."""

import json
import os
import time

from sqlalchemy import text

from oms_common.payment_references import qr_reference
from payments.bank_statements import folder

from . import camt
from .test_bank_statements_references import invoice_order  # noqa: F401 - a fixture

LIMIT = 1024 * 1024


def aged(path, seconds=60):
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def test_due_files_are_imported_once_and_refused_ones_kept_aside(invoice_order, probe, tmp_path):
    reference = invoice_order("35.00")
    data = camt.document([camt.credit("35.00", reference=qr_reference(reference))])
    (tmp_path / "a-statement.xml").write_bytes(data)
    aged(tmp_path / "a-statement.xml")
    (tmp_path / "b-broken.xml").write_bytes(b"<Document")
    aged(tmp_path / "b-broken.xml")
    (tmp_path / "c-still-writing.xml").write_bytes(data)  # just written: waits for the next round
    (tmp_path / "notes.txt").write_text("not a statement")

    summary = folder.scan(probe.source, str(tmp_path), LIMIT, lambda number: None, settle_seconds=30)
    assert len(summary["imported"]) == 1 and summary["imported"][0].endswith("-a-statement.xml")
    assert summary["failed"] == ["b-broken.xml"]
    assert probe.status(reference) == "paid"
    audit = probe.audit(reference, "bank_credit")
    assert [(a.actor, a.actor_kind, a.origin) for a in audit] == [("watched folder", "system", "bank statement")]
    assert (tmp_path / "done" / summary["imported"][0]).read_bytes() == data
    problem = json.loads((tmp_path / "failed" / "b-broken.xml.problem.json").read_text())
    assert problem["status"] == 422 and "document" in problem["errors"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["c-still-writing.xml", "notes.txt"]

    # the file that was still being written, a round later: all of it imported before
    aged(tmp_path / "c-still-writing.xml")
    again = folder.scan(probe.source, str(tmp_path), LIMIT, lambda number: None, settle_seconds=30)
    assert len(again["imported"]) == 1 and len(probe.audit(reference, "bank_credit")) == 1


def test_one_replica_scans_at_a_time_and_no_directory_means_off(invoice_order, probe, tmp_path):
    reference = invoice_order("12.00")
    (tmp_path / "s.xml").write_bytes(camt.document([camt.credit("12.00", reference=qr_reference(reference))]))
    aged(tmp_path / "s.xml")
    assert folder.scan(probe.source, None, LIMIT, lambda number: None) is None
    with probe.source.engine.connect() as other_replica:
        other_replica.execute(text("SELECT pg_advisory_lock(:key)"), {"key": folder.FOLDER_LOCK})
        assert folder.scan(probe.source, str(tmp_path), LIMIT, lambda number: None, settle_seconds=0) is None
        assert (tmp_path / "s.xml").exists() and probe.status(reference) == "unpaid"
        other_replica.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": folder.FOLDER_LOCK})
        other_replica.commit()
    assert len(folder.scan(probe.source, str(tmp_path), LIMIT, lambda number: None, settle_seconds=0)["imported"]) == 1
    assert probe.status(reference) == "paid"
