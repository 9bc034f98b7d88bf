"""Scheduled export jobs: managing them, and running the due ones exactly once.

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

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ValidationFailed, from_marshmallow, load
from oms_contracts.exports import FILTER_SCHEMAS, JobOut, RunOut, RunQuerySchema, dump_filters

from . import domain
from .models import ExportJob, ExportRun
from .schemas import JobInputSchema
from .streams import ExportStream

log = logging.getLogger(__name__)

_job_out = JobOut()
_run_out = RunOut()
REPLICA = f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------- management

def _filters(kind, filters):
    from marshmallow import ValidationError

    try:
        loaded = FILTER_SCHEMAS[kind]().load(filters or {})
    except ValidationError as error:
        problem = from_marshmallow(error)
        raise ValidationFailed(problem.detail, {f"filters.{k}": v for k, v in problem.errors.items()}) from None
    return dump_filters(kind, loaded)


def _actor_name(actor):
    return (actor or {}).get("name") or "system"


def list_jobs(source):
    with source.read_session() as session:
        return [_job_out.dump(job) for job in session.execute(select(ExportJob).order_by(ExportJob.id)).scalars()]


def get_job(source, job_id):
    with source.read_session() as session:
        job = session.get(ExportJob, int(job_id))
        if job is None:
            raise NotFound(f"No export job {job_id}.")
        return _job_out.dump(job)


def create_job(source, data, actor=None):
    payload = load(JobInputSchema(), data)
    payload.pop("version", None)
    payload["filters"] = _filters(payload["kind"], payload["filters"])
    payload["target"] = domain.check_target(payload["target"])
    now = utcnow()
    with source.unit_of_work() as uow:
        job = ExportJob(**payload, next_run_at=domain.next_due(payload["cron"], now, payload["timezone"]),
                        watermark=0, version=1, created_at=now, updated_at=now, created_by=_actor_name(actor))
        uow.session.add(job)
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict(f"An export job named '{payload['name']}' exists.",
                           {"name": ["Already used by another job."]}) from None
        result = _job_out.dump(job)
        uow.commit()
        return result


def _lock_job(session, job_id):
    """The job row, locked without waiting: a job that is running right now cannot change."""
    query = select(ExportJob).where(ExportJob.id == int(job_id))
    try:
        job = session.execute(query.with_for_update(nowait=True)).scalar_one_or_none()
    except OperationalError:
        raise Conflict(f"Export job {job_id} is running right now; try again when the run has finished.") from None
    if job is None:
        raise NotFound(f"No export job {job_id}.")
    return job


def update_job(source, job_id, data, actor=None):
    payload = load(JobInputSchema(partial=True), data)
    with source.unit_of_work() as uow:
        job = _lock_job(uow.session, job_id)
        expected = payload.pop("version", None)
        if expected is not None and expected != job.version:
            raise Conflict(f"The job was changed meanwhile (version {job.version}, you had {expected}).",
                           {"version": [f"Current version is {job.version}."]})
        kind = payload.get("kind", job.kind)
        if "filters" in payload or "kind" in payload:
            payload["filters"] = _filters(kind, payload.get("filters", job.filters))
        if "target" in payload:
            payload["target"] = domain.check_target(payload["target"])
        if "timezone" in payload and "cron" not in payload:
            try:
                domain.check_cron(job.cron, payload["timezone"])
            except domain.ScheduleError as error:
                raise ValidationFailed(str(error), {"timezone": [str(error)]}) from None
        reschedule = any(key in payload and payload[key] != getattr(job, key) for key in ("cron", "timezone"))
        for key, value in payload.items():
            setattr(job, key, value)
        now = utcnow()
        if reschedule:
            job.next_run_at = domain.next_due(job.cron, now, job.timezone)
        job.version += 1
        job.updated_at = now
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict(f"An export job named '{job.name}' exists.", {"name": ["Already used by another job."]}) \
                from None
        result = _job_out.dump(job)
        uow.commit()
        return result


def delete_job(source, job_id, actor=None):
    with source.unit_of_work() as uow:
        job = _lock_job(uow.session, job_id)
        result = _job_out.dump(job)
        uow.session.delete(job)
        uow.commit()
        return result


def run_job_now(source, job_id, actor=None):
    """Makes the job due now; the next timer tick of any replica runs it (once)."""
    with source.unit_of_work() as uow:
        job = _lock_job(uow.session, job_id)
        job.next_run_at = utcnow()
        result = _job_out.dump(job)
        uow.commit()
        return result


def list_runs(source, query=None, export_dir=None):
    params = load(RunQuerySchema(), query or {})
    conditions = []
    if params.get("job_id"):
        conditions.append(ExportRun.job_id == params["job_id"])
    if params.get("status"):
        conditions.append(ExportRun.status == params["status"])
    page, page_size = params["page"], params["page_size"]
    with source.read_session() as session:
        rows = session.execute(
            select(ExportRun).where(*conditions).order_by(ExportRun.id.desc())
            .limit(page_size).offset((page - 1) * page_size)).scalars().all()
        total = session.execute(select(func.count()).select_from(ExportRun).where(*conditions)).scalar_one()
        items = [_shown(_run_out.dump(run), export_dir) for run in rows]
    return {"items": items, "page": page, "page_size": page_size, "total": total,
            "pages": max(1, -(-total // page_size))}


def _shown(run, export_dir):
    """A run as answered: its file relative to the export directory, no server path anywhere."""
    if export_dir is None:
        return run
    base = os.path.abspath(str(export_dir))
    if run.get("file"):
        path = os.path.abspath(run["file"])
        run["file"] = os.path.relpath(path, base) if path.startswith(base + os.sep) else os.path.basename(path)
    if run.get("error"):
        run["error"] = run["error"].replace(base + os.sep, "").replace(base, ".")
    return run


# ---------------------------------------------------------------- running

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
            .order_by(ExportJob.next_run_at, ExportJob.id).limit(1)
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
        run = ExportRun(job_id=job.id, job_name=job.name, due_at=due_at, started_at=utcnow(), status="running",
                        watermark_from=job.watermark if job.incremental else None, replica=replica)
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
    outcome = {"status": "failed", "rows": None, "file": str(final), "bytes": None, "error": None,
               "watermark_to": None}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        stream = ExportStream(source.engine, job.kind, job.format, _params(job), delimiter=settings.csv_delimiter,
                              fetch_size=settings.fetch_size)
        with stream:
            outcome["watermark_to"] = stream.watermark
            with open(temporary, "wb") as handle:
                for chunk in stream:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        outcome.update(rows=stream.stats.records, bytes=stream.stats.bytes)
        # recorded before the rename: a crash after it is recovered from this row
        _update_run(source, run_id, file=str(final), rows=outcome["rows"], bytes=outcome["bytes"],
                    watermark_to=outcome["watermark_to"])
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
    orphans = lock.execute(
        select(ExportRun).where(ExportRun.job_id == job.id, ExportRun.status == "running")
    ).scalars().all()
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

