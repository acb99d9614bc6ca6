"""The set-based penalties and awards score each row by the rule version of its own date and bureau.

The clock starts on Wednesday 2026-11-25 at 10:00 in Shanghai (02:00Z). A ``strict`` supervisee
has a daily remote window 08:00–20:00; a missed one costs 5 points by default, a compliant week
earns 10.
"""
from __future__ import annotations

import sqlalchemy as sa

from correction.alerts.models import MissedWindow
from correction.database import db
from correction.mall.models import PointEntry
from jobs.runner import run_job
from jobs.schedule import schedule
from tests.assertions import assert_balances_match_ledger, balance_of, ledger_of
from tests.factories import API, local, post_checkin, station_code


def job(app, job_id: str):
    """Run one scheduled job once, the way the scheduler does; return its run record."""
    [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == job_id]
    run = run_job(app, spec)
    assert run is not None and run.ok, run and run.error
    return run


def supervised_bureau(make, auth, level: str = "strict"):
    """A scene in a bureau of its own, with its supervisor's headers."""
    scene = make.scene(level, station=True)
    scene.supervisor_headers = auth.officer(make.officer(role="supervisor", bureau_id=scene.office.bureau_id))
    return scene


def change(client, headers, event: str, effective_from: str, points: int):
    response = client.post(f"{API}/point-rules/{event}/versions", headers=headers, json={
        "points": points, "effective_from": effective_from, "reason": "局务会决定"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def version_ids(app, supervisee_id: int, event: str) -> list[int]:
    with app.app_context():
        return list(db.session.execute(sa.select(PointEntry.rule_version_id).where(
            PointEntry.supervisee_id == supervisee_id, PointEntry.event == event).order_by(PointEntry.event_ref)
        ).scalars())


def test_a_late_penalty_uses_the_version_of_the_windows_day(app, client, make, auth, clock):
    scene = supervised_bureau(make, auth)
    elsewhere = supervised_bureau(make, auth)
    harsher = change(client, scene.supervisor_headers, "missed_checkin", "2026-11-26", -8)
    clock.set(local(2026, 11, 25, 20, 1))
    job(app, "missed_checkins")  # the 25th's misses are recorded; their penalties wait
    clock.set(local(2026, 11, 27, 12))  # the scheduler comes back after the change took effect
    job(app, "missed_checkins")
    job(app, "missed_checkin_penalties")

    ledger = sorted(ledger_of(app, scene.person_id), key=lambda line: line[2])
    assert [(delta, ref) for delta, _, ref in ledger] == [(-5, "remote:2026-11-25"), (-8, "remote:2026-11-26")]
    assert version_ids(app, scene.person_id, "missed_checkin")[1] == harsher
    assert [delta for delta, _, _ in ledger_of(app, elsewhere.person_id)] == [-5, -5]  # another bureau
    with app.app_context():  # every miss was claimed, so nothing is charged again
        assert db.session.execute(sa.select(sa.func.count()).select_from(MissedWindow)
                                  .where(MissedWindow.penalized_at.is_(None))).scalar_one() == 0
    job(app, "missed_checkin_penalties")
    assert balance_of(app, scene.person_id) == -13
    assert_balances_match_ledger(app)


def test_a_miss_on_a_day_the_rule_is_off_costs_nothing_and_is_not_charged_later(app, client, make, auth, clock):
    scene = supervised_bureau(make, auth)
    response = client.post(f"{API}/point-rules/missed_checkin/versions", headers=scene.supervisor_headers, json={
        "points": -5, "active": False, "effective_from": "2026-11-25", "reason": "系统故障期间不扣分"})
    assert response.status_code == 201, response.get_json()
    change(client, scene.supervisor_headers, "missed_checkin", "2026-11-26", -5)  # back on from the 26th
    clock.set(local(2026, 11, 26, 20, 1))
    job(app, "missed_checkins")
    job(app, "missed_checkin_penalties")
    assert [(d, ref) for d, _, ref in ledger_of(app, scene.person_id)] == [(-5, "remote:2026-11-26")]
    assert_balances_match_ledger(app)


def test_the_compliant_week_award_uses_the_version_of_the_weeks_monday(app, client, make, auth, clock):
    scene = supervised_bureau(make, auth, "normal")
    elsewhere = supervised_bureau(make, auth, "normal")
    for person in (scene, elsewhere):  # week 48 and November kept: no miss (nor its alert) in week 49
        assert post_checkin(client, person.phone, "station", qr_text=station_code(person.station, clock()),
                            recorded_at=clock()).status_code == 201
        assert post_checkin(client, person.phone, "remote", recorded_at=clock()).status_code == 201
    week_49 = change(client, scene.supervisor_headers, "compliant_week", "2026-11-30", 15)
    change(client, scene.supervisor_headers, "compliant_week", "2026-12-02", 30)  # mid-week: from week 50
    clock.set(local(2026, 12, 1, 9))  # week 49 (Mon 30 Nov – Sun 6 Dec): both check in
    for person in (scene, elsewhere):
        assert post_checkin(client, person.phone, "remote", recorded_at=clock()).status_code == 201
    for moment in (local(2026, 11, 30, 20, 1), local(2026, 12, 6, 20, 1)):
        clock.set(moment)
        job(app, "missed_checkins")
    clock.set(local(2026, 12, 7, 0, 30))  # Monday 00:30, when the job is scheduled
    assert job(app, "compliant_week_awards").rows == 2

    assert ledger_of(app, scene.person_id)[-1] == (15, "compliant_week", "2026-W49")
    assert version_ids(app, scene.person_id, "compliant_week") == [week_49]
    assert ledger_of(app, elsewhere.person_id)[-1] == (10, "compliant_week", "2026-W49")
    assert_balances_match_ledger(app)
