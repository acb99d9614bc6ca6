"""Notices queued with their event, in its transaction: points posted (one by one and set-based), missed windows,
alerts that ask the supervisee for an explanation (raised one by one and by a sweep)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from correction.alerts.models import Alert, MissedWindow
from correction.database import db
from correction.mall.models import PointEntry
from correction.monitoring.sweeps import sweep_missed_checkins
from correction.notifications.models import Notification
from jobs import runner
from jobs.schedule import JobSpec, schedule
from tests.assertions import rows
from tests.factories import API, INSIDE, OUTSIDE, SQUARE, fix, local, upload

ADJUST = f"{API}/points/adjustments"


def notices(app, supervisee_id: int, kind: str = "points_posted") -> list[Notification]:
    return rows(app, Notification, Notification.supervisee_id == supervisee_id, Notification.kind == kind)


def test_an_officers_adjustment_tells_the_supervisee_once_and_a_refused_one_not(app, client, make, auth):
    scene = make.scene()
    headers = {**auth.officer(scene.officer), "X-Request-ID": "req-0123456789abcdef"}
    first = client.post(ADJUST, json={"supervisee_id": scene.person_id, "delta": 5, "reason": "协助社区服务"},
                        headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post(ADJUST, json={"supervisee_id": scene.person_id, "delta": 7, "reason": "重复"}, headers=headers)
    assert again.status_code == 409  # rolled back: its notice too
    [notice] = notices(app, scene.person_id)
    assert (notice.title, notice.body) == ("积分变动 Points posted", "+5 积分 points：协助社区服务")
    assert notice.data["delta"] == 5 and notice.data["event"] == "adjustment" and notice.dispatched_at is None


def test_set_based_penalties_tell_each_person_of_each_line(app, make, clock):
    scene = make.scene("strict")
    clock.set(local(2026, 11, 25, 20, 1))  # the daily remote window closed at 20:00, unsatisfied
    for job_id in ("missed_checkins", "missed_checkin_penalties", "missed_checkin_penalties"):
        [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == job_id]
        assert runner.run_job(app, spec).ok
    with app.app_context():
        lines = db.session.execute(sa.select(PointEntry.id, PointEntry.delta).where(
            PointEntry.supervisee_id == scene.person_id, PointEntry.event == "missed_checkin")).all()
        assert db.session.execute(sa.select(sa.func.count()).select_from(MissedWindow)).scalar_one() >= 1
    told = notices(app, scene.person_id)
    assert lines and sorted(n.data["entry_id"] for n in told) == sorted(i for i, _ in lines)
    assert all(n.body.startswith(f"{d} 积分 points：") for n, (_, d) in zip(sorted(told, key=lambda n: n.data["entry_id"]),
                                                                         sorted(lines)))


def test_a_missed_window_is_told_with_its_sweep_and_not_when_the_sweep_rolls_back(app, make, clock):
    scene = make.scene("strict")
    clock.set(local(2026, 11, 25, 20, 1))  # the daily remote window closed at 20:00, unsatisfied
    [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == "missed_checkins"]

    def sweep_then_fail(session, settings, now):
        sweep_missed_checkins(session, settings, now)
        raise RuntimeError("the run fails after the sweep")

    assert not runner.run_job(app, JobSpec("missed_checkins", sweep_then_fail, spec.trigger, "x")).ok
    assert notices(app, scene.person_id, "missed_window") == []
    assert runner.run_job(app, spec).ok
    assert runner.run_job(app, spec).ok
    told = notices(app, scene.person_id, "missed_window")
    assert "remote:2026-11-25" in {n.data["window_key"] for n in told}
    [remote] = [n for n in told if n.data["window_key"] == "remote:2026-11-25"]
    assert remote.title == "未按时签到 Missed check-in" and "20:00" in remote.body
    assert len({n.dedupe_key for n in told}) == len(told)


def alerts_of(app, supervisee_id: int, type_: str) -> list[Alert]:
    return rows(app, Alert, Alert.supervisee_id == supervisee_id, Alert.type == type_)


def test_an_alert_raised_by_a_fix_asks_for_an_explanation_once_without_coordinates(app, client, make, clock):
    scene = make.scene(officer_login=True, zone=SQUARE)
    t = clock() - timedelta(hours=1)
    outside = [fix(t + timedelta(minutes=5 * i), p) for i, p in enumerate([INSIDE, OUTSIDE, OUTSIDE, OUTSIDE])]
    upload(client, scene.phone, outside)
    upload(client, scene.phone, [fix(t + timedelta(minutes=25), OUTSIDE)])  # still out: the same alert
    [alert] = alerts_of(app, scene.person_id, "zone_exit")
    [notice] = notices(app, scene.person_id, "alert_raised")
    assert notice.title == "离开活动范围 Left the permitted area" and "说明" in notice.body
    assert notice.data == {"alert_id": alert.id, "type": "zone_exit"} and notice.dedupe_key == f"alert:{alert.id}"
    assert "29.0" not in notice.body and "119." not in notice.body


def test_a_missed_spot_check_is_told_with_its_sweep_and_a_missed_window_only_once(app, client, make, clock):
    scene = make.scene("strict", officer_login=True)
    asked = client.post(f"{API}/spot-checks", json={"supervisee_id": scene.person_id, "minutes": 10},
                        headers=scene.headers)
    assert asked.status_code == 201, asked.get_json()
    clock.set(local(2026, 11, 25, 20, 1))  # the spot check ran out; the daily remote window closed unsatisfied
    for job_id in ("missed_spot_checks", "missed_checkins", "missed_spot_checks", "missed_checkins"):
        [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == job_id]
        assert runner.run_job(app, spec).ok
    [alert] = alerts_of(app, scene.person_id, "missed_spot_check")
    [notice] = notices(app, scene.person_id, "alert_raised")
    assert (notice.title, notice.data) == ("未按时应答点验 Spot check not answered",
                                           {"alert_id": alert.id, "type": "missed_spot_check"})
    assert alerts_of(app, scene.person_id, "missed_checkin")  # told by its missed_window notice, not twice
    assert notices(app, scene.person_id, "missed_window")
