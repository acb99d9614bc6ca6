"""What the scheduler remembers: each run of each job, and the sweeps' watermarks."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .database import db


class JobRun(db.Model):
    """One run of one job: when, how long, how many rows it touched, and any error."""

    __tablename__ = "job_runs"
    __table_args__ = (sa.Index("ix_job_runs_job_id_id", "job_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(40))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    duration_ms: Mapped[int]
    rows: Mapped[int | None]
    ok: Mapped[bool]
    error: Mapped[str | None] = mapped_column(sa.String(500))
    host: Mapped[str | None] = mapped_column(sa.String(100))


class Watermark(db.Model):
    """How far a catching-up sweep has looked: it resumes from here after any downtime."""

    __tablename__ = "watermarks"
    job_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    reached: Mapped[datetime]


def watermark(session, job_id: str, default: datetime) -> datetime:
    """Return how far ``job_id`` has looked, or ``default`` the first time."""
    row = session.get(Watermark, job_id)
    return row.reached if row is not None else default


def advance_watermark(session, job_id: str, reached: datetime) -> None:
    """Record that ``job_id`` has looked up to ``reached`` (never backwards).

    An upsert, so two schedulers' first runs cannot collide on inserting the same row.
    """
    from .database import insert_for

    stmt = insert_for(session)(Watermark).values(job_id=job_id, reached=reached)
    session.execute(stmt.on_conflict_do_update(index_elements=["job_id"], set_={"reached": stmt.excluded.reached},
                                               where=Watermark.reached < stmt.excluded.reached))



LEADER = "leader"  # the one heartbeat row: whoever leads writes it


class SchedulerHeartbeat(db.Model):
    """The scheduler leader's sign of life: written every few seconds while it holds the lock.

    Readiness (``/readyz``) reads it: a beat older than SCHEDULER_HEARTBEAT_STALE_SECONDS means
    no process is running the schedule, so no sweep flags anything.
    """

    __tablename__ = "scheduler_heartbeats"
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(100))
    pid: Mapped[int]
    leading_since: Mapped[datetime]
    beat_at: Mapped[datetime]


def beat(session, *, host: str, pid: int, leading_since: datetime, now: datetime) -> None:
    """Record that the leader (``host``, ``pid``) is alive at ``now``: one row, upserted."""
    from .database import insert_for

    stmt = insert_for(session)(SchedulerHeartbeat).values(name=LEADER, host=host, pid=pid,
                                                          leading_since=leading_since, beat_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={
        "host": stmt.excluded.host, "pid": stmt.excluded.pid,
        "leading_since": stmt.excluded.leading_since, "beat_at": stmt.excluded.beat_at}))


def last_beat(session) -> SchedulerHeartbeat | None:
    """Return the leader's last heartbeat, or None if no leader ever ran."""
    return session.get(SchedulerHeartbeat, LEADER)
