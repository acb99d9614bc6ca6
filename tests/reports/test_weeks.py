"""Weekly reports: weeks are Monday–Sunday in Shanghai time; who is in a week and for how many hours."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from correction.database import db
from correction.reports.weeks import last_complete_week, parse_week, week_of
from correction.time import UTC
from tests.factories import (AFTER_THE_WEEK, ENROLLED, MONDAY, WEEK_END, alert_row, checkin_row, fix_row,
                             get_report, missed_row, post_points, spot_row)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUNDAY_2359 = datetime(2026, 11, 29, 15, 59, tzinfo=UTC)  # Sun 29 Nov 23:59 Shanghai: the last minute of W48
MONDAY_0001 = datetime(2026, 11, 29, 16, 1, tzinfo=UTC)  # Mon 30 Nov 00:01 Shanghai: W49
AFTER_W49 = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


# --- the week arithmetic ------------------------------------------------------------------------

def test_an_iso_week_runs_from_monday_midnight_to_the_next_local():
    week = parse_week("2026-W48", SHANGHAI)
    assert (week.monday, week.start, week.end) == (date(2026, 11, 23), MONDAY, WEEK_END)
    assert week.days()[-1] == date(2026, 11, 29)
    assert week.previous().label == "2026-W47" and week.previous().end == week.start


def test_the_year_boundary_and_week_53():
    assert parse_week("2026-W53", SHANGHAI).monday == date(2026, 12, 28)
    assert parse_week("2027-W01", SHANGHAI).previous().label == "2026-W53"
    assert week_of(date(2027, 1, 3), SHANGHAI).label == "2026-W53"  # a Sunday of January in last year's week
    assert week_of(date(2025, 12, 29), SHANGHAI).label == "2026-W01"  # a Monday of December in next year's week
    for bad in ("2025-W53", "2026-W00", "2026-W54", "2026-48", "2026-w48", " 2026-W48"):
        with pytest.raises(ValueError):
            parse_week(bad, SHANGHAI)


@pytest.mark.parametrize("now, label", [
    (SUNDAY_2359, "2026-W47"),  # W48 is still running
    (MONDAY_0001, "2026-W48"),
    (datetime(2026, 11, 29, 17, 0, tzinfo=UTC), "2026-W48"),  # Monday 01:00 local, when the job runs
    (datetime(2026, 12, 6, 15, 0, tzinfo=UTC), "2026-W48"),  # Sun 6 Dec 23:00 local
])
def test_the_last_complete_week_depends_on_the_local_date(now, label):
    assert last_complete_week(now, SHANGHAI).label == label


# --- Sunday 23:59 belongs to the week, Monday 00:01 to the next -----------------------------------

@pytest.fixture
def edge(app, make, clock):
    clock.set(ENROLLED)
    office = make.office(name="城中街道司法所")
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer, level="strict", name="张三").supervisee
    clock.set(AFTER_W49)
    make.add(checkin_row(person, "remote", SUNDAY_2359, "remote:a"),
             checkin_row(person, "remote", MONDAY_0001, "remote:b"),
             missed_row(person, "station", SUNDAY_2359, "station:a"),
             missed_row(person, "station", MONDAY_0001, "station:b"),
             alert_row(person, "zone_exit", SUNDAY_2359, ack_minutes=1, resolved_minutes=1),
             alert_row(person, "mock_location", MONDAY_0001, ack_minutes=3, resolved_minutes=3),
             spot_row(person, officer.officer.id, SUNDAY_2359, "answered"),
             spot_row(person, officer.officer.id, MONDAY_0001, "missed"),
             checkin_row(person, "remote", None, None, outcome="refused", received_at=SUNDAY_2359),
             fix_row(person, SUNDAY_2359), fix_row(person, MONDAY_0001))
    with app.app_context():
        post_points(db.session, person, 3, "checkin_remote", "a", SUNDAY_2359)
        post_points(db.session, person, 4, "checkin_remote", "b", MONDAY_0001)
        db.session.commit()
    return {"officer": officer, "person": person}


def test_sunday_2359_local_counts_in_the_week(client, auth, edge):
    report = get_report(client, auth.officer(edge["officer"]), week="2026-W48").get_json()
    [row] = report["supervisees"]
    assert (row["expected"], row["done"], row["misses"], row["refused_checkins"]) == (2, 1, 1, 1)
    assert (row["alerts"], row["zone_breaches"], row["spot_requested"], row["spot_answered"]) == (1, 1, 1, 1)
    assert (row["points_earned"], row["last_fix_at"]) == (3, "2026-11-29T15:59:00Z")
    assert row["location_coverage"] == round(1 / 168, 4)
    assert report["daily"][-1] == {"date": "2026-11-29", "done": 1, "missed": 1, "rate": 0.5}
    assert [(a["type"], a["count"], a["median_ack_seconds"]) for a in report["alerts_by_type"]] == [
        ("zone_exit", 1, 60.0)]


def test_monday_0001_local_counts_in_the_next_week(client, auth, edge):
    report = get_report(client, auth.officer(edge["officer"]), week="2026-W49").get_json()
    [row] = report["supervisees"]
    assert (row["expected"], row["done"], row["misses"], row["refused_checkins"]) == (2, 1, 1, 0)
    assert (row["alerts"], row["zone_breaches"], row["spot_requested"], row["spot_answered"]) == (1, 0, 1, 0)
    assert (row["points_earned"], row["last_fix_at"]) == (4, "2026-11-29T16:01:00Z")
    assert report["daily"][0] == {"date": "2026-11-30", "done": 1, "missed": 1, "rate": 0.5}
    assert [(a["type"], a["count"], a["median_ack_seconds"]) for a in report["alerts_by_type"]] == [
        ("mock_location", 1, 180.0)]
    assert report["previous_week"] == {"week": "2026-W48", "expected": 2, "done": 1, "misses": 1, "alerts": 1,
                                       "on_time_rate": 0.5}


# --- who is in the week, and for how long ----------------------------------------------------------

@pytest.fixture
def population(app, make, clock):
    clock.set(ENROLLED)
    office = make.office(name="城中街道司法所")
    officer = make.officer(office)

    def person(name, start=date(2026, 1, 1), end=date(2027, 12, 31)):
        return make.supervisee(office, officer.officer, name=name, start=start, end=end).supervisee

    people = {
        "all week": person("全周"),
        "from Thursday": person("周四起", start=date(2026, 11, 26)),
        "until Tuesday": person("至周二", end=date(2026, 11, 24)),
        "only Monday": person("仅周一", end=date(2026, 11, 23)),
        "ended Sunday before": person("上周日止", end=date(2026, 11, 22)),
        "starts next Monday": person("下周一起", start=date(2026, 11, 30)),
    }
    clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))  # Wed 10:00 local
    people["enrolled Wednesday"] = person("周三登记")
    clock.set(AFTER_THE_WEEK)
    people["enrolled after"] = person("周后登记")

    def hours_with_fixes(who, first_hour, count):
        return [fix_row(people[who], MONDAY + timedelta(hours=first_hour + h, minutes=m))
                for h in range(count) for m in (5, 35)]

    make.add(*hours_with_fixes("all week", 0, 42),
             *hours_with_fixes("from Thursday", 72, 24),  # Thursday 00:00 local is hour 72
             *hours_with_fixes("until Tuesday", 0, 12),
             *hours_with_fixes("only Monday", 0, 24),
             *hours_with_fixes("enrolled Wednesday", 58, 11))  # Wed 10:00 local is hour 58
    return {"officer": officer, "people": people}


def test_the_week_holds_whoever_was_supervised_and_enrolled_during_it(client, auth, population):
    rows = {r["name"]: r for r in get_report(client, auth.officer(population["officer"])).get_json()["supervisees"]}
    assert sorted(rows) == sorted(["全周", "周四起", "至周二", "仅周一", "周三登记"])
    assert "周后登记" not in rows and "上周日止" not in rows and "下周一起" not in rows


def test_coverage_is_hours_with_a_fix_over_the_hours_supervised(client, auth, population):
    rows = {r["name"]: r for r in get_report(client, auth.officer(population["officer"])).get_json()["supervisees"]}
    assert rows["全周"]["location_coverage"] == 0.25  # 42 / 168
    assert rows["周四起"]["location_coverage"] == 0.25  # 24 / 96: Thursday to Sunday
    assert rows["至周二"]["location_coverage"] == 0.25  # 12 / 48: Monday and Tuesday
    assert rows["仅周一"]["location_coverage"] == 1.0  # 24 / 24
    assert rows["周三登记"]["location_coverage"] == 0.1  # 11 / 110: from Wed 10:00 local


def test_someone_enrolled_after_the_week_is_in_the_next_one(client, auth, clock, population):
    clock.set(AFTER_W49)
    rows = get_report(client, auth.officer(population["officer"]), week="2026-W49").get_json()["supervisees"]
    names = {r["name"] for r in rows}
    assert "周后登记" in names and "下周一起" in names
    assert not names & {"至周二", "仅周一", "上周日止"}
    enrolled_after = next(r for r in rows if r["name"] == "周后登记")
    assert enrolled_after["location_coverage"] == 0.0  # 0 of the hours since Tue 1 Dec 10:00 local
