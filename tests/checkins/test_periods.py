"""Periods of stepped-up supervision (临时加强监管): declared, followed by windows, sweeps, spot checks.

The clock starts on Wednesday 2026-11-25 at 10:00 in Shanghai. The usual period runs Wednesday to
Friday with two extra windows a day, 08:00–12:00 and 14:00–18:00 local, for every office and level
of the bureau of ``make.org()``. Every job runs through ``jobs.runner.run_job``, as the scheduler runs it.
"""
from __future__ import annotations

import threading
from datetime import timedelta
import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert, MissedWindow
from correction.audit.models import AuditEntry
from correction.checkins.models import SpotCheck, SupervisionPeriod
from correction.database import db
from correction.mall.models import PointEntry
from correction.notifications.models import Notification
from correction.scheduler_state import Watermark
from jobs import runner as job_runner
from jobs.schedule import schedule
from tests.assertions import count, error_of, field_paths, rows
from tests.factories import (API, MONDAY, SHANGHAI, checkin_row, closes, get_report, local, missed_row,
                             post_checkin)

PERIODS = f"{API}/supervision-periods"
TWO_WINDOWS = [{"opens": "08:00", "closes": "12:00"}, {"opens": "14:00", "closes": "18:00"}]


def body(**overrides) -> dict:
    values = {"name": "亚运会前加强监管", "reason": "重大活动安保", "starts_on": "2026-11-25",
              "ends_on": "2026-11-27", "windows": TWO_WINDOWS}
    values.update(overrides)
    return values


