"""The watched folder: camt files a bank connector drops into ``OMS_BANK_STATEMENT_DIR`` are
imported by the system, then moved to ``done/`` (or ``failed/``, beside a ``.problem.json``
saying why).

Off unless the directory is set. Every replica's timer fires; a session advisory lock lets
one of them scan at a time (the others skip the round), and the import itself books each entry
once, so a file seen twice (a crash before its move) changes nothing the second time. A file
is taken once it has not changed for ``settle_seconds`` (a connector still writing it is left
alone); writing it under another name and renaming it into place is best.
"""

import json
import logging
import time
from pathlib import Path

from oms_common.one_replica import on_one_replica
from oms_common.problems import Problem, ValidationFailed

from .imports import import_statement

log = logging.getLogger(__name__)
FOLDER_LOCK = 0x0B4_5748
ACTOR = {"name": "watched folder", "kind": "system", "role": None, "origin": "bank statement"}
SUFFIXES = (".xml", ".camt", ".053", ".054")


def due_files(directory, settle_seconds, now=None):
    now = time.time() if now is None else now
    return sorted(
        path
        for path in Path(directory).iterdir()
        if path.is_file()
        and path.suffix.lower() in SUFFIXES
        and not path.name.startswith(".")
        and now - path.stat().st_mtime >= settle_seconds
    )


def _move(path, target_dir, prefix):
    target_dir.mkdir(exist_ok=True)
    target = target_dir / f"{prefix}{path.name}"
    path.replace(target)
    return target


def scan(source, directory, max_bytes, find_invoice, settle_seconds=5):
    """Imports the due files of ``directory``; None when another replica is scanning, else
    ``{"imported": [...], "failed": [...]}`` (file names as moved)."""
    if not directory:
        return None
    folder = Path(directory)
    return on_one_replica(
        source.engine, FOLDER_LOCK, lambda: _scan(source, folder, max_bytes, find_invoice, settle_seconds)
    )


def _scan(source, folder, max_bytes, find_invoice, settle_seconds):
    summary = {"imported": [], "failed": []}
    for path in due_files(folder, settle_seconds):
        try:
            if path.stat().st_size > max_bytes:
                raise ValidationFailed(
                    f"The document is larger than {max_bytes} bytes.",
                    {"document": [f"{path.stat().st_size} bytes; the limit is {max_bytes}."]},
                )
            report = import_statement(source, path.read_bytes(), max_bytes, ACTOR, find_invoice)
        except Problem as problem:
            if problem.status >= 500:  # orders not reachable now: the file waits for the next round
                log.warning("bank statement %s not imported now: %s", path.name, problem.detail)
                break
            # refused: kept aside with the reason, nothing was written
            moved = _move(path, folder / "failed", "")
            moved.with_name(moved.name + ".problem.json").write_text(
                json.dumps({"status": problem.status, "detail": problem.detail, "errors": problem.errors}, indent=2)
            )
            log.warning("bank statement %s refused: %s", path.name, problem.detail)
            summary["failed"].append(moved.name)
            continue
        moved = _move(path, folder / "done", f"{report['id']}-")
        summary["imported"].append(moved.name)
    return summary
