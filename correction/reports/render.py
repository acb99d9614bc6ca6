"""Report formats for machines and spreadsheets: CSV and XLSX (the PDF is in pdf.py)."""
from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from .service import TOTALLED

# The order totals are built in; a report read back from PostgreSQL (JSONB) has lost it.
TOTALS_ORDER = ("supervisees", *TOTALLED, "on_time_rate", "location_coverage", "status_green", "status_yellow",
                "status_red")

COLUMNS = [  # (key, header, kind)
    ("supervisee_id", "ID", "int"), ("name", "姓名 Name", "text"), ("office", "司法所 Office", "text"),
    ("level", "管理等级 Level", "text"), ("expected", "应签 Expected", "int"), ("done", "已签 Done", "int"),
    ("misses", "漏签 Missed", "int"), ("on_time_rate", "按时率 On-time", "pct"),
    ("remote_expected", "远程应签", "int"), ("remote_done", "远程已签", "int"),
    ("station_expected", "报到应签", "int"), ("station_done", "报到已签", "int"),
    ("spot_requested", "点验 Spot checks", "int"), ("spot_answered", "点验通过 Answered", "int"),
    ("alerts", "预警 Alerts", "int"), ("zone_breaches", "越界 Zone breaches", "int"),
    ("unresolved_alerts", "未处理 Unresolved", "int"), ("location_coverage", "定位覆盖 Coverage", "pct"),
    ("points_earned", "得分 Points earned", "int"), ("points_spent", "消费 Points spent", "int"),
    ("status_colour", "矫正码 Status", "text"), ("last_fix_at", "最后定位 Last fix (UTC)", "text"),
]

# Text starting with one of these is run as a formula by spreadsheet programs (OWASP, "CSV
# Injection"); the full-width forms are what Chinese input methods type, and some programs accept them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def inert(value: Any) -> Any:
    """Return text a spreadsheet would run as a formula with a leading ``'``; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(report: dict[str, Any]) -> bytes:
    """One row per supervisee with a header; UTF-8 with a BOM so spreadsheet apps read the Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["week", *[header for _, header, _ in COLUMNS]])
    for row in report["supervisees"]:
        cells = ["" if row[key] is None else row[key] for key, _, _ in COLUMNS]
        writer.writerow([inert(cell) for cell in (report["week"], *cells)])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(report: dict[str, Any]) -> bytes:
    """A workbook: summary, per-supervisee table (typed columns), alerts by type, daily series."""
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append([report["title"]])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(["Week", report["week"], report["from"], report["to"]])
    summary.append(["Provisional", report["provisional"]])
    totals = report["totals"]
    for key in sorted(totals, key=lambda k: TOTALS_ORDER.index(k) if k in TOTALS_ORDER else len(TOTALS_ORDER)):
        value = totals[key]
        summary.append([key, value])
        if key in ("on_time_rate", "location_coverage") and value is not None:
            summary.cell(row=summary.max_row, column=2).number_format = "0.0%"

    table = book.create_sheet("Supervisees")
    table.append([header for _, header, _ in COLUMNS])
    for cell in table[1]:
        cell.font = Font(bold=True)
    for row in report["supervisees"]:
        table.append([row[key] for key, _, _ in COLUMNS])
        for index, (_, _, kind) in enumerate(COLUMNS, start=1):
            if kind == "pct":
                table.cell(row=table.max_row, column=index).number_format = "0.0%"
    table.freeze_panes = "C2"

    alerts = book.create_sheet("Alerts")
    alerts.append(["type", "count", "acknowledged", "median_ack_seconds", "worst_ack_seconds"])
    for item in report["alerts_by_type"]:
        alerts.append([item["type"], item["count"], item["acknowledged"], item["median_ack_seconds"],
                       item["worst_ack_seconds"]])

    daily = book.create_sheet("Daily")
    daily.append(["date", "done", "missed", "rate"])
    for item in report["daily"]:
        daily.append([item["date"], item["done"], item["missed"], item["rate"]])
        daily.cell(row=daily.max_row, column=4).number_format = "0.0%"
    _text_stays_text(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_stays_text(book: Workbook) -> None:
    """Store every text cell that looks like a formula as a string, shown exactly as it was written.

    openpyxl writes any string starting with ``=`` as a formula. A string cell with the quote
    prefix style is what Excel makes of a typed ``'=...``: text, also after the cell is edited.
    """
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"
                    cell.quotePrefix = True
