"""The runner: one leader (PostgreSQL advisory lock, or a file lock on SQLite) runs the schedule.

`flask jobs run` blocks. A second copy waits as a standby and takes over within
SCHEDULER_STANDBY_POLL_SECONDS of the leader's death. A leader that loses its lock connection
(database gone) stops scheduling and goes back to waiting, so two leaders never run at once.
On PostgreSQL the leader also listens for queued notifications and dispatches them at once
(correction.delivery.wakeup). While it leads, the leader upserts a heartbeat row every SCHEDULER_HEARTBEAT_SECONDS, which
/readyz reads. Each job run is one unit of work: commit on success, roll back on error; either way a JobRun
row records it, and the next run retries.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime

import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from filelock import FileLock, Timeout

from correction.database import db
from correction.delivery.officers import report_job_failure
from correction.delivery.wakeup import start_listener
from correction.scheduler_state import JobRun, beat
from correction.time import UTC

from .schedule import JobSpec, schedule

log = logging.getLogger(__name__)


def run_job(app, spec: JobSpec) -> JobRun | None:
    """Run one job once as one transaction and record the run; never raises."""
    with app.app_context():
        clock, settings = app.extensions["correction.clock"], app.config["SETTINGS"]
        started = clock()
        began = time.perf_counter()
        rows, error = None, None
        try:
            rows = spec.function(db.session, settings, started)
            db.session.commit()
        except Exception as exc:  # a failing job must not stop the others
            db.session.rollback()
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.exception("job %s failed", spec.id)
        run = JobRun(job_id=spec.id, started_at=started, finished_at=clock(),
                     duration_ms=int((time.perf_counter() - began) * 1000), rows=rows,
                     ok=error is None, error=error, host=socket.gethostname()[:100])
        try:
            if error is not None:
                report_job_failure(db.session, settings, job_id=spec.id, error_type=error.split(":", 1)[0],
                                   started_at=started)
            db.session.add(run)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("could not record the run of %s", spec.id)
            return None
        finally:
            db.session.remove()
        return run


class LeaderLock:
    """Who may run the schedule: at most one process holds it."""

    def __init__(self, app):
        self.app = app
        settings = app.config["SETTINGS"]
        self.postgres = settings.DATABASE_URL.startswith("postgresql")
        self.key = settings.SCHEDULER_LOCK_KEY
        # not thread-local: the watchdog thread must see the lock the main thread holds
        self.file = FileLock(settings.SCHEDULER_LOCK_FILE, thread_local=False)
        self.connection = None
        self.held = False  # PostgreSQL: whether this connection's session holds the advisory lock

    def try_acquire(self) -> bool:
        if not self.postgres:
            try:
                self.file.acquire(timeout=0)
                return True
            except Timeout:
                return False
        try:
            with self.app.app_context():
                self.connection = db.engine.connect()
            got = self.connection.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            self.connection.commit()
            self.held = bool(got)
            if not got:
                self.release()
            return bool(got)
        except sa.exc.SQLAlchemyError:
            log.warning("leader lock: database unreachable")
            self.release()
            return False

    def still_held(self) -> bool:
        if not self.postgres:
            return self.file.is_locked
        try:
            self.connection.execute(sa.text("SELECT 1")).scalar()
            self.connection.commit()
            return True
        except (sa.exc.SQLAlchemyError, AttributeError):
            return False

    def release(self) -> None:
        if not self.postgres:
            if self.file.is_locked:
                self.file.release()
            return
        if self.connection is not None:
            try:
                if self.held:  # unlock first: the server ends a closed session's locks only a little later
                    self.connection.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                    self.connection.commit()
            except sa.exc.SQLAlchemyError:
                pass  # the connection is gone, and its session's lock with it
            try:
                self.connection.invalidate()  # closing the session frees the advisory lock in any case
                self.connection.close()
            except sa.exc.SQLAlchemyError:
                pass
            self.connection, self.held = None, False


class Heartbeat:
    """The leader's sign of life for /readyz, written every SCHEDULER_HEARTBEAT_SECONDS."""

    def __init__(self, app):
        self.app = app
        self.interval = app.config["SETTINGS"].SCHEDULER_HEARTBEAT_SECONDS
        self.leading_since = app.extensions["correction.clock"]()
        self.written = None  # time.monotonic() of the last successful write

    def write_when_due(self) -> None:
        if self.written is None or time.monotonic() - self.written >= self.interval:
            self.write()

    def write(self) -> None:
        """Upsert the heartbeat row; a failure is logged, and the next poll tries again."""
        with self.app.app_context():
            try:
                beat(db.session, host=socket.gethostname()[:100], pid=os.getpid(),
                     leading_since=self.leading_since, now=self.app.extensions["correction.clock"]())
                db.session.commit()
                self.written = time.monotonic()
            except Exception:
                db.session.rollback()
                log.warning("scheduler: could not write the heartbeat", exc_info=True)
            finally:
                db.session.remove()


def build_scheduler(app, specs: list[JobSpec]) -> BlockingScheduler:
    """A BlockingScheduler with an in-memory store: coalesced, one instance per job."""
    settings = app.config["SETTINGS"]
    scheduler = BlockingScheduler(timezone=UTC, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": settings.SCHEDULER_MISFIRE_GRACE_SECONDS})
    for spec in specs:
        # Interval jobs run at once when a leader starts (they catch up from their watermarks);
        # cron jobs (the purge, the weekly report) keep to their times.
        first = {"next_run_time": datetime.now(UTC)} if isinstance(spec.trigger, IntervalTrigger) else {}
        scheduler.add_job(run_job, trigger=spec.trigger, args=(app, spec), id=spec.id, name=spec.id, **first)
    return scheduler


def run_forever(app, stop: threading.Event | None = None) -> None:
    """Wait to lead, then run the schedule; on losing the lock, go back to waiting."""
    stop = stop or threading.Event()
    settings = app.config["SETTINGS"]
    lock = LeaderLock(app)
    while not stop.is_set():
        if not lock.try_acquire():
            stop.wait(settings.SCHEDULER_STANDBY_POLL_SECONDS)
            continue
        log.info("scheduler: leading on %s", socket.gethostname())
        scheduler = build_scheduler(app, schedule(settings))
        heartbeat = Heartbeat(app)
        heartbeat.write()

        def watchdog():
            while not stop.wait(settings.SCHEDULER_STANDBY_POLL_SECONDS):
                if not lock.still_held():
                    log.warning("scheduler: lost the leader lock; standing down")
                    break
                heartbeat.write_when_due()
            scheduler.shutdown(wait=True)

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        leading = threading.Event()  # set when this leadership ends: the listener stops with it
        listener = start_listener(app, leading)
        try:
            scheduler.start()  # blocks until the watchdog shuts it down
        finally:
            leading.set()
            if listener is not None:
                listener.join(timeout=5)
        lock.release()
    lock.release()


