"""The import template: the headers, an example row (never enrolled) and the allowed values."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from .columns import COLUMNS, EXAMPLE_MARK, LEVELS, SENTENCE_TYPES

# The example's ID number is the standard's own example (GB 11643-1999), not a person's.
EXAMPLE = {"name": f"{EXAMPLE_MARK}张三", "national_id": "11010519491231002X", "phone": "13800000000",
           "sentence_type": "缓刑", "supervision_start": "2026-11-01", "supervision_end": "2027-10-31",
           "level": "普管", "officer": ""}


def template_xlsx() -> bytes:
    """Return the XLSX template: a sheet to fill (text columns, drop-down lists) and a sheet of notes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "矫正对象"
    sheet.append([c.header for c in COLUMNS])
    sheet.append([EXAMPLE[c.field] for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = 20
        if column.field in ("national_id", "phone"):
            # as text: Excel would keep an 18-digit number to 15 significant digits
            sheet.column_dimensions[letter].number_format = "@"
        choices = {"sentence_type": SENTENCE_TYPES, "level": LEVELS}.get(column.field)
        if choices:
            validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}20002")
    notes = workbook.create_sheet("填写说明")
    notes.append(["列", "必填", "填写说明"])
    for column in COLUMNS:
        notes.append([column.header, "是" if column.required else "否", column.help])
    notes.append([])
    notes.append([f"姓名以“{EXAMPLE_MARK}”开头的行是示例，导入时跳过。"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv() -> bytes:
    """Return the CSV template in UTF-8 with a BOM (so Excel opens it as UTF-8): headers, example, notes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    writer.writerow([EXAMPLE[c.field] for c in COLUMNS])
    notes = {c.field: c.help for c in COLUMNS}
    notes["name"] = f"{EXAMPLE_MARK}（填写说明：本行与上一行导入时跳过）"
    writer.writerow([notes[c.field] for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
