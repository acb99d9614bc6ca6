"""What follows a breach or a clean week in points: the penalty jobs and the compliant-week award.

A missed check-in costs 5 points once, a mocked location 20 once per alert; a week without a miss
or an alert earns 10 on the Monday after. The clock starts on Wednesday 2026-11-25 at 10:00 in
Shanghai (02:00Z); a ``normal`` supervisee has a weekly remote window (Mon 23rd – Sun 29th) and a
monthly station window open then; a ``strict`` one has a daily remote window 08:00–20:00.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from correction.alerts.models import MissedWindow
from correction.database import db
from jobs.runner import run_job
from jobs.schedule import schedule
from tests.assertions import assert_balances_match_ledger, balance_of, code_of, ledger_of, ledger_sum
from tests.factories import local, post_checkin, station_code


@pytest.fixture
def mall(make):
    """An office, its officer, and one ``normal`` supervisee logged in on their phone."""
    return make.scene()


def job(app, job_id: str):
    """Run one scheduled job once, the way the scheduler does; return its run record."""
    [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == job_id]
    run = run_job(app, spec)
    assert run is not None and run.ok, run and run.error
    return run


# --- what follows a breach -------------------------------------------------------------------

def test_a_mocked_location_deducts_20_once_per_alert(client, app, make, clock, mall):
    station = make.station(mall.office)
    for _ in range(2):  # the second attempt the same day raises no new alert, so no new deduction
        response = post_checkin(client, mall.phone, "station", qr_text=station_code(station, clock()),
                                recorded_at=clock(), is_mock=True)
        assert code_of(response) == "mock_location"
        clock.advance(minutes=1)
    [(delta, event, ref)] = ledger_of(app, mall.person_id)
    assert (delta, event) == (-20, "mock_location") and ref.startswith("alert:")
    assert balance_of(app, mall.person_id) == -20


# --- missed check-in penalties and compliant-week awards -------------------------------------

def test_a_missed_checkin_deducts_5_once(app, make, clock, mall):
    person = make.supervisee(mall.office, mall.officer.officer, level="strict")
    pid = person.supervisee.id
    clock.set(local(2026, 11, 25, 20, 1))  # the daily remote window closed at 20:00, unsatisfied
    job(app, "missed_checkins")
    with app.app_context():
        misses = db.session.execute(sa.select(MissedWindow.window_key)
                                    .where(MissedWindow.supervisee_id == pid)).scalars().all()
    assert "remote:2026-11-25" in misses
    job(app, "missed_checkin_penalties")
    expected = sorted((-5, "missed_checkin", key) for key in misses)
    assert sorted(ledger_of(app, pid)) == expected
    assert balance_of(app, pid) == -5 * len(misses)

    job(app, "missed_checkin_penalties")  # again at the same instant,
    clock.advance(minutes=1)
    job(app, "missed_checkins")  # and a minute later, after another sweep
    job(app, "missed_checkin_penalties")
    assert sorted(ledger_of(app, pid)) == expected
    assert balance_of(app, pid) == -5 * len(misses)
    assert_balances_match_ledger(app)


def test_penalties_for_new_misses_at_the_same_instant_keep_the_balance_exact(app, make, clock, mall):
    first = make.supervisee(mall.office, mall.officer.officer, level="strict")
    clock.set(local(2026, 11, 25, 20, 1))
    job(app, "missed_checkins")
    job(app, "missed_checkin_penalties")
    with app.app_context():  # another miss appears; the next run happens to read the same clock
        db.session.add(MissedWindow(supervisee_id=first.supervisee.id, office_id=mall.office.id, kind="remote",
                                    window_key="remote:test", closes_at=clock(), detected_at=clock(),
                                    alerted=True))
        db.session.commit()
    job(app, "missed_checkin_penalties")
    assert (-5, "missed_checkin", "remote:test") in ledger_of(app, first.supervisee.id)
    assert balance_of(app, first.supervisee.id) == ledger_sum(app, first.supervisee.id)
    assert_balances_match_ledger(app)


def test_compliant_week_awards_10_once_and_not_for_a_week_with_a_miss(client, app, make, auth, clock, mall):
    station = make.station(mall.office)
    slacker = make.supervisee(mall.office, mall.officer.officer)
    slacker_phone = auth.supervisee(slacker)
    for phone in (mall.phone, slacker_phone):  # both keep week 48 and November: no miss before week 49
        assert post_checkin(client, phone, "station", qr_text=station_code(station, clock()),
                            recorded_at=clock()).status_code == 201
        assert post_checkin(client, phone, "remote", recorded_at=clock()).status_code == 201
    clock.set(local(2026, 12, 1, 9))  # week 49 (Mon 30 Nov – Sun 6 Dec): only one checks in remotely
    assert post_checkin(client, mall.phone, "remote", recorded_at=clock()).status_code == 201
    for moment in (local(2026, 11, 30, 20, 1), local(2026, 12, 6, 20, 1)):
        clock.set(moment)
        job(app, "missed_checkins")
    with app.app_context():
        missed = db.session.execute(sa.select(MissedWindow.supervisee_id, MissedWindow.window_key)).all()
    assert [tuple(m) for m in missed] == [(slacker.supervisee.id, "remote:2026-11-30")]

    clock.set(local(2026, 12, 7, 0, 30))  # Monday 00:30, when the job is scheduled
    before = {p: ledger_sum(app, p) for p in (mall.person_id, slacker.supervisee.id)}
    assert job(app, "compliant_week_awards").rows == 1
    assert job(app, "compliant_week_awards").rows == 0  # the same instant again
    clock.advance(hours=1)
    assert job(app, "compliant_week_awards").rows == 0  # and later
    assert ledger_of(app, mall.person_id)[-1] == (10, "compliant_week", "2026-W49")
    assert ledger_sum(app, mall.person_id) == before[mall.person_id] + 10
    assert "compliant_week" not in [e for _, e, _ in ledger_of(app, slacker.supervisee.id)]
    assert ledger_sum(app, slacker.supervisee.id) == before[slacker.supervisee.id]
    assert_balances_match_ledger(app)


def test_a_week_with_an_alert_is_not_compliant(client, app, make, clock, mall):
    clock.set(local(2026, 12, 1, 9))
    assert post_checkin(client, mall.phone, "remote", recorded_at=clock()).status_code == 201
    assert code_of(post_checkin(client, mall.phone, "remote", recorded_at=clock(), is_mock=True)) == "mock_location"
    with app.app_context():  # station November report done, as far as the sweep is concerned
        db.session.execute(sa.delete(MissedWindow))
        db.session.commit()
    clock.set(local(2026, 12, 7, 0, 30))
    assert job(app, "compliant_week_awards").rows == 0
    assert [e for _, e, _ in ledger_of(app, mall.person_id)] == ["checkin_remote", "mock_location"]