def declare(client, headers, **overrides) -> dict:
    response = client.post(PERIODS, headers=headers, json=body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def run(app, job_id: str):
    spec = next(s for s in schedule(app.config["SETTINGS"]) if s.id == job_id)
    done = job_runner.run_job(app, spec)
    assert done is not None and done.ok, done and done.error
    return done


def period_misses(app, person) -> list[str]:
    return [m.window_key for m in rows(app, MissedWindow, MissedWindow.supervisee_id == person.supervisee.id,
                                       MissedWindow.kind == "period", order_by=MissedWindow.window_key)]


def missed_alerts(app, person) -> list[str]:
    return [a.subject_key for a in rows(app, Alert, Alert.supervisee_id == person.supervisee.id,
                                        Alert.type == "missed_checkin", order_by=Alert.subject_key)
            if a.subject_key.startswith("period:")]


def schedule_of(client, auth, person) -> list[dict]:
    response = client.get(f"{API}/me/schedule", headers=auth.supervisee(person))
    assert response.status_code == 200, response.get_json()
    return [w for w in response.get_json()["windows"] if w["kind"] == "period"]


@pytest.fixture
def org(make):
    return make.org(logins=True)


# --- declaring, reading, cancelling ----------------------------------------------------------------

def test_a_declared_period_adds_its_windows_to_the_schedule(app, client, auth, org):
    period = declare(client, org.supervisor_headers)
    assert period["status"] == "active" and period["office_ids"] == [] and period["levels"] == []
    assert period["covered_supervisees"] == 2  # the bureau's two; not the other bureau's

    windows = schedule_of(client, auth, org.person)
    today = [w for w in windows if w["key"].startswith(f"period:{period['id']}:2026-11-25:")]
    assert [(w["key"][-1], w["status"], w["opens_at"], w["closes_at"]) for w in today] == [
        ("1", "open", "2026-11-25T00:00:00Z", "2026-11-25T04:00:00Z"),
        ("2", "upcoming", "2026-11-25T06:00:00Z", "2026-11-25T10:00:00Z")]
    assert all(w["period_id"] == period["id"] for w in windows)
    assert schedule_of(client, auth, org.foreign_person) == []


def test_a_check_in_in_a_period_window_meets_it_and_the_regular_window_and_earns_once(app, client, auth, clock, org):
    period = declare(client, org.supervisor_headers)
    phone = auth.supervisee(org.person)
    first = post_checkin(client, phone, "remote", recorded_at=clock())
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["window_key"] == "remote:2026-11-23"  # the regular weekly window, still unmet
    morning = f"period:{period['id']}:2026-11-25:1"
    shown = {w["key"]: w for w in schedule_of(client, auth, org.person)}
    assert shown[morning]["status"] == "satisfied" and shown[morning]["checkin_id"] == first.get_json()["id"]

    clock.set(local(2026, 11, 25, 15))  # the regular window is met; the afternoon's period window is open
    afternoon = post_checkin(client, phone, "remote", recorded_at=clock())
    assert afternoon.status_code == 201, afternoon.get_json()
    assert afternoon.get_json()["window_key"] == f"period:{period['id']}:2026-11-25:2"
    retried = post_checkin(client, phone, "remote", recorded_at=clock())
    assert retried.status_code == 200 and retried.get_json()["duplicate"] is True
    assert retried.get_json()["id"] == afternoon.get_json()["id"]

    clock.set(local(2026, 11, 25, 19))  # no period window open, the regular one met: a repeat, not a new one
    again = post_checkin(client, phone, "remote", recorded_at=clock())
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    earned = rows(app, PointEntry, PointEntry.supervisee_id == org.person.supervisee.id,
                  PointEntry.event == "checkin_remote")
    assert [e.event_ref for e in earned] == [f"checkin:{first.get_json()['id']}"]  # the period check-in earns nothing


def test_two_check_ins_at_once_in_a_period_window_make_one(app, client, auth, clock, org, db_kind):
    declare(client, org.supervisor_headers)
    phone = auth.supervisee(org.person)
    assert post_checkin(client, phone, "remote", recorded_at=clock()).status_code == 201  # the regular window
    clock.set(local(2026, 11, 25, 15))
    barrier, answers = threading.Barrier(2), []

    def send():
        with app.test_client() as own:
            barrier.wait(timeout=10)
            answers.append(post_checkin(own, phone, "remote", recorded_at=clock()))

    workers = [threading.Thread(target=send) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    statuses = sorted(a.status_code for a in answers)
    assert statuses in ([200, 201], [201, 409] if db_kind == "sqlite" else [200, 201]), statuses
    assert len({a.get_json()["id"] for a in answers if a.status_code in (200, 201)}) == 1
    assert count(app, SupervisionPeriod) == 1


def test_a_missed_period_window_is_recorded_and_alerted_once_however_often_swept(app, client, auth, clock, org):
    period = declare(client, org.supervisor_headers)
    assert post_checkin(client, auth.supervisee(org.sister_person), "remote", recorded_at=clock()).status_code == 201
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 25, 12, 1))
    run(app, "missed_checkins")
    run(app, "missed_checkins")
    with app.app_context():  # a second scheduler that looks back from an old watermark
        db.session.execute(sa.update(Watermark).where(Watermark.job_id == "missed_checkins")
                           .values(reached=local(2026, 11, 24, 10)))
        db.session.commit()
    run(app, "missed_checkins")
    key = f"period:{period['id']}:2026-11-25:1"
    assert period_misses(app, org.person) == [key]
    assert missed_alerts(app, org.person) == [key]
    assert period_misses(app, org.sister_person) == []  # checked in while it was open
    assert period_misses(app, org.foreign_person) == []

    clock.set(local(2026, 11, 25, 18, 30))
    run(app, "missed_checkins")
    assert period_misses(app, org.person) == [key, f"period:{period['id']}:2026-11-25:2"]


def test_two_schedulers_sweeping_at_once_record_a_period_miss_once(app, client, clock, org):
    period = declare(client, org.supervisor_headers)
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 26, 9))
    barrier, errors = threading.Barrier(2), []

    def sweep():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                run(app, "missed_checkins")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=sweep) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == []
    keys = [f"period:{period['id']}:2026-11-25:{n}" for n in (1, 2)]
    assert period_misses(app, org.person) == keys and missed_alerts(app, org.person) == keys


def test_only_the_offices_and_levels_named_are_covered(app, client, auth, clock, make, org):
    strict_sister = make.supervisee(org.sister_office, org.sister_officer.officer, level="strict")
    period = declare(client, org.supervisor_headers, office_ids=[org.sister_office.id], levels=["strict"])
    assert period["covered_supervisees"] == 1
    assert schedule_of(client, auth, org.person) == []  # another office
    assert schedule_of(client, auth, org.sister_person) == []  # another level
    assert len(schedule_of(client, auth, strict_sister)) >= 2
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 25, 12, 1))
    run(app, "missed_checkins")
    assert period_misses(app, strict_sister) == [f"period:{period['id']}:2026-11-25:1"]
    assert period_misses(app, org.person) == [] and period_misses(app, org.sister_person) == []


