"""The scheduler process: one leader at a time, failing jobs recorded and retried, GET /jobs.

Only one process runs the schedule: it holds a leader lock (a PostgreSQL advisory lock, a file
lock on SQLite); a second copy stands by and takes over when the leader goes. Each job run is one
transaction recorded as a JobRun, whatever happens, and a failure never stops the other jobs.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.triggers.interval import IntervalTrigger
from filelock import FileLock, Timeout

from correction.app import create_app
from correction.monitoring import sweeps
from correction.alerts.models import Alert, MissedWindow
from correction.database import db
from correction.scheduler_state import JobRun, Watermark
from correction.time import UTC, iso_z
from jobs import runner as job_runner
from jobs.schedule import JobSpec, schedule
from tests.assertions import error_of
from tests.conftest import make_settings
from tests.factories import API

UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/nowhere"
_keys = itertools.count(1)


@pytest.fixture
def settings_overrides(tmp_path):
    """A private lock file and advisory lock key (other suites may share the server), a quick standby."""
    return {"SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"), "SCHEDULER_STANDBY_POLL_SECONDS": 0.2,
            "SCHEDULER_LOCK_KEY": 0x5C4E_0000 + os.getpid() % 10_000 * 100 + next(_keys) % 100}


def spec_of(app, job_id: str) -> JobSpec:
    return next(s for s in schedule(app.config["SETTINGS"]) if s.id == job_id)


def runs_by_job(app) -> dict[str, int]:
    with app.app_context():
        counts = dict(db.session.execute(sa.select(JobRun.job_id, sa.func.count()).group_by(JobRun.job_id)).all())
        db.session.remove()
    return counts


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def job_ids(app) -> list[str]:
    return [s.id for s in schedule(app.config["SETTINGS"])]


def interval_job_ids(app) -> list[str]:
    """The jobs a new leader runs at once (they catch up); cron jobs keep to their times."""
    return [s.id for s in schedule(app.config["SETTINGS"]) if isinstance(s.trigger, IntervalTrigger)]


# --- the leader lock -------------------------------------------------------------------------

def test_only_one_leader_lock_holder_at_a_time_and_the_next_gets_it_after_release(app, db_kind):
    first, second = job_runner.LeaderLock(app), job_runner.LeaderLock(app)
    assert first.postgres is (db_kind == "postgresql")
    try:
        assert first.try_acquire() is True
        assert second.try_acquire() is False
        assert second.try_acquire() is False  # asking again does not help while it is held
        assert first.still_held() is True
        seen_by_another_thread = []  # the leader's watchdog checks the lock from its own thread
        checker = threading.Thread(target=lambda: seen_by_another_thread.append(first.still_held()))
        checker.start()
        checker.join(timeout=5)
        assert seen_by_another_thread == [True]
        if db_kind == "sqlite":  # the lock is the file itself: any other process is kept out too
            with pytest.raises(Timeout):
                FileLock(app.config["SETTINGS"].SCHEDULER_LOCK_FILE).acquire(timeout=0)
        else:  # a session-level advisory lock on the key
            with app.app_context(), db.engine.connect() as conn:
                assert conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"),
                                    {"k": app.config["SETTINGS"].SCHEDULER_LOCK_KEY}).scalar() is False
    finally:
        first.release()
    try:
        assert second.try_acquire() is True
        assert first.try_acquire() is False  # the roles have swapped
    finally:
        second.release()
        first.release()
    assert first.try_acquire() is True
    first.release()


@pytest.mark.postgresql_only
def test_a_leader_whose_database_session_dies_loses_the_lock_to_the_standby(app):
    leader, standby = job_runner.LeaderLock(app), job_runner.LeaderLock(app)
    try:
        assert leader.try_acquire() is True
        assert standby.try_acquire() is False
        with app.app_context():
            pid = leader.connection.connection.dbapi_connection.info.backend_pid
            db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            db.session.commit()
            db.session.remove()
        assert wait_until(lambda: not leader.still_held(), 5)  # the leader notices it lost the lock
        assert standby.try_acquire() is True  # and the lock was freed with its session
    finally:
        leader.release()
        standby.release()


def _start(app, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=job_runner.run_forever, args=(app, stop), daemon=True)
    thread.start()
    return thread


def _stop(*pairs) -> None:
    for stop, _thread in pairs:
        stop.set()
    for _stop_event, thread in pairs:
        if thread is not None:
            thread.join(timeout=20)
            assert not thread.is_alive(), "run_forever did not stop"


def test_run_forever_leads_while_a_second_copy_stands_by_then_takes_over(app):
    every_job = interval_job_ids(app)
    stop_leader, stop_standby = threading.Event(), threading.Event()
    leader = standby = None
    try:
        leader = _start(app, stop_leader)
        # a new leader starts every interval job at once: each runs a first time within a few seconds
        assert wait_until(lambda: set(runs_by_job(app)) == set(every_job), 10), runs_by_job(app)
        standby = _start(app, stop_standby)
        time.sleep(1.0)  # five standby polls, five watchdog checks
        assert job_runner.LeaderLock(app).try_acquire() is False  # the leader still holds the lock
        # nobody else ran anything, and the leader did not restart its schedule on a watchdog check
        assert runs_by_job(app) == {job: 1 for job in every_job}
        assert standby.is_alive()

        stop_leader.set()
        leader.join(timeout=15)
        assert not leader.is_alive(), "the leader did not stop"
        # the standby takes over within a poll or two and runs the schedule from the start
        assert wait_until(lambda: runs_by_job(app) == {job: 2 for job in every_job}, 10), repr(runs_by_job(app))
        with app.app_context():
            assert db.session.execute(sa.select(sa.func.count()).select_from(JobRun)
                                      .where(JobRun.ok.is_(False))).scalar_one() == 0
            db.session.remove()
    finally:
        _stop((stop_leader, leader), (stop_standby, standby))


@pytest.mark.postgresql_only
def test_a_leader_that_loses_its_lock_connection_stands_down_and_one_leader_resumes(app):
    every_job = interval_job_ids(app)
    key = app.config["SETTINGS"].SCHEDULER_LOCK_KEY
    holders_sql = sa.text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                          "AND ((classid::bigint << 32) | objid::bigint) = :k")

    def holders() -> list[int]:
        with app.app_context():
            found = db.session.execute(holders_sql, {"k": key}).scalars().all()
            db.session.remove()
        return found

    stops, threads = [threading.Event(), threading.Event()], []
    try:
        threads.append(_start(app, stops[0]))
        assert wait_until(lambda: set(runs_by_job(app)) == set(every_job), 10)
        threads.append(_start(app, stops[1]))
        time.sleep(0.5)
        [pid] = holders()
        with app.app_context():  # the leader's database session dies
            db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            db.session.commit()
            db.session.remove()
        # someone (the old leader after standing down, or the standby) leads again and reruns everything
        assert wait_until(lambda: runs_by_job(app) == {job: 2 for job in every_job}, 10), repr(runs_by_job(app))
        new_holders = holders()
        assert len(new_holders) == 1 and new_holders != [pid]
        time.sleep(0.5)
        assert runs_by_job(app) == {job: 2 for job in every_job}  # never two leaders at once
    finally:
        _stop(*zip(stops, threads + [None] * (2 - len(threads))))


def test_a_standby_facing_an_unreachable_database_keeps_waiting_without_crashing(app):
    broken = create_app(make_settings(UNREACHABLE_PG, SCHEDULER_STANDBY_POLL_SECONDS=0.1))
    errors: list[BaseException] = []

    def guarded():
        try:
            job_runner.run_forever(broken, stop)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    stop = threading.Event()
    thread = threading.Thread(target=guarded, daemon=True)
    thread.start()
    try:
        time.sleep(0.6)
        assert thread.is_alive() and errors == []  # still waiting for the leader lock
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive() and errors == []


# --- failing jobs --------------------------------------------------------------------------------

@pytest.fixture
def supervisor(make):
    office = make.office()
    return make.officer(role="supervisor", bureau_id=office.bureau_id)


def jobs_listing(client, auth, supervisor) -> dict[str, dict]:
    response = client.get(f"{API}/jobs", headers=auth.officer(supervisor))
    assert response.status_code == 200, response.get_json()
    return {job["id"]: job for job in response.get_json()["items"]}


def test_a_failing_job_is_recorded_shown_and_retried_while_the_others_run(
        app, client, auth, clock, supervisor, monkeypatch):
    calls = []

    def flaky(session, settings, now):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return 3

    failing = JobSpec("escalate_alerts", flaky, spec_of(app, "escalate_alerts").trigger, "flaky")
    specs = [failing if s.id == "escalate_alerts" else s for s in schedule(app.config["SETTINGS"])]
    results = [job_runner.run_job(app, s) for s in specs]  # what the scheduler does, job by job
    failed = next(r for r in results if r.job_id == "escalate_alerts")
    assert (failed.ok, failed.rows, failed.error) == (False, None, "RuntimeError: disk on fire")
    assert failed.started_at == clock() and failed.duration_ms >= 0 and failed.host
    assert all(r.ok for r in results if r.job_id != "escalate_alerts"), [(r.job_id, r.error) for r in results]
    assert runs_by_job(app) == {job: 1 for job in job_ids(app)}

    jobs = jobs_listing(client, auth, supervisor)
    assert jobs["escalate_alerts"]["last_run"]["outcome"] == "error"
    assert jobs["escalate_alerts"]["last_run"]["error"] == "RuntimeError: disk on fire"
    assert jobs["escalate_alerts"]["last_error_at"] == iso_z(failed.started_at)
    assert jobs["escalate_alerts"]["failures_last_24h"] == 1
    assert all(j["last_run"]["outcome"] == "ok" and j["failures_last_24h"] == 0
               for job_id, j in jobs.items() if job_id != "escalate_alerts")

    clock.advance(minutes=1)
    retry = job_runner.run_job(app, failing)  # the next tick retries
    assert (retry.ok, retry.rows, retry.error) == (True, 3, None)
    jobs = jobs_listing(client, auth, supervisor)
    assert jobs["escalate_alerts"]["last_run"]["outcome"] == "ok"
    assert jobs["escalate_alerts"]["last_run"]["rows"] == 3
    assert jobs["escalate_alerts"]["failures_last_24h"] == 1
    assert jobs["escalate_alerts"]["last_error_at"] == iso_z(failed.started_at)

    clock.advance(hours=24)
    jobs = jobs_listing(client, auth, supervisor)
    assert jobs["escalate_alerts"]["failures_last_24h"] == 0  # a day later the failure has aged out
    assert jobs["escalate_alerts"]["last_error_at"] == iso_z(failed.started_at)  # but is not forgotten


def test_a_job_failing_halfway_leaves_nothing_behind_and_the_next_run_does_it_all(app, clock, make):
    office = make.office()
    late = make.supervisee(office, level="strict")
    assert job_runner.run_job(app, spec_of(app, "missed_checkins")).ok
    clock.advance(days=2)  # Wed and Thu closed

    def sweep_then_crash(session, settings, now):
        sweeps.sweep_missed_checkins(session, settings, now)
        raise ConnectionError("lost the network mid-run")

    crashed = job_runner.run_job(app, JobSpec("missed_checkins", sweep_then_crash,
                                              spec_of(app, "missed_checkins").trigger, "crash"))
    assert crashed.ok is False and "lost the network" in crashed.error
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Alert)).scalar_one() == 0
        assert db.session.execute(sa.select(sa.func.count()).select_from(MissedWindow)).scalar_one() == 0
        assert db.session.get(Watermark, "missed_checkins").reached < clock()  # not moved on
        db.session.remove()

    retried = job_runner.run_job(app, spec_of(app, "missed_checkins"))
    assert retried.ok and retried.rows == 2
    with app.app_context():
        keys = db.session.execute(sa.select(Alert.subject_key).where(Alert.supervisee_id == late.supervisee.id)
                                  .order_by(Alert.subject_key)).scalars().all()
    assert keys == ["remote:2026-11-25", "remote:2026-11-26"]


@pytest.mark.parametrize("broken_url", ["pg", "sqlite_dir"])
def test_an_unreachable_database_fails_the_run_quietly_and_a_later_run_succeeds(app, tmp_path, broken_url):
    url = UNREACHABLE_PG if broken_url == "pg" else f"sqlite:///{tmp_path / 'a-directory'}"
    (tmp_path / "a-directory").mkdir()  # a database path that cannot be opened
    broken = create_app(make_settings(url))
    for job_id in ("missed_checkins", "signal_lost", "weekly_reports"):
        assert job_runner.run_job(broken, spec_of(broken, job_id)) is None  # logged, not raised
    cli = broken.test_cli_runner().invoke(args=["jobs", "once", "missed_checkins"])
    assert cli.exit_code == 1 and "could not record the run" in cli.output
    with broken.app_context():
        db.engine.dispose()

    back = job_runner.run_job(app, spec_of(app, "missed_checkins"))  # the database is back
    assert back is not None and back.ok
    assert runs_by_job(app) == {"missed_checkins": 1}


# --- flask jobs once ---------------------------------------------------------------------------

def test_flask_jobs_once_runs_one_job_and_reports_it(app, runner, make, clock):
    make.supervisee(make.office(), level="strict")
    assert runner.invoke(args=["jobs", "once", "missed_checkins"]).exit_code == 0  # sets the watermark
    clock.advance(days=1)
    result = runner.invoke(args=["jobs", "once", "missed_checkins"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("missed_checkins: 1 rows in ")
    assert runs_by_job(app) == {"missed_checkins": 2}
    unknown = runner.invoke(args=["jobs", "once", "make_coffee"])
    assert unknown.exit_code == 1 and "unknown job 'make_coffee'" in unknown.output
    assert "missed_checkins" in unknown.output


# --- GET /jobs -------------------------------------------------------------------------------

def test_the_jobs_page_is_for_supervisors_only(client, auth, make):
    office = make.office()
    assert error_of(client.get(f"{API}/jobs", headers=auth.officer(make.officer(office))), 403)
    assert error_of(client.get(f"{API}/jobs"), 401)
    person = make.supervisee(office)
    assert error_of(client.get(f"{API}/jobs", headers=auth.supervisee(person)), 403)


def test_the_jobs_page_lists_every_job_with_its_next_run_before_any_run(app, client, auth, clock, supervisor):
    headers = auth.officer(supervisor)
    at = clock()
    response = client.get(f"{API}/jobs", headers=headers)
    assert response.status_code == 200
    items = response.get_json()["items"]
    specs = schedule(app.config["SETTINGS"])
    assert [j["id"] for j in items] == [s.id for s in specs]
    for job, spec in zip(items, specs):
        assert job["description"] == spec.description and job["trigger"] == str(spec.trigger)
        assert (job["last_run"], job["last_error_at"], job["failures_last_24h"]) == (None, None, 0)
    nxt = {j["id"]: j["next_run_at"] for j in items}
    assert nxt["missed_checkins"] == iso_z(at + timedelta(minutes=1))  # never run: due one interval from now
    assert nxt["signal_lost"] == iso_z(at + timedelta(minutes=5))
    assert nxt["leave_overdue"] == iso_z(at + timedelta(minutes=10))
    assert nxt["weekly_reports"] == "2026-11-29T17:00:00Z"  # Monday 01:00 in Shanghai
    assert nxt["compliant_week_awards"] == "2026-11-29T16:30:00Z"  # Monday 00:30 in Shanghai
    assert nxt["purge_location_fixes"] == "2026-11-25T19:30:00Z"  # 03:30 in Shanghai tonight


def test_the_jobs_page_shows_each_jobs_last_run(app, client, auth, clock, supervisor, make):
    make.supervisee(make.office(), level="strict")
    job_runner.run_job(app, spec_of(app, "missed_checkins"))
    clock.advance(days=1)
    ran_at = clock()
    run = job_runner.run_job(app, spec_of(app, "missed_checkins"))
    purge = job_runner.run_job(app, spec_of(app, "purge_location_fixes"))
    jobs = jobs_listing(client, auth, supervisor)
    last = jobs["missed_checkins"]["last_run"]
    assert last == {"started_at": iso_z(ran_at), "duration_ms": run.duration_ms, "rows": 1, "outcome": "ok",
                    "error": None, "host": run.host}
    assert isinstance(last["duration_ms"], int) and last["duration_ms"] >= 0
    assert jobs["missed_checkins"]["next_run_at"] == iso_z(ran_at + timedelta(minutes=1))
    assert jobs["purge_location_fixes"]["last_run"]["rows"] == purge.rows == 0
    assert jobs["purge_location_fixes"]["next_run_at"] == iso_z(
        datetime(2026, 11, 26, 19, 30, tzinfo=UTC))  # after 03:30 local on the 26th passed
    assert jobs["signal_lost"]["last_run"] is None
