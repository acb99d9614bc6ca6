"""Weekly report formats, each read back: JSON, CSV (csv module), XLSX (openpyxl), PDF (pypdf).

The week is the hand-computed one of tests/factories.py (ReportWeek).
"""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from pypdf import PdfReader

from correction.reports.render import COLUMNS
from tests.factories import AFTER_THE_WEEK, MONDAY, get_report

INT_COLUMNS = [header for _, header, kind in COLUMNS if kind == "int"]
RATE_COLUMNS = [header for _, header, kind in COLUMNS if kind == "pct"]


@pytest.fixture
def scene(make):
    return make.report_week()


@pytest.fixture
def officer(auth, scene):
    return auth.officer(scene.officer)


def download(client, headers, fmt, **params):
    response = get_report(client, headers, fmt, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def workbook(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    try:
        return {sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in book}, {
            sheet.title: [[cell.number_format for cell in row] for row in sheet.iter_rows()] for sheet in book}
    finally:
        book.close()


# --- JSON ------------------------------------------------------------------------------------------

def test_json_describes_the_week_and_its_scope(client, officer, scene):
    response = download(client, officer, "json")
    assert response.mimetype == "application/json"
    report = response.get_json()
    assert {k: report[k] for k in ("week", "from", "to", "timezone", "provisional", "generated_at")} == {
        "week": "2026-W48", "from": "2026-11-23", "to": "2026-11-29", "timezone": "Asia/Shanghai",
        "provisional": False, "generated_at": "2026-12-01T02:00:30Z"}  # the login moved the clock 30 s
    assert report["title"] == "城中街道司法所 社区矫正周报 Weekly compliance report 2026-W48"
    assert report["bureau"] == {"id": scene.bureau.id, "name": "金华市婺城区司法局"}
    assert set(report) == {"title", "bureau", "office", "week", "from", "to", "timezone", "provisional",
                           "generated_at", "totals", "change_from_previous_week", "previous_week", "daily", "trend",
                           "alerts_by_type", "attention", "supervisees"}
    assert [r["supervisee_id"] for r in report["supervisees"]] == [scene.zhang.id, scene.li.id, scene.wang.id]


# --- CSV ---------------------------------------------------------------------------------------------

def test_csv_is_utf8_with_a_bom_a_header_and_one_row_per_supervisee(client, officer, scene):
    response = download(client, officer, "csv")
    assert response.mimetype == "text/csv" and response.mimetype_params == {"charset": "utf-8"}
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="weekly-2026-W48-office-{scene.office.id}.csv"')
    assert response.data.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert header == ["week", *[h for _, h, _ in COLUMNS]]
    assert header[:4] == ["week", "ID", "姓名 Name", "司法所 Office"]
    assert len(rows) == 3
    table = {row[2]: dict(zip(header, row)) for row in rows}
    zhang = table["张三"]
    assert zhang["week"] == "2026-W48" and zhang["ID"] == str(scene.zhang.id)
    assert (zhang["司法所 Office"], zhang["管理等级 Level"]) == ("城中街道司法所", "strict")
    assert (zhang["应签 Expected"], zhang["已签 Done"], zhang["漏签 Missed"], zhang["按时率 On-time"]) == (
        "8", "5", "3", "0.625")
    assert (zhang["预警 Alerts"], zhang["未处理 Unresolved"], zhang["定位覆盖 Coverage"]) == ("5", "4", "0.25")
    assert (zhang["矫正码 Status"], zhang["最后定位 Last fix (UTC)"]) == ("red", "2026-11-24T09:30:00Z")
    assert (table["李四"]["得分 Points earned"], table["李四"]["消费 Points spent"]) == ("12", "30")


def test_csv_leaves_a_rate_that_does_not_exist_empty(client, auth, make, clock, scene):
    clock.set(MONDAY + timedelta(days=6))  # enrolled Sunday: no window closed for them that week
    make.supervisee(scene.office, scene.officer.officer, name="新人")
    clock.set(AFTER_THE_WEEK)
    response = download(client, auth.officer(scene.officer), "csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    newcomer = next(r for r in rows if r["姓名 Name"] == "新人")
    assert (newcomer["应签 Expected"], newcomer["按时率 On-time"], newcomer["定位覆盖 Coverage"]) == ("0", "", "0.0")
    assert newcomer["最后定位 Last fix (UTC)"] == ""


# --- XLSX --------------------------------------------------------------------------------------------

def test_xlsx_has_summary_supervisees_alerts_and_daily_sheets(client, officer, scene):
    response = download(client, officer, "xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].endswith(f'weekly-2026-W48-office-{scene.office.id}.xlsx"')
    sheets, _ = workbook(response.data)
    assert list(sheets) == ["Summary", "Supervisees", "Alerts", "Daily"]


def test_the_summary_sheet_holds_the_totals_typed(client, officer):
    sheets, formats = workbook(download(client, officer, "xlsx").data)
    summary = sheets["Summary"]
    assert summary[0][0] == "城中街道司法所 社区矫正周报 Weekly compliance report 2026-W48"
    assert summary[1][:4] == ["Week", "2026-W48", "2026-11-23", "2026-11-29"]
    assert summary[2][:2] == ["Provisional", False]
    totals = {row[0]: row[1] for row in summary[3:]}
    assert list(totals) == ["supervisees", "expected", "done", "misses", "remote_expected", "remote_done",
                            "station_expected", "station_done", "refused_checkins", "spot_requested", "spot_answered",
                            "alerts", "zone_breaches", "unresolved_alerts", "points_earned", "points_spent",
                            "on_time_rate", "location_coverage", "status_green", "status_yellow", "status_red"]
    assert totals["supervisees"] == 3 and type(totals["supervisees"]) is int
    for key, value in {"expected": 17, "done": 13, "misses": 4, "alerts": 7, "points_earned": 19,
                       "points_spent": 30, "status_red": 1}.items():
        assert totals[key] == value and type(totals[key]) is int, key
    assert totals["on_time_rate"] == 0.7647 and type(totals["on_time_rate"]) is float
    assert totals["location_coverage"] == 0.5 and type(totals["location_coverage"]) is float
    rate_row = 3 + list(totals).index("on_time_rate")
    assert formats["Summary"][rate_row][1] == "0.0%"


def test_the_supervisees_sheet_has_typed_columns(client, officer, scene):
    sheets, formats = workbook(download(client, officer, "xlsx").data)
    header, *rows = sheets["Supervisees"]
    assert header == [h for _, h, _ in COLUMNS]
    assert len(rows) == 3
    table = {row[1]: dict(zip(header, row)) for row in rows}
    for row in table.values():
        for column in INT_COLUMNS:
            assert type(row[column]) is int, (row["姓名 Name"], column, row[column])
    zhang = table["张三"]
    assert zhang["ID"] == scene.zhang.id
    assert (zhang["应签 Expected"], zhang["已签 Done"], zhang["漏签 Missed"]) == (8, 5, 3)
    assert (zhang["按时率 On-time"], zhang["定位覆盖 Coverage"]) == (0.625, 0.25)
    assert type(zhang["按时率 On-time"]) is float and type(zhang["定位覆盖 Coverage"]) is float
    assert (table["王五"]["按时率 On-time"], table["王五"]["定位覆盖 Coverage"]) == (0.875, 0.75)
    # a whole-number rate (100%) is stored as a number; openpyxl reads "1" back as an int
    assert table["李四"]["按时率 On-time"] == 1
    assert (zhang["姓名 Name"], zhang["司法所 Office"], zhang["矫正码 Status"]) == ("张三", "城中街道司法所", "red")
    rate_columns = [header.index(c) for c in RATE_COLUMNS]
    assert all(formats["Supervisees"][r][c] == "0.0%" for r in range(1, 4) for c in rate_columns)


def test_the_alerts_and_daily_sheets(client, officer):
    sheets, formats = workbook(download(client, officer, "xlsx").data)
    assert sheets["Alerts"] == [
        ["type", "count", "acknowledged", "median_ack_seconds", "worst_ack_seconds"],
        ["missed_checkin", 4, 3, 1800, 5400],
        ["missed_spot_check", 1, 1, 2700, 2700],
        ["zone_exit", 2, 1, 1200, 1200]]
    header, *days = sheets["Daily"]
    assert header == ["date", "done", "missed", "rate"]
    assert days == [["2026-11-23", 2, 0, 1], ["2026-11-24", 2, 0, 1], ["2026-11-25", 1, 1, 0.5],
                    ["2026-11-26", 2, 0, 1], ["2026-11-27", 2, 0, 1], ["2026-11-28", 1, 1, 0.5],
                    ["2026-11-29", 3, 2, 0.6]]
    assert all(type(d[1]) is int and type(d[2]) is int for d in days)
    assert type(days[2][3]) is float and type(days[6][3]) is float
    assert {row[3] for row in formats["Daily"][1:]} == {"0.0%"}


# --- PDF ---------------------------------------------------------------------------------------------

def test_the_pdf_reads_back_in_chinese_with_the_totals_and_the_change(client, officer, scene):
    response = download(client, officer, "pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="weekly-2026-W48-office-{scene.office.id}.pdf"')
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title == "城中街道司法所 社区矫正周报 Weekly compliance report 2026-W48"
    assert len(reader.pages) >= 4  # title, totals, charts, attention and table
    text = pdf_text(response.data)
    assert "城中街道司法所" in text and "社区矫正周报" in text
    assert "2026-W48（2026-11-23 至 2026-11-29，Asia/Shanghai）" in text
    for name in ("张三", "李四", "王五"):
        assert name in text
    lines = text.splitlines()
    after = {label: lines[lines.index(label) + 1: lines.index(label) + 3]
             for label in ("应签 Expected", "漏签 Missed", "按时率 On-time rate", "预警 Alerts")}
    assert after == {"应签 Expected": ["17", "+8"], "漏签 Missed": ["4", "+3"],
                     "按时率 On-time rate": ["76.5%", "-12.4 个百分点"], "预警 Alerts": ["7", "+5"]}
    assert "50.0%" in lines  # coverage
    assert "临时报告" not in text


def test_the_bureau_pdf_names_the_bureau_and_every_office(client, auth, scene):
    response = download(client, auth.officer(scene.supervisor), "pdf")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="weekly-2026-W48-bureau-{scene.bureau.id}.pdf"')
    text = pdf_text(response.data)
    assert "金华市婺城区司法局" in text and "江南街道司法所" in text and "赵六" in text
    assert "孙九" not in text and "西城街道司法所" not in text


def test_a_provisional_pdf_says_so(client, auth, clock, scene):
    clock.set(MONDAY + timedelta(days=3))
    text = pdf_text(download(client, auth.officer(scene.officer), "pdf").data)
    assert "临时报告：本周尚未结束 Provisional: the week has not ended" in text


# --- a stored report renders as the fresh one did ------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_a_stored_report_renders_the_same_as_when_it_was_built(client, officer, fmt):
    fresh = download(client, officer, fmt)  # builds and stores the ended week
    again = download(client, officer, fmt)  # served from storage
    if fmt == "json":
        assert again.get_json() == fresh.get_json()
    elif fmt == "csv":
        assert again.data == fresh.data
    else:
        assert workbook(again.data) == workbook(fresh.data)
