"""Reading an uploaded spreadsheet (XLSX, or CSV in UTF-8 or GB18030) into numbered rows of cells."""
from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from ..errors import DomainError, ValidationFailed

MAX_COLUMNS = 200  # a provincial export has a few dozen; anything wider is not one
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary Excel (and Word) format
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


class UnsupportedFileType(DomainError):
    status, code = 415, "unsupported_file_type"
    message = "Send the spreadsheet as XLSX or CSV (UTF-8 or GB18030)."


@dataclass
class Table:
    """The rows of a spreadsheet's first sheet, each with its number as the spreadsheet shows it."""

    kind: str  # "xlsx" or "csv"
    rows: list[tuple[int, list[Any]]]  # (row number, cells); blank rows left out
    too_many: bool  # more rows than the limit: reading stopped there


def read_table(data: bytes, max_rows: int, max_unpacked: int) -> Table:
    """Read ``data`` as XLSX or CSV, whichever it is; keep at most ``max_rows`` + a few header rows.

    An XLSX is a zip archive: one that would unpack to more than ``max_unpacked`` bytes is refused
    before anything is inflated.
    """
    if not data.strip():
        raise ValidationFailed("The file is empty.", code="empty_file")
    limit = max_rows + 10  # room for a title and the header above the data
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, limit, max_unpacked)
    if data.startswith(_XLS_MAGIC):
        raise UnsupportedFileType("Old .xls workbooks are not read; save the sheet as .xlsx or CSV.")
    return _read_csv(_decode(data), limit)


def _read_xlsx(data: bytes, limit: int, max_unpacked: int) -> Table:
    from openpyxl import load_workbook  # defusedxml, when installed, guards its XML parsing

    try:
        # zipfile never inflates a member past its declared size, so the declared sizes bound the work
        unpacked = sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except zipfile.BadZipFile:
        raise ValidationFailed("The XLSX file is damaged and cannot be read.", code="unreadable_file") from None
    if unpacked > max_unpacked:
        raise DomainError(f"The workbook unpacks to more than the {max_unpacked} bytes an import reads.",
                          status=413, code="file_too_large", details={"max_unpacked_bytes": max_unpacked})
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise ValidationFailed("The XLSX file is damaged and cannot be read.", code="unreadable_file") from None
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException...) for a bad workbook
        raise UnsupportedFileType("The file is a zip archive but not an XLSX workbook.") from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[Any]]] = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1):
            if len(rows) >= limit:
                return Table("xlsx", rows, too_many=True)
            values = list(cells)
            if any(_filled(v) for v in values):
                rows.append((number, values))
        return Table("xlsx", rows, too_many=False)
    except Exception:  # a sheet that breaks half-way (bad XML, a malformed cell) is unreadable, not a 500
        raise ValidationFailed("The XLSX file could not be read to the end.", code="unreadable_file") from None
    finally:
        workbook.close()


def _decode(data: bytes) -> str:
    """Return the text of a CSV: a BOM says its encoding; else UTF-8 if it is valid, else GB18030."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise ValidationFailed(f"The file starts as {encoding} but is not valid {encoding}.",
                                       code="unreadable_file") from None
    if b"\x00" in data:
        raise UnsupportedFileType()
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("The CSV is neither UTF-8 nor GB18030 text.", code="unreadable_file")


def _read_csv(text: str, limit: int) -> Table:
    if "\x00" in text:
        raise UnsupportedFileType()
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count)  # Excel writes "," or, as "Unicode text", a tab
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            if len(rows) >= limit:
                return Table("csv", rows, too_many=True)
            if any(_filled(v) for v in cells):
                rows.append((number, cells[:MAX_COLUMNS]))
    except csv.Error:
        raise ValidationFailed("The CSV could not be parsed (an unclosed quote?).", code="unreadable_file") from None
    return Table("csv", rows, too_many=False)


def _filled(value: Any) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")
