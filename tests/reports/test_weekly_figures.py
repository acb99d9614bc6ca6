"""Weekly compliance reports: figures against a hand-computed week, week edges, the formats."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from correction.database import db
from correction.reports.models import WeeklyReport
from jobs.runner import run_job
from jobs.schedule import schedule
from tests.factories import (MONDAY, alert_row, checkin_row, fix_row, get_report, missed_row, post_points,
                             spot_row)

SUNDAY_2359 = MONDAY + timedelta(days=7, minutes=-1)  # Sun 23:59 Shanghai: still W48
NEXT_0001 = MONDAY + timedelta(days=7, minutes=1)  # Mon 00:01 Shanghai: W49


@pytest.fixture
def week(app, make, clock):
    """Two supervisees of 城中街道司法所 with a known week; the clock stands after it."""
    office = make.office(name="城中街道司法所")
    officer = make.officer(office)
    clock.set(MONDAY - timedelta(days=1))
    zhang = make.supervisee(office, officer.officer, level="strict", name="张三").supervisee
    li = make.supervisee(office, officer.officer, level="normal", name="李四").supervisee
    clock.set(MONDAY + timedelta(days=8))
    rows: list = []
    for day in range(5):  # Zhang: 5 daily remote windows done, 2 missed, the station window missed
        rows.append(checkin_row(zhang, "remote", MONDAY + timedelta(days=day, hours=20), f"remote:day{day}"))
    for day in (5, 6):
        closes_at = MONDAY + timedelta(days=day, hours=20)
        rows.append(missed_row(zhang, "remote", closes_at, f"remote:day{day}", detected_at=closes_at))
    rows.append(missed_row(zhang, "station", SUNDAY_2359, "station:w48", detected_at=SUNDAY_2359))
    rows.append(missed_row(zhang, "remote", NEXT_0001, "remote:next", detected_at=NEXT_0001))  # belongs to W49
    # Li: the weekly remote window done at Sunday 23:59 (W48), a station window closing 00:01 Monday (W49)
    rows.append(checkin_row(li, "remote", SUNDAY_2359, "remote:w48", received_at=SUNDAY_2359 - timedelta(hours=1)))
    rows.append(checkin_row(li, "station", NEXT_0001, "station:x", received_at=NEXT_0001 - timedelta(hours=1)))
    # Alerts for Zhang: acknowledged after 10 and 30 minutes, one left open (high severity: red)
    for minutes, severity in ((10, "medium"), (30, "medium"), (None, "high")):
        rows.append(alert_row(zhang, "missed_checkin", MONDAY + timedelta(days=2, hours=minutes or 1),
                              severity=severity, ack_minutes=minutes, key=f"s{minutes}"))
    rows.append(spot_row(zhang, officer.officer.id, MONDAY + timedelta(days=1), "answered"))
    # Zhang: fixes in 12 distinct hours (two in each), of 168 supervised hours
    rows += [fix_row(zhang, MONDAY + timedelta(hours=hour, minutes=minute), received_at=MONDAY)
             for hour in range(12) for minute in (0, 30)]
    make.add(*rows)
    with app.app_context():
        post_points(db.session, zhang, 10, "checkin_station", "a", MONDAY + timedelta(days=1))
        post_points(db.session, zhang, -4, "redemption", "b", MONDAY + timedelta(days=2))
        db.session.commit()
    return {"office": office, "officer": officer, "zhang": zhang.id, "li": li.id}


def test_the_figures_match_the_hand_computed_week(client, auth, week):
    data = get_report(client, auth.officer(week["officer"])).get_json()
    rows = {r["name"]: r for r in data["supervisees"]}
    zhang, li = rows["张三"], rows["李四"]
    assert (zhang["expected"], zhang["done"], zhang["misses"]) == (8, 5, 3)
    assert (zhang["remote_expected"], zhang["remote_done"], zhang["station_expected"]) == (7, 5, 1)
    assert zhang["on_time_rate"] == round(5 / 8, 4)
    assert (zhang["spot_requested"], zhang["spot_answered"], zhang["alerts"]) == (1, 1, 3)
    assert zhang["location_coverage"] == round(12 / 168, 4)
    assert (zhang["points_earned"], zhang["points_spent"]) == (10, 4)
    assert (zhang["status_colour"], zhang["unresolved_alerts"]) == ("red", 3)  # acknowledged is not resolved
    assert (li["expected"], li["done"], li["misses"], li["status_colour"]) == (1, 1, 0, "green")
    totals = data["totals"]
    assert (totals["supervisees"], totals["expected"], totals["done"], totals["misses"]) == (2, 9, 6, 3)
    assert totals["on_time_rate"] == round(6 / 9, 4)
    [stats] = data["alerts_by_type"]
    assert (stats["count"], stats["acknowledged"], stats["median_ack_seconds"], stats["worst_ack_seconds"]) == (
        3, 2, 1200.0, 1800.0)
    assert data["attention"]["most_misses"][0]["name"] == "张三"
    assert data["change_from_previous_week"]["misses"] == 3  # nothing the week before
    assert data["provisional"] is False
    daily = {d["date"]: d for d in data["daily"]}
    assert (daily["2026-11-23"]["done"], daily["2026-11-29"]["missed"], daily["2026-11-29"]["done"]) == (1, 2, 1)


def test_supervision_starting_or_ending_mid_week_is_counted_for_its_part(client, auth, make, clock, week):
    after = clock()
    clock.set(MONDAY - timedelta(days=30))  # enrolled long before the week
    late = make.supervisee(week["office"], week["officer"].officer, start=date(2026, 11, 26), end=date(2027, 6, 1))
    ended = make.supervisee(week["office"], week["officer"].officer, start=date(2025, 1, 1), end=date(2026, 11, 24))
    gone = make.supervisee(week["office"], week["officer"].officer, start=date(2025, 1, 1), end=date(2026, 11, 20))
    clock.set(after)
    rows = {r["supervisee_id"]: r for r in get_report(client, auth.officer(week["officer"])).get_json()["supervisees"]}
    assert late.supervisee.id in rows and ended.supervisee.id in rows
    assert gone.supervisee.id not in rows  # supervision over before the week began
    assert rows[late.supervisee.id]["location_coverage"] == 0.0
    assert rows[ended.supervisee.id]["location_coverage"] == 0.0


def test_a_supervisee_enrolled_after_the_week_is_not_in_it(client, auth, make, clock, week):
    newcomer = make.supervisee(week["office"], week["officer"].officer)  # created "now", after the week
    ids = [r["supervisee_id"] for r in get_report(client, auth.officer(week["officer"])).get_json()["supervisees"]]
    assert newcomer.supervisee.id not in ids


def test_the_pdf_reads_back_with_the_office_in_chinese_and_the_totals(client, auth, week):
    response = get_report(client, auth.officer(week["officer"]), fmt="pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "城中街道司法所" in text and "张三" in text and "2026-W48" in text
    assert "66.7%" in text  # the on-time rate of the office


def test_the_xlsx_reads_back_with_typed_columns(client, auth, week):
    response = get_report(client, auth.officer(week["officer"]), fmt="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Summary", "Supervisees", "Alerts", "Daily"]
    sheet = book["Supervisees"]
    header = [c.value for c in sheet[1]]
    zhang = [c.value for c in next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "张三")]
    row = dict(zip(header, zhang))
    assert isinstance(row["应签 Expected"], int) and row["应签 Expected"] == 8
    assert isinstance(row["按时率 On-time"], float) and row["按时率 On-time"] == 0.625


def test_the_csv_reads_back_with_a_header_and_a_row_per_supervisee(client, auth, week):
    response = get_report(client, auth.officer(week["officer"]), fmt="csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert sorted(r["姓名 Name"] for r in rows) == ["张三", "李四"]
    assert {r["week"] for r in rows} == {"2026-W48"}


def test_the_monday_job_stores_every_report_and_a_rerun_replaces_them(app, clock, week):
    clock.set(MONDAY + timedelta(days=7, hours=1))  # Monday 01:00 local of W49
    spec = next(s for s in schedule(app.config["SETTINGS"]) if s.id == "weekly_reports")
    assert run_job(app, spec).rows == 2  # the office and the bureau
    assert run_job(app, spec).rows == 2
    with app.app_context():
        stored = db.session.execute(sa.select(WeeklyReport.scope, WeeklyReport.week, WeeklyReport.provisional)).all()
    assert sorted(stored) == sorted([(f"office:{week['office'].id}", "2026-W48", False),
                                     (f"bureau:{week['office'].bureau_id}", "2026-W48", False)])


def test_a_week_that_has_not_ended_is_provisional_and_not_stored(app, client, auth, clock, week):
    clock.set(MONDAY + timedelta(days=3))
    data = get_report(client, auth.officer(week["officer"])).get_json()
    assert data["provisional"] is True
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(WeeklyReport)).scalar_one() == 0


def test_the_cli_writes_a_pdf_with_a_progress_bar(runner, week, tmp_path):
    out = tmp_path / "w48.pdf"
    result = runner.invoke(args=["report", "weekly", "--week", "2026-W48", "--office", str(week["office"].id),
                                 "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "weekly report 2026-W48" in result.output and out.read_bytes().startswith(b"%PDF")
    bad = runner.invoke(args=["report", "weekly", "--week", "2026-48"])
    assert bad.exit_code == 2


def test_officers_get_their_office_supervisors_the_bureau_others_nothing(client, auth, make, week):
    officer = auth.officer(week["officer"])
    assert get_report(client, officer, office_id=week["office"].id).status_code == 200
    other_office = make.office(bureau=None)
    assert get_report(client, officer, office_id=other_office.id).status_code == 404
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=week["office"].bureau_id))
    bureau = get_report(client, supervisor).get_json()
    assert bureau["office"] is None and bureau["totals"]["supervisees"] == 2
    assert get_report(client, supervisor, office_id=week["office"].id).status_code == 200
    assert get_report(client, supervisor, office_id=other_office.id).status_code == 404
    assert get_report(client, officer, week="2026-W99").status_code == 422
