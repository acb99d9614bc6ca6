"""The scheduler's sweeps: each breach flagged exactly once, whatever happens to the scheduler.

The clock starts on Wednesday 2026-11-25 at 10:00 in Shanghai (02:00Z). Windows close at 20:00
local (12:00Z) on their due day: strict = remote daily + station weekly (Sunday), normal = remote
weekly + station monthly, lenient = remote weekly + station every two months (Nov–Dec ends on
31 Dec). Every job runs through ``jobs.runner.run_job``, as the scheduler runs it.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert, MissedWindow
from correction.alerts.service import raise_alert
from correction.checkins.models import SpotCheck
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.locations.models import LocationFix
from correction.notifications.models import Notification
from correction.people.models import Device
from correction.scheduler_state import JobRun, Watermark
from correction.time import UTC, iso_z
from jobs import runner as job_runner
from jobs.schedule import schedule
from tests.factories import API, STATION, local

HANGZHOU = {"type": "Circle", "center": [120.1551, 30.2741], "radius_m": 5000}


def run(app, job_id: str) -> JobRun:
    """Run one job as the scheduler does; it must succeed."""
    spec = next(s for s in schedule(app.config["SETTINGS"]) if s.id == job_id)
    done = job_runner.run_job(app, spec)
    assert done is not None and done.ok, done and done.error
    return done


def alerts(app, type_: str) -> list[tuple[int, str, str]]:
    """(supervisee, subject, status) of every alert of ``type_``, in a stable order."""
    with app.app_context():
        found = db.session.execute(sa.select(Alert.supervisee_id, Alert.subject_key, Alert.status)
                                   .where(Alert.type == type_)
                                   .order_by(Alert.supervisee_id, Alert.subject_key, Alert.id)).all()
        db.session.remove()
    return [tuple(row) for row in found]


def keys_of(app, type_: str, person) -> list[str]:
    return [key for sid, key, _status in alerts(app, type_) if sid == person.supervisee.id]


def one_alert(app, type_: str, person) -> Alert:
    with app.app_context():
        alert = db.session.execute(sa.select(Alert).where(
            Alert.type == type_, Alert.supervisee_id == person.supervisee.id)).scalar_one()
        db.session.expunge(alert)
    return alert


def missed_windows(app) -> list[tuple[int, str, str, datetime]]:
    with app.app_context():
        found = db.session.execute(sa.select(MissedWindow.supervisee_id, MissedWindow.window_key,
                                             MissedWindow.kind, MissedWindow.closes_at)
                                   .order_by(MissedWindow.supervisee_id, MissedWindow.window_key)).all()
    return [tuple(row) for row in found]


def remote_checkin(client, phone, at: datetime):
    response = client.post(f"{API}/me/checkins", headers=phone, json={
        "kind": "remote", "lat": 29.08, "lon": 119.65, "accuracy_m": 10, "recorded_at": iso_z(at)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def station_checkin(client, auth, officer, station, phone, at: datetime):
    code = client.get(f"{API}/stations/{station.id}/qr", headers=auth.officer(officer)).get_json()["token"]
    response = client.post(f"{API}/me/checkins", headers=phone, json={
        "kind": "station", "qr": code, "lat": STATION[0], "lon": STATION[1], "accuracy_m": 10,
        "recorded_at": iso_z(at)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def resolve(client, auth, officer, alert_id: int, outcome: str = "excused", note: str = "checked by phone"):
    response = client.post(f"{API}/alerts/{alert_id}/resolve", headers=auth.officer(officer),
                           json={"outcome": outcome, "note": note})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def station(make, office):
    return make.station(office, lat=STATION[0], lon=STATION[1], radius_m=100.0)


@pytest.fixture
def person(make, office, officer):
    def build(level: str = "strict", **extra):
        return make.supervisee(office, officer.officer, level=level, **extra)
    return build


# --- missed check-ins ---------------------------------------------------------------------------

def test_a_window_that_closes_unsatisfied_raises_exactly_one_missed_checkin_alert(
        app, client, auth, clock, person):
    late, diligent = person("strict"), person("strict")
    remote_checkin(client, auth.supervisee(diligent), clock())
    assert run(app, "missed_checkins").rows == 0  # Wed 10:00: nothing has closed yet

    clock.set(local(2026, 11, 25, 19, 59))
    assert run(app, "missed_checkins").rows == 0  # the window is still open
    clock.set(local(2026, 11, 25, 20, 0))  # it closes
    assert run(app, "missed_checkins").rows == 1

    assert alerts(app, "missed_checkin") == [(late.supervisee.id, "remote:2026-11-25", "open")]
    alert = one_alert(app, "missed_checkin", late)
    assert (alert.severity, alert.office_id, alert.raised_at) == ("medium", late.supervisee.office_id, clock())
    assert alert.evidence == {"window_key": "remote:2026-11-25", "kind": "remote",
                              "closes_at": "2026-11-25T12:00:00Z"}
    assert missed_windows(app) == [(late.supervisee.id, "remote:2026-11-25", "remote",
                                    datetime(2026, 11, 25, 12, 0, tzinfo=UTC))]

    for _ in range(3):  # the scheduler runs every minute: nothing twice
        clock.advance(minutes=1)
        assert run(app, "missed_checkins").rows == 0
    assert alerts(app, "missed_checkin") == [(late.supervisee.id, "remote:2026-11-25", "open")]
    assert len(missed_windows(app)) == 1


def test_a_station_window_is_satisfied_only_by_a_station_checkin(
        app, client, auth, clock, person, officer, station):
    both, remote_only = person("strict"), person("strict")
    phones = {both.supervisee.id: auth.supervisee(both), remote_only.supervisee.id: auth.supervisee(remote_only)}
    run(app, "missed_checkins")
    station_checkin(client, auth, officer, station, phones[both.supervisee.id], clock())
    for day in range(25, 30):  # Wed..Sun: a remote check-in every day, a sweep every day
        clock.set(local(2026, 11, day, 10))
        for phone in phones.values():
            remote_checkin(client, phone, clock())
        run(app, "missed_checkins")
    clock.set(local(2026, 11, 30, 10))  # Monday: the week's station window closed on Sunday
    run(app, "missed_checkins")
    assert alerts(app, "missed_checkin") == [(remote_only.supervisee.id, "station:2026-11-23", "open")]


def test_resolving_a_miss_and_sweeping_again_never_raises_it_again(app, client, auth, clock, person, officer):
    late = person("strict")
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 26, 9))
    run(app, "missed_checkins")
    alert = one_alert(app, "missed_checkin", late)
    resolved = resolve(client, auth, officer, alert.id)
    assert resolved["status"] == "resolved"

    run(app, "missed_checkins")
    with app.app_context():  # even a sweep that lost its watermark and looks back again
        db.session.execute(sa.update(Watermark).where(Watermark.job_id == "missed_checkins")
                           .values(reached=local(2026, 11, 24, 10)))
        db.session.commit()
    run(app, "missed_checkins")
    assert alerts(app, "missed_checkin") == [(late.supervisee.id, "remote:2026-11-25", "resolved")]
    assert [key for _sid, key, _kind, _closes in missed_windows(app)] == ["remote:2026-11-25"]


def test_a_scheduler_stopped_for_three_hours_flags_the_closing_it_slept_through(app, clock, person):
    late = person("strict")
    clock.set(local(2026, 11, 25, 19))
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 25, 22))  # down from 19:00 to 22:00; the 20:00 closing passed unseen
    run(app, "missed_checkins")
    assert keys_of(app, "missed_checkin", late) == ["remote:2026-11-25"]


def test_a_scheduler_down_for_weeks_flags_every_window_of_every_cadence_once(app, clock, person):
    strict, normal, lenient = person("strict"), person("normal"), person("lenient")
    run(app, "missed_checkins")
    clock.set(local(2027, 1, 1, 10))  # down from 25 Nov to 1 Jan: 37 closings, no runs
    first = run(app, "missed_checkins")

    days = [date(2026, 11, 25) + timedelta(days=n) for n in range(37)]  # 25 Nov .. 31 Dec
    weeks = [date(2026, 11, 23) + timedelta(weeks=n) for n in range(5)]  # weeks due 29 Nov .. 27 Dec
    expected = {
        strict.supervisee.id: sorted([f"remote:{d}" for d in days] + [f"station:{w}" for w in weeks]),
        normal.supervisee.id: sorted([f"remote:{w}" for w in weeks] + ["station:2026-11-01", "station:2026-12-01"]),
        lenient.supervisee.id: sorted([f"remote:{w}" for w in weeks] + ["station:2026-11-01"]),
    }
    found: dict[int, list[str]] = {}
    for sid, key, status in alerts(app, "missed_checkin"):
        assert status == "open"
        found.setdefault(sid, []).append(key)
    assert found == expected
    assert first.rows == sum(len(keys) for keys in expected.values())

    closes = {(sid, key): at for sid, key, _kind, at in missed_windows(app)}
    assert closes[(normal.supervisee.id, "station:2026-11-01")] == local(2026, 11, 30, 20)  # last day of month
    assert closes[(lenient.supervisee.id, "station:2026-11-01")] == local(2026, 12, 31, 20)  # end of Nov–Dec
    assert closes[(strict.supervisee.id, "station:2026-11-23")] == local(2026, 11, 29, 20)  # Sunday

    for _ in range(2):  # restarted again: nothing twice
        assert run(app, "missed_checkins").rows == 0
    assert sum(len(keys) for keys in found.values()) == len(alerts(app, "missed_checkin"))


def test_windows_are_clipped_by_supervision_dates_and_enrolment(app, clock, make, office, officer, person):
    ending = person("normal", end=date(2026, 11, 26))  # supervision ends Thursday
    starting = person("strict", start=date(2026, 11, 26))  # supervision starts Thursday
    ended = person("strict", status="ended")
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 25, 21))  # enrolled after Wednesday's window closed
    late_enrolled = make.supervisee(office, officer.officer, level="strict")
    clock.set(local(2026, 11, 27, 10))  # Friday morning
    run(app, "missed_checkins")

    assert keys_of(app, "missed_checkin", ending) == ["remote:2026-11-23", "station:2026-11-01"]
    assert keys_of(app, "missed_checkin", starting) == ["remote:2026-11-26"]
    assert keys_of(app, "missed_checkin", late_enrolled) == ["remote:2026-11-26"]
    assert keys_of(app, "missed_checkin", ended) == []
    closes = {(sid, key): at for sid, key, _kind, at in missed_windows(app)}
    assert closes[(ending.supervisee.id, "remote:2026-11-23")] == local(2026, 11, 26, 20)  # clipped to the end
    assert closes[(ending.supervisee.id, "station:2026-11-01")] == local(2026, 11, 26, 20)


def _sweep_concurrently(app, job_id: str, threads: int = 2) -> list:
    """Run ``job_id`` in ``threads`` threads at once, each with its own app context and session."""
    barrier, results, errors = threading.Barrier(threads), [], []

    def sweep():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(job_runner.run_job(app, next(
                    s for s in schedule(app.config["SETTINGS"]) if s.id == job_id)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=sweep) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == [] and len(results) == threads
    return results


def test_two_schedulers_sweeping_at_once_raise_each_missed_window_once(app, clock, person):
    people = [person("strict") for _ in range(6)]
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 28, 10))  # Wed, Thu and Fri closed
    results = _sweep_concurrently(app, "missed_checkins")
    assert all(r is not None and r.ok for r in results), [r and r.error for r in results]
    assert sum(r.rows for r in results) == 18  # one of them found the work already done
    expected = sorted((p.supervisee.id, f"remote:2026-11-{d}", "open") for p in people for d in (25, 26, 27))
    assert alerts(app, "missed_checkin") == expected
    assert len(missed_windows(app)) == 18


@pytest.mark.postgresql_only
@pytest.mark.parametrize("job_id", ["missed_checkins", "window_reminders"])
def test_schedulers_racing_on_their_first_ever_run_all_succeed(app, clock, person, job_id):
    """No watermark yet: every racer must record it (an upsert), none may fail on its primary key."""
    person("strict")
    clock.set(local(2026, 11, 25, 18, 1))
    for _ in range(5):
        with app.app_context():
            db.session.execute(sa.delete(Watermark))
            db.session.commit()
        results = _sweep_concurrently(app, job_id, threads=4)
        assert all(r is not None and r.ok for r in results), [r and r.error for r in results]
    with app.app_context():
        assert db.session.execute(sa.select(Watermark.reached).where(
            Watermark.job_id == {"window_reminders": "reminders"}.get(job_id, job_id))).scalar_one() == clock()


@pytest.mark.postgresql_only
def test_four_schedulers_running_every_sweep_at_once_never_duplicate_an_alert(app, clock, person, make,
                                                                             office, officer):
    people = [person(level) for level in ("strict", "normal", "lenient") for _ in range(3)]
    for p in people:  # spot checks that will run out, leave that will be overdue
        with app.app_context():
            db.session.add(SpotCheck(supervisee_id=p.supervisee.id, office_id=office.id,
                                     requested_by=officer.officer.id, requested_at=clock(),
                                     due_at=clock() + timedelta(minutes=15), status="pending"))
            db.session.add(LeaveRequest(supervisee_id=p.supervisee.id, office_id=office.id,
                                        destination_name="杭州", destination_geometry=HANGZHOU, reason="family",
                                        start_at=clock(), end_at=clock() + timedelta(days=1), days=1,
                                        approver_role="officer", status="approved", created_at=clock()))
            db.session.commit()
    for job in ("missed_checkins", "window_reminders"):
        run(app, job)
    clock.set(local(2026, 11, 30, 10))
    for job in ("missed_checkins", "missed_spot_checks", "signal_lost", "leave_overdue"):
        results = _sweep_concurrently(app, job, threads=4)
        assert all(r is not None and r.ok for r in results), (job, [r and r.error for r in results])
    with app.app_context():
        dupes = db.session.execute(sa.select(Alert.supervisee_id, Alert.type, Alert.subject_key, sa.func.count())
                                   .group_by(Alert.supervisee_id, Alert.type, Alert.subject_key)
                                   .having(sa.func.count() > 1)).all()
        by_type = dict(db.session.execute(sa.select(Alert.type, sa.func.count()).group_by(Alert.type)).all())
    assert dupes == []
    assert by_type == {"missed_checkin": 3 * 6 + 3 * 1 + 3 * 1, "missed_spot_check": 9, "signal_lost": 9,
                       "leave_overdue": 9}


# --- window reminders ---------------------------------------------------------------------------

def _reminders(app, person) -> list[str]:
    with app.app_context():
        found = db.session.execute(sa.select(Notification).where(
            Notification.supervisee_id == person.supervisee.id, Notification.kind == "reminder")
            .order_by(Notification.id)).scalars().all()
    return [n.data["window_key"] for n in found]


def test_a_reminder_goes_out_once_before_an_unsatisfied_window_closes(app, client, auth, clock, person):
    idle, done, weekly = person("strict"), person("strict"), person("normal")
    remote_checkin(client, auth.supervisee(done), clock())
    run(app, "window_reminders")  # Wed 10:00
    clock.set(local(2026, 11, 25, 17, 59))
    assert run(app, "window_reminders").rows == 0
    clock.set(local(2026, 11, 25, 18, 0))  # REMINDER_MINUTES_BEFORE_CLOSE (120) before 20:00
    assert run(app, "window_reminders").rows == 1
    for at in (local(2026, 11, 25, 18, 5), local(2026, 11, 25, 19, 59), local(2026, 11, 25, 20, 30)):
        clock.set(at)
        run(app, "window_reminders")
    assert _reminders(app, idle) == ["remote:2026-11-25"]
    assert _reminders(app, done) == []  # satisfied: nothing to remind of
    assert _reminders(app, weekly) == []  # a weekly window does not close on Wednesday

    items = client.get(f"{API}/me/notifications", headers=auth.supervisee(idle)).get_json()["items"]
    assert [(n["kind"], n["data"]) for n in items] == [("reminder", {"window_key": "remote:2026-11-25",
                                                                     "kind": "remote",
                                                                     "closes_at": "2026-11-25T12:00:00Z"})]


def test_reminders_catch_up_after_downtime_but_never_for_a_window_already_closed(app, clock, person):
    idle, weekly = person("strict"), person("normal")
    run(app, "window_reminders")
    clock.set(local(2026, 11, 29, 19))  # down from Wednesday to Sunday 19:00; Sunday's close is at 20:00
    run(app, "window_reminders")
    assert sorted(_reminders(app, idle)) == ["remote:2026-11-29", "station:2026-11-23"]  # not Wed..Sat
    assert _reminders(app, weekly) == ["remote:2026-11-23"]


# --- spot checks ------------------------------------------------------------------------------

def test_an_unanswered_spot_check_raises_one_alert_and_is_marked_missed(app, client, auth, clock, person, officer):
    silent, answering = person("normal"), person("normal")
    headers = auth.officer(officer)
    asked = {}
    for p in (silent, answering):
        response = client.post(f"{API}/spot-checks", headers=headers, json={"supervisee_id": p.supervisee.id})
        assert response.status_code == 201, response.get_json()
        asked[p.supervisee.id] = response.get_json()
    answer = client.post(f"{API}/me/checkins", headers=auth.supervisee(answering), json={
        "kind": "spot", "lat": 29.08, "lon": 119.65, "accuracy_m": 10, "recorded_at": iso_z(clock())})
    assert answer.status_code == 201, answer.get_json()

    due = datetime.fromisoformat(asked[silent.supervisee.id]["due_at"].replace("Z", "+00:00"))
    clock.set(due - timedelta(seconds=1))
    run(app, "missed_spot_checks")
    assert alerts(app, "missed_spot_check") == []
    clock.set(due + timedelta(minutes=1))
    assert run(app, "missed_spot_checks").rows == 1
    run(app, "missed_spot_checks")
    spot_id = asked[silent.supervisee.id]["id"]
    assert alerts(app, "missed_spot_check") == [(silent.supervisee.id, f"spot:{spot_id}", "open")]
    alert = one_alert(app, "missed_spot_check", silent)
    assert alert.severity == "high" and alert.evidence["spot_check_id"] == spot_id
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(SpotCheck.supervisee_id, SpotCheck.status)).all())
    assert statuses == {silent.supervisee.id: "missed", answering.supervisee.id: "answered"}


# --- signal lost (失联) -------------------------------------------------------------------------

def post_fix(client, phone, at: datetime):
    response = client.post(f"{API}/me/locations", headers=phone, json={"fixes": [
        {"recorded_at": iso_z(at), "lat": 29.08, "lon": 119.65, "accuracy_m": 15}]})
    assert response.status_code == 200 and response.get_json()["stored"] == 1, response.get_json()


@pytest.mark.parametrize("level, hours", [("strict", 2), ("normal", 6), ("lenient", 24)])
def test_signal_lost_is_raised_after_the_levels_silence_once_per_episode(
        app, client, auth, clock, person, officer, level, hours):
    quiet = person(level)
    phone = auth.supervisee(quiet)
    enrolled = clock()
    clock.set(enrolled + timedelta(hours=hours, minutes=-1))
    run(app, "signal_lost")
    assert alerts(app, "signal_lost") == []
    clock.set(enrolled + timedelta(hours=hours, minutes=1))  # silent since enrolment, never a fix
    assert run(app, "signal_lost").rows == 1
    run(app, "signal_lost")
    assert alerts(app, "signal_lost") == [(quiet.supervisee.id, "signal:never", "open")]
    first = one_alert(app, "signal_lost", quiet)
    assert first.severity == "high"
    assert first.evidence == {"last_fix_at": None, "silent_since": iso_z(enrolled), "level": level,
                              "last_refusal": None, "last_refusal_at": None}

    resolve(client, auth, officer, first.id, outcome="admonition", note="phone was off")
    run(app, "signal_lost")  # resolved while still silent: the same episode, no second alert
    assert alerts(app, "signal_lost") == [(quiet.supervisee.id, "signal:never", "resolved")]

    fixed_at = clock()
    post_fix(client, phone, fixed_at)
    with app.app_context():
        fix_id = db.session.execute(sa.select(LocationFix.id)).scalar_one()
    clock.set(fixed_at + timedelta(hours=hours, minutes=-1))
    run(app, "signal_lost")
    assert len(alerts(app, "signal_lost")) == 1  # measured from the last fix now
    clock.set(fixed_at + timedelta(hours=hours, minutes=1))
    run(app, "signal_lost")
    run(app, "signal_lost")
    assert sorted(alerts(app, "signal_lost")) == sorted([(quiet.supervisee.id, "signal:never", "resolved"),
                                                         (quiet.supervisee.id, f"signal:{fix_id}", "open")])
    with app.app_context():
        second = db.session.execute(sa.select(Alert).where(Alert.subject_key == f"signal:{fix_id}")).scalar_one()
        assert second.evidence["last_fix_at"] == iso_z(fixed_at)


def test_signal_lost_says_when_the_phone_reports_but_its_fixes_are_refused(app, client, auth, clock, person):
    wrong_clock = person("strict")
    phone = auth.supervisee(wrong_clock)
    enrolled = clock()
    clock.advance(hours=1)
    sent_at = clock()
    response = client.post(f"{API}/me/locations", headers=phone, json={"fixes": [  # the phone runs a day ahead
        {"recorded_at": iso_z(sent_at + timedelta(days=1, minutes=n)), "lat": 29.08, "lon": 119.65, "accuracy_m": 15}
        for n in range(3)]})
    assert response.status_code == 200
    assert [r["code"] for r in response.get_json()["refused"]] == ["fix_in_future"] * 3
    clock.set(enrolled + timedelta(hours=2, minutes=1))
    run(app, "signal_lost")
    alert = one_alert(app, "signal_lost", wrong_clock)
    assert alert.evidence["last_fix_at"] is None
    assert (alert.evidence["last_refusal"], alert.evidence["last_refusal_at"]) == ("fix_in_future", iso_z(sent_at))
    with app.app_context():
        (count,) = db.session.execute(sa.select(Device.refused_fixes).where(
            Device.supervisee_id == wrong_clock.supervisee.id, Device.active)).one()
    assert count == 3


def test_no_signal_lost_while_on_approved_leave(app, client, auth, clock, person, officer):
    travelling, at_home = person("strict"), person("strict")
    phone = auth.supervisee(travelling)
    filed = client.post(f"{API}/me/leave-requests", headers=phone, json={
        "destination_name": "杭州", "destination_geometry": HANGZHOU, "reason": "family visit",
        "start_at": iso_z(clock()), "end_at": iso_z(clock() + timedelta(days=2))})
    assert filed.status_code == 201, filed.get_json()
    approved = client.post(f"{API}/leave-requests/{filed.get_json()['id']}/approve", headers=auth.officer(officer),
                           json={})
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    leave_end = datetime.fromisoformat(filed.get_json()["end_at"].replace("Z", "+00:00"))

    clock.advance(hours=3)
    run(app, "signal_lost")
    assert [sid for sid, _key, _status in alerts(app, "signal_lost")] == [at_home.supervisee.id]
    clock.set(leave_end + timedelta(minutes=1))  # the leave is over and still no word
    run(app, "signal_lost")
    assert sorted(sid for sid, _key, _status in alerts(app, "signal_lost")) == sorted(
        [at_home.supervisee.id, travelling.supervisee.id])


# --- leave overdue ------------------------------------------------------------------------------

def _leave(client, auth, officer, phone, clock, days: int = 1, decide: str | None = "approve") -> dict:
    filed = client.post(f"{API}/me/leave-requests", headers=phone, json={
        "destination_name": "杭州", "destination_geometry": HANGZHOU, "reason": "family visit",
        "start_at": iso_z(clock()), "end_at": iso_z(clock() + timedelta(days=days))})
    assert filed.status_code == 201, filed.get_json()
    if decide is None:
        return filed.get_json()
    decided = client.post(f"{API}/leave-requests/{filed.get_json()['id']}/{decide}", headers=auth.officer(officer),
                          json={})
    assert decided.status_code == 200, decided.get_json()
    return decided.get_json()


def test_approved_leave_not_closed_by_its_end_raises_leave_overdue_once(
        app, client, auth, clock, person, officer, station):
    away, back, pending, rejected = (person("normal") for _ in range(4))
    phones = {p.supervisee.id: auth.supervisee(p) for p in (away, back, pending, rejected)}
    leaves = {p.supervisee.id: _leave(client, auth, officer, phones[p.supervisee.id], clock,
                                      decide={pending.supervisee.id: None, rejected.supervisee.id: "reject"}
                                      .get(p.supervisee.id, "approve"))
              for p in (away, back, pending, rejected)}
    clock.advance(hours=20)
    station_checkin(client, auth, officer, station, phones[back.supervisee.id], clock())  # 销假 in person
    with app.app_context():
        assert db.session.get(LeaveRequest, leaves[back.supervisee.id]["id"]).status == "closed"

    end = datetime.fromisoformat(leaves[away.supervisee.id]["end_at"].replace("Z", "+00:00"))
    clock.set(end - timedelta(minutes=1))
    run(app, "leave_overdue")
    assert alerts(app, "leave_overdue") == []
    clock.set(end + timedelta(minutes=11))
    assert run(app, "leave_overdue").rows == 1
    leave_id = leaves[away.supervisee.id]["id"]
    assert alerts(app, "leave_overdue") == [(away.supervisee.id, f"leave:{leave_id}", "open")]
    alert = one_alert(app, "leave_overdue", away)
    assert alert.severity == "high"
    assert alert.evidence == {"leave_request_id": leave_id, "end_at": iso_z(end), "destination": "杭州"}

    resolve(client, auth, officer, alert.id, outcome="warning", note="came back a day late")
    clock.advance(minutes=10)
    assert run(app, "leave_overdue").rows == 0  # one overdue leave, one alert, even once resolved
    assert alerts(app, "leave_overdue") == [(away.supervisee.id, f"leave:{leave_id}", "resolved")]


# --- escalation ---------------------------------------------------------------------------------

def test_alerts_not_acknowledged_within_their_sla_are_escalated(app, client, auth, clock, person, officer):
    subject = person("normal")
    headers = auth.officer(officer)
    raised = clock()
    ids = {}
    with app.app_context():
        for severity in ("critical", "high", "medium", "low"):
            alert, _ = raise_alert(db.session, app.config["SETTINGS"], supervisee_id=subject.supervisee.id,
                                   office_id=subject.supervisee.office_id, type="zone_exit",
                                   subject_key=f"zone:{severity}", now=raised, severity=severity)
            ids[severity] = alert.id
        taken, _ = raise_alert(db.session, app.config["SETTINGS"], supervisee_id=subject.supervisee.id,
                               office_id=subject.supervisee.office_id, type="exclusion_entry",
                               subject_key="zone:taken", now=raised, severity="critical")
        db.session.commit()
        taken_id = taken.id
    assert client.post(f"{API}/alerts/{taken_id}/acknowledge", headers=headers).status_code == 200

    def escalated() -> dict[int, datetime]:
        with app.app_context():
            return dict(db.session.execute(sa.select(Alert.id, Alert.escalated_at)
                                           .where(Alert.escalated_at.is_not(None))).all())

    when = {}
    for minutes, severity in ((15, "critical"), (60, "high"), (240, "medium"), (1440, "low")):
        clock.set(raised + timedelta(minutes=minutes))  # exactly at the SLA: not yet
        run(app, "escalate_alerts")
        assert ids[severity] not in escalated()
        clock.set(raised + timedelta(minutes=minutes, seconds=30))
        assert run(app, "escalate_alerts").rows == 1
        when[ids[severity]] = clock()
        assert escalated() == when  # the earlier ones keep their first escalation time
    assert taken_id not in escalated()  # acknowledged in time: never escalated

    headers = auth.officer(officer)
    listed = client.get(f"{API}/alerts?escalated=true", headers=headers).get_json()["items"]
    assert sorted(a["id"] for a in listed) == sorted(ids.values())
    assert {a["id"]: a["escalated_at"] for a in listed} == {i: iso_z(at) for i, at in when.items()}
    calm = client.get(f"{API}/alerts?escalated=false", headers=headers).get_json()["items"]
    assert [a["id"] for a in calm] == [taken_id]


# --- location retention ---------------------------------------------------------------------------

def test_purge_deletes_only_fixes_past_retention(app, clock, person):
    a, b = person("normal"), person("strict")
    now = clock()
    ages = {"old": timedelta(days=181), "edge": timedelta(days=180), "recent": timedelta(days=179),
            "fresh": timedelta(0)}
    with app.app_context():
        for p in (a, b):
            for age in ages.values():
                db.session.add(LocationFix(supervisee_id=p.supervisee.id, recorded_at=now - age, received_at=now,
                                           lat=29.08, lon=119.65, accuracy_m=10.0))
        db.session.commit()
    assert run(app, "purge_location_fixes").rows == 2
    with app.app_context():
        left = db.session.execute(sa.select(LocationFix.recorded_at)).scalars().all()
    kept = [now - ages[name] for name in ("edge", "recent", "fresh")]
    assert sorted(left) == sorted(kept * 2)
    assert run(app, "purge_location_fixes").rows == 0