def test_a_cancelled_period_stops_its_windows_and_tells_everyone(app, client, auth, clock, org):
    period = declare(client, org.supervisor_headers)
    run(app, "missed_checkins")
    clock.advance(minutes=20)  # 10:20: the morning window is open
    cancelled = client.post(f"{PERIODS}/{period['id']}/cancel", headers=org.supervisor_headers,
                            json={"reason": "活动提前结束"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["cancel_reason"] == "活动提前结束"
    assert schedule_of(client, auth, org.person) == []
    clock.set(local(2026, 11, 27, 20))
    run(app, "missed_checkins")
    assert period_misses(app, org.person) == []  # the morning window was still open when it was cancelled
    notices = rows(app, Notification, Notification.supervisee_id == org.person.supervisee.id,
                   Notification.kind == "supervision_period")
    assert [n.data["event"] for n in notices] == ["declared", "cancelled"]
    assert "解除" in notices[1].body
    again = client.post(f"{PERIODS}/{period['id']}/cancel", headers=auth.officer(org.supervisor),
                        json={"reason": "再次"})
    assert error_of(again, 409)["code"] == "period_over"


def test_after_its_last_day_a_period_has_no_windows(app, client, auth, clock, org):
    period = declare(client, org.supervisor_headers, ends_on="2026-11-25")
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 27, 21))
    run(app, "missed_checkins")
    assert period_misses(app, org.person) == [f"period:{period['id']}:2026-11-25:{n}" for n in (1, 2)]
    assert schedule_of(client, auth, org.person) == []
    shown = client.get(f"{PERIODS}/{period['id']}", headers=auth.officer(org.supervisor)).get_json()
    assert shown["status"] == "ended"


def test_reminders_follow_the_period_windows(app, client, clock, org):
    period = declare(client, org.supervisor_headers)
    run(app, "window_reminders")
    clock.set(local(2026, 11, 25, 10, 5))  # two hours before the morning window closes
    run(app, "window_reminders")
    run(app, "window_reminders")
    reminders = rows(app, Notification, Notification.supervisee_id == org.person.supervisee.id,
                     Notification.kind == "reminder")
    assert [n.data["window_key"] for n in reminders] == [f"period:{period['id']}:2026-11-25:1"]
    assert "12:00" in reminders[0].body


# --- the spot-check quota ---------------------------------------------------------------------------

def test_the_quota_issues_so_many_spot_checks_a_week_and_never_twice(app, client, auth, clock, org):
    period = declare(client, org.supervisor_headers, starts_on="2026-11-26", ends_on="2026-11-28",
                     windows=[{"opens": "09:00", "closes": "12:00"}], spot_checks_per_week=3)
    for day in (26, 27, 28):
        clock.set(local(2026, 11, day, 8, 55))
        while clock() < local(2026, 11, day, 12, 5):
            run(app, "period_spot_checks")
            run(app, "period_spot_checks")  # a second scheduler at the same moment
            run(app, "missed_spot_checks")
            clock.advance(minutes=5)
    for person in (org.person, org.sister_person):
        spots = rows(app, SpotCheck, SpotCheck.supervisee_id == person.supervisee.id)
        assert len(spots) == 3, [(s.requested_at, s.period_slot) for s in spots]
        assert len({s.period_slot for s in spots}) == 3
        assert all(s.period_slot.startswith(f"period:{period['id']}:{person.supervisee.id}:2026-W48:") for s in spots)
        for spot in spots:  # inside the period's window
            assert "09:00" <= spot.requested_at.astimezone(SHANGHAI).strftime("%H:%M") < "12:00"
        ordered = sorted(spots, key=lambda s: s.requested_at)
        assert all(a.due_at <= b.requested_at for a, b in zip(ordered, ordered[1:]))
    assert count(app, SpotCheck, SpotCheck.supervisee_id == org.foreign_person.supervisee.id) == 0
    assert count(app, Notification, Notification.kind == "spot_check") == 6


