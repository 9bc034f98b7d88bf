"""Running due export jobs exactly once.

Claiming (PostgreSQL): a replica takes a due job with ``SELECT … FOR UPDATE SKIP LOCKED``
and keeps that row lock for the whole run, in a transaction of its own. Another replica's
timer skips the locked row, so one due time gives one run. When the run is done, the same
transaction advances ``next_run_at`` (and, for incremental jobs, the ``watermark``) and
commits. If the process dies, the database drops the lock and the job is due again.

Files: written as ``.<name>.part`` in the target directory, fsynced, then renamed to
``<name>`` (atomic within a directory): an ERP never sees half a file.

Incremental jobs: a run exports the rows whose ``change_seq`` is above the job's watermark
and at most the run's snapshot watermark (see streams), and the watermark moves only when
the run succeeded. A run that fails halfway leaves it where it was: the next run exports
everything again from there, nothing is missed. The run row is committed (with the file
name and the watermark it covers) before the rename; if a process dies between the rename
and the commit, the next claim of the job finds that orphaned run, sees the complete file,
and advances the watermark as the run would have: nothing is exported twice.
"""

import logging
import os
import socket
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from oms_common.db import utcnow
from oms_contracts.exports import FILTER_SCHEMAS, RunOut

from . import domain
from .models import ExportJob, ExportRun
from .streams import ExportStream

log = logging.getLogger(__name__)

_run_out = RunOut()
REPLICA = f"{socket.gethostname()}:{os.getpid()}"


def run_due_jobs(source, settings, replica=REPLICA, limit=20):
    """Runs due jobs one after the other (each claimed on its own); returns the runs."""
    runs = []
    for _ in range(limit):
        run = run_next_due(source, settings, replica)
        if run is None:
            break
        runs.append(run)
    return runs


def run_next_due(source, settings, replica=REPLICA):
    lock = source.session_factory()
    try:
        now = utcnow()
        job = lock.execute(
            select(ExportJob)
            .where(ExportJob.enabled.is_(True), ExportJob.next_run_at <= now)
            .order_by(ExportJob.next_run_at, ExportJob.id)
            .limit(1)
            # FOR NO KEY UPDATE: run rows referencing the job (foreign key) can still be inserted
            .with_for_update(skip_locked=True, key_share=True)
        ).scalar_one_or_none()
        if job is None:
            lock.rollback()
            return None
        _recover_orphans(source, lock, job, settings)
        due_at = job.next_run_at
        job.next_run_at = domain.next_due(job.cron, max(now, due_at), job.timezone)
        run_id = _start_run(source, job, due_at, replica)
        if run_id is None:  # this due time already has a run (cannot happen while we hold the lock)
            lock.commit()
            return None
        outcome = _execute(source, settings, job, run_id, due_at)
        if outcome["status"] == "succeeded" and job.incremental:
            job.watermark = outcome["watermark_to"]
        run = lock.get(ExportRun, run_id)
        for key in ("status", "finished_at", "rows", "file", "bytes", "duration_ms", "error", "watermark_to"):
            setattr(run, key, outcome[key])
        lock.commit()
        return _run_out.dump(run)
    finally:
        lock.close()


def _start_run(source, job, due_at, replica):
    """The run row, committed at once so that it outlives a crash of this process."""
    with source.unit_of_work() as uow:
        run = ExportRun(
            job_id=job.id,
            job_name=job.name,
            due_at=due_at,
            started_at=utcnow(),
            status="running",
            watermark_from=job.watermark if job.incremental else None,
            replica=replica,
        )
        uow.session.add(run)
        try:
            uow.session.flush()
        except IntegrityError:
            return None
        run_id = run.id
        uow.commit()
        return run_id


def _update_run(source, run_id, **values):
    with source.unit_of_work() as uow:
        run = uow.session.get(ExportRun, run_id)
        for key, value in values.items():
            setattr(run, key, value)
        uow.commit()


def _params(job):
    params = dict(FILTER_SCHEMAS[job.kind]().load(job.filters or {}))
    if job.incremental:
        params["since_seq"] = job.watermark
    return params


def _execute(source, settings, job, run_id, due_at):
    started = time.monotonic()
    directory = settings.export_dir / job.target
    final = directory / domain.run_file_name(job.name, job.kind, due_at, run_id, job.format)
    temporary = directory / domain.temp_name(final.name)
    outcome = {"status": "failed", "rows": None, "file": str(final), "bytes": None, "error": None, "watermark_to": None}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        stream = ExportStream(
            source.engine,
            job.kind,
            job.format,
            _params(job),
            delimiter=settings.csv_delimiter,
            fetch_size=settings.fetch_size,
            schema_version=job.schema_version,
        )
        with stream:
            outcome["watermark_to"] = stream.watermark
            with open(temporary, "wb") as handle:
                for chunk in stream:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        outcome.update(rows=stream.stats.records, bytes=stream.stats.bytes)
        # recorded before the rename: a crash after it is recovered from this row
        _update_run(
            source,
            run_id,
            file=str(final),
            rows=outcome["rows"],
            bytes=outcome["bytes"],
            watermark_to=outcome["watermark_to"],
        )
        os.replace(temporary, final)
        _fsync_directory(directory)
        outcome["status"] = "succeeded"
    except Exception as error:  # noqa: BLE001 - a failed run is recorded, not raised
        log.exception("export job %s (run %s) failed", job.name, run_id)
        outcome["error"] = f"{type(error).__name__}: {error}"[:2000]
        outcome["file"] = None
        _remove(temporary)
    outcome["finished_at"] = utcnow()
    outcome["duration_ms"] = int((time.monotonic() - started) * 1000)
    return outcome


def _recover_orphans(source, lock, job, settings):
    """Runs of this job still marked running while we hold its lock: their process died."""
    orphans = (
        lock.execute(select(ExportRun).where(ExportRun.job_id == job.id, ExportRun.status == "running")).scalars().all()
    )
    for run in orphans:
        run.finished_at = utcnow()
        if run.file and run.watermark_to is not None and os.path.exists(run.file):
            run.status = "succeeded"
            run.error = "Recovered: the process ended after the file was complete."
            if job.incremental:
                job.watermark = max(job.watermark, run.watermark_to)
        else:
            run.status = "failed"
            run.error = "Interrupted: the process ended before the file was complete."
            name = domain.run_file_name(job.name, job.kind, run.due_at, run.id, job.format)
            _remove(settings.export_dir / job.target / domain.temp_name(name))
            run.file = None


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        log.warning("could not remove %s", path)
