"""Scheduled export jobs: creating, changing, deleting and listing them and their runs (running
them: ``job_runs``)."""

import logging
import os

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from oms_common.db import utcnow
from oms_common.problems import Conflict, NotFound, ValidationFailed, from_marshmallow, load
from oms_contracts.exports import FILTER_SCHEMAS, JobOut, RunOut, RunQuerySchema, dump_filters

from . import domain
from .models import ExportJob, ExportRun
from .schemas import JobInputSchema

log = logging.getLogger(__name__)

_job_out = JobOut()
_run_out = RunOut()


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
        job = ExportJob(
            **payload,
            next_run_at=domain.next_due(payload["cron"], now, payload["timezone"]),
            watermark=0,
            version=1,
            created_at=now,
            updated_at=now,
            created_by=_actor_name(actor),
        )
        uow.session.add(job)
        return _store_job(uow, job)


def _store_job(uow, job):
    """Write the job and answer it; a job's name is unique among the jobs."""
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(
            f"An export job named '{job.name}' exists.", {"name": ["Already used by another job."]}
        ) from None
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
            raise Conflict(
                f"The job was changed meanwhile (version {job.version}, you had {expected}).",
                {"version": [f"Current version is {job.version}."]},
            )
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
        return _store_job(uow, job)


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
        rows = (
            session.execute(
                select(ExportRun)
                .where(*conditions)
                .order_by(ExportRun.id.desc())
                .limit(page_size)
                .offset((page - 1) * page_size)
            )
            .scalars()
            .all()
        )
        total = session.execute(select(func.count()).select_from(ExportRun).where(*conditions)).scalar_one()
        items = [_shown(_run_out.dump(run), export_dir) for run in rows]
    return {
        "items": items,
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": max(1, -(-total // page_size)),
    }


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
