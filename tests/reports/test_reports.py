"""Weekly compliance report: the figures of a hand-computed week, who may read which report, the audit.

The week and every expected number are laid out in tests/factories.py (ReportWeek).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.database import db
from correction.time import iso_z
from jobs.runner import run_job
from jobs.schedule import schedule
from tests.assertions import error_of, field_paths
from tests.factories import (AFTER_THE_WEEK, API, MONDAY, SuperviseeLogin, WEEK_END, alert_row, closes, get_report,
                             missed_row)


@pytest.fixture
def scene(make):
    return make.report_week()


@pytest.fixture
def office_report(client, auth, scene):
    response = get_report(client, auth.officer(scene.officer))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def by_name(report) -> dict[str, dict]:
    return {row["name"]: row for row in report["supervisees"]}


# --- figures ----------------------------------------------------------------------------------

def test_each_supervisee_row_has_the_hand_computed_figures(office_report):
    rows = by_name(office_report)
    assert list(rows) == ["张三", "李四", "王五"]
    zhang, li, wang = rows["张三"], rows["李四"], rows["王五"]

    assert {k: zhang[k] for k in ("level", "expected", "done", "misses", "remote_expected", "remote_done",
                                   "station_expected", "station_done", "refused_checkins")} == {
        "level": "strict", "expected": 8, "done": 5, "misses": 3, "remote_expected": 7, "remote_done": 5,
        "station_expected": 1, "station_done": 0, "refused_checkins": 1}
    assert zhang["on_time_rate"] == 0.625
    assert (zhang["spot_requested"], zhang["spot_answered"]) == (2, 1)
    assert (zhang["alerts"], zhang["zone_breaches"], zhang["unresolved_alerts"]) == (5, 1, 4)
    assert zhang["location_coverage"] == 0.25  # 42 distinct hours of 168, two fixes in each
    assert (zhang["points_earned"], zhang["points_spent"]) == (2, 0)  # the -5 penalty is neither
    assert zhang["last_fix_at"] == "2026-11-24T09:30:00Z"  # not the fix after the week
    assert zhang["status_colour"] == "red"

    assert (li["expected"], li["done"], li["misses"], li["on_time_rate"]) == (1, 1, 0, 1.0)
    assert (li["station_expected"], li["refused_checkins"]) == (0, 0)  # November's station window is due next week
    assert (li["spot_requested"], li["spot_answered"]) == (1, 1)  # the spot check of 1 December is not in it
    assert (li["alerts"], li["unresolved_alerts"], li["status_colour"]) == (0, 0, "green")
    assert li["location_coverage"] == 0.5
    assert (li["points_earned"], li["points_spent"]) == (12, 30)  # 2 + 10; 30 + 20 - 20 refunded
    assert li["last_fix_at"] == "2026-11-29T14:00:00Z"

    assert (wang["expected"], wang["done"], wang["misses"]) == (8, 7, 1)
    assert (wang["station_expected"], wang["station_done"]) == (1, 1)
    assert wang["on_time_rate"] == 0.875
    assert (wang["alerts"], wang["zone_breaches"], wang["unresolved_alerts"]) == (2, 1, 2)
    assert wang["status_colour"] == "yellow"
    assert wang["location_coverage"] == 0.75
    assert (wang["points_earned"], wang["points_spent"]) == (5, 0)


def test_office_totals_add_up_the_rows(office_report):
    assert office_report["totals"] == {
        "supervisees": 3, "expected": 17, "done": 13, "misses": 4, "remote_expected": 15, "remote_done": 12,
        "station_expected": 2, "station_done": 1, "refused_checkins": 1, "spot_requested": 3, "spot_answered": 2,
        "alerts": 7, "zone_breaches": 2, "unresolved_alerts": 6, "points_earned": 19, "points_spent": 30,
        "on_time_rate": 0.7647, "location_coverage": 0.5, "status_green": 1, "status_yellow": 1, "status_red": 1}


def test_alerts_by_type_give_count_acknowledged_median_and_worst_time_to_acknowledge(office_report):
    assert office_report["alerts_by_type"] == [
        {"type": "missed_checkin", "count": 4, "acknowledged": 3, "median_ack_seconds": 1800.0,
         "worst_ack_seconds": 5400.0},
        {"type": "missed_spot_check", "count": 1, "acknowledged": 1, "median_ack_seconds": 2700.0,
         "worst_ack_seconds": 2700.0},
        {"type": "zone_exit", "count": 2, "acknowledged": 1, "median_ack_seconds": 1200.0,
         "worst_ack_seconds": 1200.0},
    ]


def test_an_even_number_of_acknowledgements_has_the_middle_two_averaged(app, client, auth, make, scene):
    make.add(alert_row(scene.li, "device_changed", MONDAY + timedelta(days=1), ack_minutes=4),
             alert_row(scene.li, "device_changed", MONDAY + timedelta(days=2), ack_minutes=6),
             alert_row(scene.li, "device_changed", MONDAY + timedelta(days=3), ack_minutes=20),
             alert_row(scene.li, "device_changed", MONDAY + timedelta(days=4), ack_minutes=100))
    stats = {a["type"]: a for a in get_report(client, auth.officer(scene.officer)).get_json()["alerts_by_type"]}
    assert stats["device_changed"] == {"type": "device_changed", "count": 4, "acknowledged": 4,
                                       "median_ack_seconds": 780.0, "worst_ack_seconds": 6000.0}


def test_the_change_from_the_previous_week(office_report):
    assert office_report["previous_week"] == {"week": "2026-W47", "expected": 9, "done": 8, "misses": 1,
                                              "alerts": 2, "on_time_rate": 0.8889}
    assert office_report["change_from_previous_week"] == {"expected": 8, "done": 5, "misses": 3, "alerts": 5,
                                                          "on_time_rate": -0.1242}


def test_the_daily_series_runs_monday_to_sunday_local(office_report):
    assert [(d["date"], d["done"], d["missed"], d["rate"]) for d in office_report["daily"]] == [
        ("2026-11-23", 2, 0, 1.0), ("2026-11-24", 2, 0, 1.0), ("2026-11-25", 1, 1, 0.5),
        ("2026-11-26", 2, 0, 1.0), ("2026-11-27", 2, 0, 1.0), ("2026-11-28", 1, 1, 0.5),
        ("2026-11-29", 3, 2, 0.6)]


def test_the_trend_covers_eight_weeks_ending_with_this_one(office_report):
    trend = office_report["trend"]
    assert [t["week"] for t in trend] == [f"2026-W{n}" for n in range(41, 49)]
    assert trend[-1] == {"week": "2026-W48", "expected": 17, "done": 13, "misses": 4, "alerts": 7,
                         "on_time_rate": 0.7647}
    assert trend[-2]["expected"] == 9
    assert all(t == {"week": t["week"], "expected": 0, "done": 0, "misses": 0, "alerts": 0, "on_time_rate": None}
               for t in trend[:-2])


def test_the_attention_list_names_who_needs_a_look(office_report, scene):
    attention = office_report["attention"]
    assert attention["most_misses"] == [
        {"supervisee_id": scene.zhang.id, "name": "张三", "office": "城中街道司法所", "misses": 3},
        {"supervisee_id": scene.wang.id, "name": "王五", "office": "城中街道司法所", "misses": 1}]
    assert [(a["name"], a["unresolved_alerts"]) for a in attention["unresolved_alerts"]] == [("张三", 4), ("王五", 2)]
    assert [(a["name"], a["last_fix_at"]) for a in attention["out_of_contact_longest"]] == [
        ("张三", "2026-11-24T09:30:00Z"), ("王五", "2026-11-27T21:15:00Z"), ("李四", "2026-11-29T14:00:00Z")]


def test_someone_never_located_is_out_of_contact_longest(client, auth, scene):
    bureau = get_report(client, auth.officer(scene.supervisor)).get_json()
    assert [(a["name"], a["last_fix_at"]) for a in bureau["attention"]["out_of_contact_longest"]][:2] == [
        ("赵六", None), ("张三", "2026-11-24T09:30:00Z")]


def test_the_attention_lists_stop_at_five(app, client, auth, make, clock, scene):
    clock.set(MONDAY - timedelta(days=1))
    extra = [make.supervisee(scene.office, scene.officer.officer, name=f"甲{i}").supervisee for i in range(5)]
    clock.set(AFTER_THE_WEEK)
    make.add(*[missed_row(p, "remote", closes(i), f"remote:x{i}") for i, p in enumerate(extra)])
    attention = get_report(client, auth.officer(scene.officer)).get_json()["attention"]
    assert [a["name"] for a in attention["most_misses"]] == ["张三", "王五", "甲0", "甲1", "甲2"]
    assert len(attention["out_of_contact_longest"]) == 5


def test_the_bureau_report_adds_up_its_offices_and_no_other_bureau(client, auth, scene):
    report = get_report(client, auth.officer(scene.supervisor)).get_json()
    assert report["office"] is None and report["bureau"] == {"id": scene.bureau.id, "name": "金华市婺城区司法局"}
    assert [r["name"] for r in report["supervisees"]] == ["张三", "李四", "王五", "赵六"]
    totals = report["totals"]
    assert (totals["supervisees"], totals["expected"], totals["done"], totals["misses"]) == (4, 18, 14, 4)
    assert (totals["on_time_rate"], totals["location_coverage"], totals["alerts"]) == (0.7778, 0.375, 7)
    assert (totals["status_green"], totals["status_yellow"], totals["status_red"]) == (2, 1, 1)
    assert by_name(report)["赵六"]["location_coverage"] == 0.0
    assert report["change_from_previous_week"]["expected"] == 9  # 18 - 9


# --- status colour at week end -------------------------------------------------------------------

def test_the_colour_is_the_one_at_week_end_not_now(app, client, auth, make, clock, scene):
    """An alert resolved after the week still counts as unresolved at its end."""
    clock.set(MONDAY - timedelta(days=1))
    late = make.supervisee(scene.office, scene.officer.officer, name="钱七").supervisee
    serious = make.supervisee(scene.office, scene.officer.officer, name="周八").supervisee
    clock.set(AFTER_THE_WEEK)
    make.add(alert_row(late, "signal_lost", MONDAY + timedelta(days=2), severity="low",
                   resolved_minutes=60 * 24 * 6),  # resolved Tuesday of the next week
             alert_row(serious, "exclusion_entry", MONDAY + timedelta(days=6), severity="critical",
                   resolved_minutes=60 * 24 + 1))
    rows = by_name(get_report(client, auth.officer(scene.officer)).get_json())
    assert (rows["钱七"]["unresolved_alerts"], rows["钱七"]["status_colour"]) == (1, "yellow")
    assert (rows["周八"]["unresolved_alerts"], rows["周八"]["zone_breaches"], rows["周八"]["status_colour"]) == (
        1, 1, "red")


def test_a_miss_in_the_last_seven_days_turns_yellow_even_when_resolved(app, client, auth, make, clock, scene):
    clock.set(MONDAY - timedelta(days=1))
    recent = make.supervisee(scene.office, scene.officer.officer, name="吴九").supervisee
    older = make.supervisee(scene.office, scene.officer.officer, name="郑十").supervisee
    clock.set(AFTER_THE_WEEK)
    make.add(alert_row(recent, "missed_spot_check", MONDAY + timedelta(hours=1), ack_minutes=5, resolved_minutes=10),
             alert_row(older, "missed_checkin", MONDAY - timedelta(hours=1), ack_minutes=5, resolved_minutes=10))
    rows = by_name(get_report(client, auth.officer(scene.officer)).get_json())
    assert (rows["吴九"]["unresolved_alerts"], rows["吴九"]["status_colour"]) == (0, "yellow")
    assert (rows["郑十"]["unresolved_alerts"], rows["郑十"]["status_colour"]) == (0, "green")


# --- data made through the API --------------------------------------------------------------------

def test_check_ins_fixes_and_misses_made_through_the_api_are_counted(app, client, auth, make, clock):
    """Wed 25 Nov 10:00 local: a strict supervisee enrolled now checks in Wed and Fri, the sweep records
    Thu, Sat and Sun and the station window as missed; a normal one checks in once for the week."""
    office = make.office(name="城中街道司法所")
    officer = make.officer(office)
    strict = make.supervisee(office, officer.officer, level="strict", name="钱七")
    normal = make.supervisee(office, officer.officer, level="normal", name="孙八")
    sweep = next(s for s in schedule(app.config["SETTINGS"]) if s.id == "missed_checkins")

    def check_in(login):
        body = {"kind": "remote", "lat": 29.08, "lon": 119.65, "accuracy_m": 10.0, "recorded_at": iso_z(clock()),
                "is_mock": False}
        response = client.post(f"{API}/me/checkins", json=body, headers=auth.supervisee(login))
        assert response.status_code == 201, response.get_json()

    check_in(strict)
    check_in(normal)
    phone = auth.supervisee(strict)
    fixes = [{"recorded_at": iso_z(clock() + timedelta(hours=h, minutes=m)), "lat": 29.08, "lon": 119.65,
              "accuracy_m": 10.0} for h in range(10) for m in (0, 20, 40)]
    for day in range(5):  # Wed .. Sun, 21:00 local each evening
        if day == 0:
            clock.advance(hours=11)
            assert client.post(f"{API}/me/locations", headers=phone, json={"fixes": fixes}).status_code == 200
        else:
            clock.advance(hours=13)  # 10:00 local
            if day == 2:
                check_in(strict)
            clock.advance(hours=11)
        assert run_job(app, sweep).ok
        if day == 1:  # Thursday's miss is acknowledged 15 minutes (and a login) later
            clock.advance(minutes=15)
            officer_headers = auth.officer(officer)
            [queued] = client.get(f"{API}/alerts", headers=officer_headers).get_json()["items"]
            acknowledged = client.post(f"{API}/alerts/{queued['id']}/acknowledge", headers=officer_headers)
            assert acknowledged.status_code == 200, acknowledged.get_json()
    clock.set(WEEK_END + timedelta(hours=1))

    headers = auth.officer(officer)
    report = get_report(client, headers).get_json()
    rows = by_name(report)
    one = rows["钱七"]
    assert (one["expected"], one["done"], one["misses"], one["remote_done"], one["station_expected"]) == (6, 2, 4, 2, 1)
    assert one["on_time_rate"] == round(2 / 6, 4)
    assert one["location_coverage"] == round(10 / 110, 4)  # enrolled Wed 10:00 local: 110 supervised hours
    assert one["points_earned"] == 4  # 2 per on-time remote check-in
    assert (one["alerts"], one["unresolved_alerts"], one["status_colour"]) == (4, 4, "yellow")
    assert (rows["孙八"]["expected"], rows["孙八"]["done"], rows["孙八"]["misses"]) == (1, 1, 0)
    assert report["totals"]["on_time_rate"] == round(3 / 7, 4)
    assert report["alerts_by_type"] == [{"type": "missed_checkin", "count": 4, "acknowledged": 1,
                                         "median_ack_seconds": 930.0, "worst_ack_seconds": 930.0}]


# --- scope ------------------------------------------------------------------------------------------

def test_an_officer_gets_their_own_office_when_none_is_named(client, auth, scene):
    headers = auth.officer(scene.officer)
    implicit = get_report(client, headers).get_json()
    explicit = get_report(client, headers, office_id=scene.office.id).get_json()
    assert implicit["office"] == explicit["office"] == {"id": scene.office.id, "name": "城中街道司法所"}
    assert implicit["totals"] == explicit["totals"]
    assert "城中街道司法所" in implicit["title"] and "2026-W48" in implicit["title"]


@pytest.mark.parametrize("whose", ["office_b", "other_office"])
def test_an_officer_asking_for_another_office_gets_404(client, auth, scene, whose):
    office = getattr(scene, whose)
    error = error_of(get_report(client, auth.officer(scene.officer), office_id=office.id), 404)
    assert error["code"] == "office_not_found"
    assert error_of(get_report(client, auth.officer(scene.officer), office_id=999999), 404)


def test_a_supervisor_gets_the_bureau_and_every_office_of_it(client, auth, scene):
    headers = auth.officer(scene.supervisor)
    assert get_report(client, headers).get_json()["totals"]["supervisees"] == 4
    a = get_report(client, headers, office_id=scene.office.id).get_json()
    b = get_report(client, headers, office_id=scene.office_b.id).get_json()
    assert (a["office"]["name"], a["totals"]["supervisees"]) == ("城中街道司法所", 3)
    assert (b["office"]["name"], b["totals"]["supervisees"], [r["name"] for r in b["supervisees"]]) == (
        "江南街道司法所", 1, ["赵六"])
    assert error_of(get_report(client, headers, office_id=scene.other_office.id), 404)["code"] == "office_not_found"


def test_supervisees_may_not_read_reports(client, auth, scene):
    login = SuperviseeLogin(scene.zhang, "phone-password-1", "device-zhang")
    error_of(get_report(client, auth.supervisee(login)), 403)
    error_of(get_report(client, {}), 401)


@pytest.mark.parametrize("week", ["2026-W99", "2025-W53", "2026-W00", "2026-48", "26-W48", "2026-W4", "latest"])
def test_a_week_that_is_not_an_iso_week_is_422(client, auth, scene, week):
    error = error_of(get_report(client, auth.officer(scene.officer), week=week), 422)
    assert field_paths(error) == {"query.week"}


@pytest.mark.parametrize("params", [{"format": "docx"}, {"office_id": "abc"}, {"office_id": "0"}])
def test_other_bad_parameters_are_422(client, auth, scene, params):
    fmt = params.pop("format", "json")
    error_of(get_report(client, auth.officer(scene.officer), fmt, **params), 422)


def test_without_a_week_the_last_complete_one_is_served(client, auth, clock, scene):
    clock.set(WEEK_END - timedelta(minutes=1))  # Sun 29 Nov 23:59 local: W48 has not ended
    response = client.get("/api/v1/reports/weekly", headers=auth.officer(scene.officer))
    assert response.get_json()["week"] == "2026-W47"
    clock.set(AFTER_THE_WEEK)  # Tue 1 Dec, in W49
    response = client.get("/api/v1/reports/weekly", headers=auth.officer(scene.officer))
    assert response.get_json()["week"] == "2026-W48"


def test_week_53_of_2026_exists(client, auth, scene):
    report = get_report(client, auth.officer(scene.officer), week="2026-W53").get_json()
    assert (report["from"], report["to"], report["provisional"]) == ("2026-12-28", "2027-01-03", True)


# --- audit ------------------------------------------------------------------------------------------

def audit_entries(app):
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "report.read")
                                  .order_by(AuditEntry.id)).scalars().all()
        db.session.expunge_all()
    return rows


def test_every_report_read_is_audited_with_week_office_and_format(app, client, auth, scene):
    headers = auth.officer(scene.officer)
    assert get_report(client, headers, "csv").status_code == 200
    assert get_report(client, auth.officer(scene.supervisor), "pdf").status_code == 200
    first, second = audit_entries(app)
    assert (first.actor_type, first.actor_id, first.outcome) == ("officer", scene.officer.officer.id, "ok")
    assert first.details == {"week": "2026-W48", "office_id": scene.office.id, "format": "csv"}
    assert (second.actor_id, second.details) == (scene.supervisor.officer.id,
                                                 {"week": "2026-W48", "office_id": None, "format": "pdf"})


def test_a_refused_read_is_audited_too(app, client, auth, scene):
    get_report(client, auth.officer(scene.officer), office_id=scene.office_b.id)
    [entry] = audit_entries(app)
    assert (entry.actor_id, entry.outcome) == (scene.officer.officer.id, "office_not_found")
