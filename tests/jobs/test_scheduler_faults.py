"""Faults the scheduler must survive: downtime, two schedulers, failing jobs, a lost database."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger

from correction.app import create_app
from correction.alerts.models import Alert, MissedWindow
from correction.database import db
from correction.scheduler_state import JobRun
from correction.time import iso_z
from jobs import runner
from jobs.schedule import JobSpec, schedule
from tests.conftest import make_settings
from tests.factories import API


def spec(app, job_id: str) -> JobSpec:
    return next(s for s in schedule(app.config["SETTINGS"]) if s.id == job_id)


def missed_alerts(app) -> list[tuple[int, str]]:
    with app.app_context():
        return sorted(db.session.execute(sa.select(Alert.supervisee_id, Alert.subject_key)
                                         .where(Alert.type == "missed_checkin")).all())


@pytest.fixture
def district(make):
    """An office, its officer, a ``strict`` supervisee and a ``normal`` one, nobody logged in."""
    return make.scene("strict", other="normal", phone=False)


def test_a_scheduler_down_for_days_flags_every_window_that_closed_meanwhile_once(app, clock, district):
    strict, normal = district.person, district.other
    assert runner.run_job(app, spec(app, "missed_checkins")).ok  # Wed 10:00 local: nothing closed yet
    clock.advance(days=5, hours=1)  # down until Mon 11:00 local; Wed..Sun closings passed unseen
    run = runner.run_job(app, spec(app, "missed_checkins"))
    assert run.ok
    strict_id, normal_id = strict.supervisee.id, normal.supervisee.id
    expected = sorted([(strict_id, f"remote:2026-11-{d}") for d in (25, 26, 27, 28, 29)]
                      + [(strict_id, "station:2026-11-23"), (normal_id, "remote:2026-11-23")])
    assert missed_alerts(app) == expected
    for _ in range(3):  # restarted again and again: nothing twice
        assert runner.run_job(app, spec(app, "missed_checkins")).ok
    assert missed_alerts(app) == expected


def test_a_satisfied_window_is_not_flagged_and_a_resolved_miss_is_not_raised_again(
        app, client, auth, clock, district):
    officer, strict = district.officer, district.person
    phone = auth.supervisee(strict)
    checked = client.post(f"{API}/me/checkins", headers=phone, json={
        "kind": "remote", "lat": 29.08, "lon": 119.65, "accuracy_m": 10, "recorded_at": iso_z(clock())})
    assert checked.status_code == 201
    clock.advance(days=1, hours=1)  # Thu 11:00 local: Wednesday's window satisfied, Thursday's open
    runner.run_job(app, spec(app, "missed_checkins"))
    assert missed_alerts(app) == []
    clock.advance(days=1)  # Fri 11:00: Thursday's window was missed
    runner.run_job(app, spec(app, "missed_checkins"))
    [(_, key)] = missed_alerts(app)
    assert key == "remote:2026-11-26"
    headers = auth.officer(officer)
    [alert] = client.get(f"{API}/alerts?type=missed_checkin", headers=headers).get_json()["items"]
    resolved = client.post(f"{API}/alerts/{alert['id']}/resolve", headers=headers,
                           json={"outcome": "excused", "note": "hospital"})
    assert resolved.status_code == 200
    runner.run_job(app, spec(app, "missed_checkins"))
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(Alert)).scalar_one() == 1
        assert db.session.execute(sa.select(sa.func.count()).select_from(MissedWindow)).scalar_one() == 1


def test_two_schedulers_sweeping_at_once_raise_each_alert_once(app, clock, make, district):
    office, officer = district.office, district.officer
    for _ in range(8):
        make.supervisee(office, officer.officer, level="strict")
    clock.advance(days=3)
    barrier, errors = threading.Barrier(2), []

    def sweep():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                runner.run_job(app, spec(app, "missed_checkins"))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    alerts = missed_alerts(app)
    assert len(alerts) == len(set(alerts)) > 0
    with app.app_context():
        runs = db.session.execute(sa.select(JobRun.ok).where(JobRun.job_id == "missed_checkins")).scalars().all()
    assert runs == [True, True]  # both ran cleanly; one found the work done


def test_a_failing_job_is_recorded_shown_in_jobs_and_retried_next_time(app, client, auth, make, monkeypatch):
    office = make.office()
    supervisor = make.officer(role="supervisor", bureau_id=office.bureau_id)
    calls = {"n": 0}

    def flaky(session, settings, now):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk on fire")
        return 7

    failing = JobSpec("missed_checkins", flaky, spec(app, "missed_checkins").trigger, "flaky")
    first = runner.run_job(app, failing)
    assert (first.ok, first.rows) == (False, None) and "disk on fire" in first.error
    other = runner.run_job(app, spec(app, "escalate_alerts"))  # the others keep running
    assert other.ok
    headers = auth.officer(supervisor)
    jobs = {j["id"]: j for j in client.get(f"{API}/jobs", headers=headers).get_json()["items"]}
    assert jobs["missed_checkins"]["last_run"]["outcome"] == "error"
    assert "disk on fire" in jobs["missed_checkins"]["last_run"]["error"]
    assert jobs["missed_checkins"]["failures_last_24h"] == 1
    assert jobs["escalate_alerts"]["last_run"]["outcome"] == "ok"
    retry = runner.run_job(app, failing)
    assert (retry.ok, retry.rows) == (True, 7)
    jobs = {j["id"]: j for j in client.get(f"{API}/jobs", headers=headers).get_json()["items"]}
    assert jobs["missed_checkins"]["last_run"]["outcome"] == "ok"
    assert jobs["missed_checkins"]["last_error_at"] is not None


def test_jobs_are_for_supervisors_only(client, auth, make):
    assert client.get(f"{API}/jobs", headers=auth.officer(make.officer())).status_code == 403


def test_an_unreachable_database_does_not_kill_the_runner(app, tmp_path):
    broken = create_app(make_settings("postgresql://postgres@127.0.0.1:1/nowhere"))
    assert runner.run_job(broken, spec(broken, "missed_checkins")) is None  # logged, not raised
    lock = runner.LeaderLock(broken)
    assert lock.try_acquire() is False  # a standby keeps waiting instead of crashing
    assert runner.run_job(app, spec(app, "missed_checkins")).ok  # once the database is back, it works


@pytest.fixture
def settings_overrides(tmp_path):
    return {"SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"), "SCHEDULER_STANDBY_POLL_SECONDS": 0.2}


def test_only_one_scheduler_leads_and_a_standby_takes_over(app, database_url):
    first, second = runner.LeaderLock(app), runner.LeaderLock(app)
    assert first.try_acquire() is True
    try:
        assert second.try_acquire() is False
        assert first.still_held()
    finally:
        first.release()
    assert second.try_acquire() is True
    second.release()


def test_run_forever_leads_runs_jobs_and_hands_over_when_stopped(app):
    stop_first, stop_second = threading.Event(), threading.Event()
    leader = threading.Thread(target=runner.run_forever, args=(app, stop_first), daemon=True)
    standby = threading.Thread(target=runner.run_forever, args=(app, stop_second), daemon=True)
    leader.start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not _runs(app):
            time.sleep(0.2)
        assert _runs(app), "the leader ran no job"
        time.sleep(2)  # a leader that keeps its lock runs each interval job once, cron jobs not yet
        assert _runs_by_job(app) == {s.id: 1 for s in schedule(app.config["SETTINGS"])
                                     if not isinstance(s.trigger, CronTrigger)}
        standby.start()
        time.sleep(1)
        assert runner.LeaderLock(app).try_acquire() is False  # still held by the leader
        stop_first.set()
        leader.join(timeout=20)
        assert not leader.is_alive()
        before = _runs(app)
        deadline = time.time() + 20
        while time.time() < deadline and _runs(app) == before:
            time.sleep(0.2)
        assert _runs(app) > before, "the standby did not take over"
    finally:
        stop_first.set()
        stop_second.set()
        leader.join(timeout=20)
        if standby.is_alive():
            standby.join(timeout=20)


def _runs(app) -> int:
    with app.app_context():
        count = db.session.execute(sa.select(sa.func.count()).select_from(JobRun)).scalar_one()
        db.session.remove()
        return count


def _runs_by_job(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(sa.select(JobRun.job_id, sa.func.count()).group_by(JobRun.job_id)).all()
        db.session.remove()
        return dict(rows)
