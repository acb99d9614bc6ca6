"""GET /jobs: each job's last run and next run, and the dispatcher's backlog, for supervisors."""
from __future__ import annotations

from datetime import timedelta
from typing import Literal

import sqlalchemy as sa
from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app

from correction.api import ApiBlueprint
from correction.database import db
from correction.delivery.listing import backlog
from correction.scheduler_state import JobRun
from correction.schemas import Output, UtcDateTime
from correction.time import now

from .schedule import schedule

bp = ApiBlueprint("jobs", __name__)


class LastRun(Output):
    started_at: UtcDateTime
    duration_ms: int
    rows: int | None
    outcome: Literal["ok", "error"]
    error: str | None
    host: str | None


class Backlog(Output):
    queued: int  # waiting to be sent, retries included
    due: int  # of those, due now
    sending: int
    failed_last_24h: int
    lag_seconds: float  # how long the oldest due message has waited


class JobOut(Output):
    id: str
    description: str
    trigger: str
    next_run_at: UtcDateTime | None
    last_run: LastRun | None
    last_error_at: UtcDateTime | None
    failures_last_24h: int
    backlog: Backlog | None = None  # the dispatcher's (dispatch_notifications only)


class JobList(Output):
    items: list[JobOut]


@bp.operation("GET", "/jobs", summary="The scheduler's jobs: last run, next run, errors",
              response=JobList, auth="supervisor")
def list_jobs():
    return {"items": job_statuses(db.session, current_app.config["SETTINGS"], now())}


def job_statuses(session, settings, at) -> list[dict]:
    """Every scheduled job with its last run, next run and recent failures; the dispatcher's backlog."""
    specs = schedule(settings)
    latest = sa.select(JobRun.job_id, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    runs = {r.job_id: r for r in session.execute(sa.select(JobRun).join(latest, JobRun.id == latest.c.id)).scalars()}
    errors = dict(session.execute(sa.select(JobRun.job_id, sa.func.max(JobRun.started_at))
                                  .where(JobRun.ok.is_(False)).group_by(JobRun.job_id)).all())
    failures = dict(session.execute(sa.select(JobRun.job_id, sa.func.count())
                                    .where(JobRun.ok.is_(False), JobRun.started_at >= at - timedelta(days=1))
                                    .group_by(JobRun.job_id)).all())
    items = []
    for spec in specs:
        run = runs.get(spec.id)
        items.append({
            "id": spec.id, "description": spec.description, "trigger": str(spec.trigger),
            "next_run_at": _next_run(spec, run, at),
            "last_run": None if run is None else {
                "started_at": run.started_at, "duration_ms": run.duration_ms, "rows": run.rows,
                "outcome": "ok" if run.ok else "error", "error": run.error, "host": run.host},
            "last_error_at": errors.get(spec.id), "failures_last_24h": failures.get(spec.id, 0),
            "backlog": backlog(session, at) if spec.id == "dispatch_notifications" else None})
    return items


def _next_run(spec, last_run: JobRun | None, at):
    """When the job runs next: an interval after its last run (in the past means overdue)."""
    if isinstance(spec.trigger, IntervalTrigger):
        return (last_run.started_at if last_run else at) + spec.trigger.interval
    return spec.trigger.get_next_fire_time(None, at)