def test_a_quota_spot_check_is_answered_like_an_officers(app, client, auth, clock, org):
    declare(client, org.supervisor_headers, windows=[], spot_checks_per_week=7, levels=["normal"],
            office_ids=[org.office.id], ends_on="2026-11-25")
    while not count(app, SpotCheck) and clock() < local(2026, 11, 25, 20):
        run(app, "period_spot_checks")
        clock.advance(minutes=5)
    (spot,) = rows(app, SpotCheck)
    assert spot.supervisee_id == org.person.supervisee.id and spot.requested_by == org.supervisor.officer.id
    answer = post_checkin(client, auth.supervisee(org.person), "spot", recorded_at=clock())
    assert answer.status_code == 201, answer.get_json()
    assert rows(app, SpotCheck)[0].status == "answered"


# --- who may do what, and what is refused -----------------------------------------------------------

def test_notices_go_once_to_everyone_covered(app, client, org):
    period = declare(client, org.supervisor_headers, spot_checks_per_week=2)
    notices = rows(app, Notification, Notification.kind == "supervision_period")
    assert sorted(n.supervisee_id for n in notices) == sorted([org.person.supervisee.id,
                                                                org.sister_person.supervisee.id])
    assert len({n.dedupe_key for n in notices}) == 2
    text = notices[0].body
    assert "2026年11月25日至2026年11月27日" in text and "08:00至12:00、14:00至18:00" in text
    assert "每周另有2次实时签到" in text
    with app.app_context():  # telling them again writes nothing
        from correction.checkins import periods
        row = db.session.get(SupervisionPeriod, period["id"])
        assert periods._tell_covered(db.session, row, "declared", "t", "b", local(2026, 11, 25, 11)) == 0


def test_officers_see_periods_of_their_office_and_other_bureaus_see_nothing(app, client, auth, org):
    everyone = declare(client, org.supervisor_headers)
    sister_only = declare(client, org.supervisor_headers, office_ids=[org.sister_office.id])
    listed = client.get(PERIODS, headers=org.headers).get_json()["items"]
    assert [p["id"] for p in listed] == [everyone["id"]]
    assert error_of(client.get(f"{PERIODS}/{sister_only['id']}", headers=org.headers), 404)["code"] == "period_not_found"
    sister = auth.officer(org.sister_officer)
    assert [p["id"] for p in client.get(PERIODS, headers=sister).get_json()["items"]] == [sister_only["id"], everyone["id"]]

    foreign = auth.officer(org.foreign_supervisor)
    assert client.get(PERIODS, headers=foreign).get_json()["items"] == []
    assert error_of(client.get(f"{PERIODS}/{everyone['id']}", headers=foreign), 404)["code"] == "period_not_found"
    cancel = client.post(f"{PERIODS}/{everyone['id']}/cancel", headers=foreign, json={"reason": "x"})
    assert error_of(cancel, 404)["code"] == "period_not_found"
    by_officer = client.post(f"{PERIODS}/{everyone['id']}/cancel", headers=org.headers, json={"reason": "x"})
    assert error_of(by_officer, 403)["code"] == "bureau_role_required"
    assert error_of(client.post(PERIODS, headers=org.headers, json=body()), 403)["code"] == "bureau_role_required"
    phone = auth.supervisee(org.person)
    assert client.get(PERIODS, headers=phone).status_code in (401, 403)


def test_declaring_and_cancelling_are_audited_with_before_and_after(app, client, clock, org):
    period = declare(client, org.supervisor_headers, levels=["strict"])
    clock.advance(minutes=5)
    client.post(f"{PERIODS}/{period['id']}/cancel", headers=org.supervisor_headers, json={"reason": "提前结束"})
    entries = rows(app, AuditEntry, AuditEntry.target_type == "supervision_period")
    assert [e.action for e in entries] == ["supervision_period.declare", "supervision_period.cancel"]
    assert entries[0].details["before"] is None and entries[0].details["after"]["levels"] == ["strict"]
    assert entries[1].details["before"]["cancelled_at"] is None
    assert entries[1].details["after"]["cancel_reason"] == "提前结束"
    assert all(e.target_id == period["id"] and e.outcome == "ok" for e in entries)


@pytest.mark.parametrize("changes, path, code", [
    ({"ends_on": "2026-11-24", "starts_on": "2026-11-20"}, "ends_on", "in_the_past"),
    ({"ends_on": "2026-11-24"}, "ends_on", "before_start"),
    ({"ends_on": "2027-03-01"}, "ends_on", "too_long"),
    ({"windows": [{"opens": "12:00", "closes": "08:00"}]}, "windows.0.closes", "not_after_opens"),
    ({"windows": [{"opens": "08:00", "closes": "12:00"}, {"opens": "11:00", "closes": "13:00"}]},
     "windows.1.opens", "overlap"),
    ({"windows": [{"opens": f"{h:02d}:00", "closes": f"{h:02d}:30"} for h in range(8, 13)]}, "windows", "too_many"),
    ({"windows": [], "spot_checks_per_week": 0}, "windows", "nothing_stepped_up"),
    ({"windows": [{"opens": "8:00", "closes": "12:00"}]}, "windows.0.opens", "string_pattern_mismatch"),
    ({"spot_checks_per_week": 8}, "spot_checks_per_week", "less_than_equal"),
    ({"levels": ["harsh"]}, "levels.0", "literal_error"),
    ({"name": ""}, "name", "string_too_short"),
])
def test_a_bad_period_is_refused_naming_the_field(app, client, org, changes, path, code):
    error = error_of(client.post(PERIODS, headers=org.supervisor_headers, json=body(**changes)), 422)
    assert path in field_paths(error), error
    assert code in {f["code"] for f in error["details"]["fields"] if f["path"] == path}, error
    assert count(app, SupervisionPeriod) == 0 and count(app, Notification) == 0


def test_another_bureaus_office_is_refused_and_nothing_is_written(app, client, org):
    error = error_of(client.post(PERIODS, headers=org.supervisor_headers,
                                 json=body(office_ids=[org.office.id, org.foreign_office.id])), 422)
    assert field_paths(error) == {"office_ids.1"}
    assert count(app, SupervisionPeriod) == 0 and count(app, Notification) == 0


def test_a_reason_is_required_to_cancel(app, client, org):
    period = declare(client, org.supervisor_headers)
    error = error_of(client.post(f"{PERIODS}/{period['id']}/cancel", headers=org.supervisor_headers, json={}), 422)
    assert field_paths(error) == {"reason"}
    assert client.get(f"{PERIODS}/{period['id']}", headers=org.supervisor_headers).get_json()["status"] == "active"


def test_the_missed_period_window_costs_points_like_any_miss(app, client, clock, org):
    declare(client, org.supervisor_headers, ends_on="2026-11-25", windows=[{"opens": "08:00", "closes": "12:00"}])
    run(app, "missed_checkins")
    clock.set(local(2026, 11, 25, 12, 30))
    run(app, "missed_checkins")
    run(app, "missed_checkin_penalties")
    run(app, "missed_checkin_penalties")
    penalties = rows(app, PointEntry, PointEntry.supervisee_id == org.person.supervisee.id,
                     PointEntry.event == "missed_checkin")
    assert len(penalties) == 1 and penalties[0].event_ref.startswith("period:")


def test_the_weekly_report_counts_the_regular_windows_only(app, client, auth, make):
    week = make.report_week()
    make.add(checkin_row(week.zhang, "remote", closes(1, MONDAY) - timedelta(hours=6), "period:1:2026-11-24:1"),
             missed_row(week.zhang, "period", closes(3, MONDAY) - timedelta(hours=8), "period:1:2026-11-26:1"))
    report = get_report(client, auth.officer(week.officer)).get_json()
    zhang = next(row for row in report["supervisees"] if row["name"] == "张三")
    assert (zhang["expected"], zhang["done"], zhang["misses"]) == (8, 5, 3)  # as without the period
    assert [(d["done"], d["missed"]) for d in report["daily"]] == [(2, 0), (2, 0), (1, 1), (2, 0), (2, 0), (1, 1),
                                                                    (3, 2)]
    assert report["trend"][-1]["expected"] == 17
