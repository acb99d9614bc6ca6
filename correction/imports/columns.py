"""The provincial spreadsheet's columns: their headers (Chinese, or our English field names) and cells."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..schemas import Text
from ..security import national_id_check_char, normalise_national_id


@dataclass(frozen=True)
class Column:
    """One column the import reads: the field it fills, its header in the template, what else it may be called."""

    field: str
    header: str
    aliases: tuple[str, ...]
    required: bool
    help: str  # what the template says goes in it


SENTENCE_TYPES = {"管制": "control", "缓刑": "probation", "假释": "parole", "暂予监外执行": "medical_parole"}
LEVELS = {"严管": "strict", "普管": "normal", "宽管": "lenient"}

COLUMNS = (
    Column("name", "姓名", ("name",), True, "矫正对象姓名"),
    Column("national_id", "身份证号", ("national_id", "身份证号码", "公民身份号码", "证件号码"), True,
           "18 位（或旧 15 位）居民身份证号码，请把单元格设为文本"),
    Column("phone", "手机号", ("phone", "手机号码", "联系电话"), True, "登录用的手机号，不可与他人重复"),
    Column("sentence_type", "矫正类别", ("sentence_type", "矫正类型"), True, "/".join(SENTENCE_TYPES)),
    Column("supervision_start", "矫正开始日期", ("supervision_start", "矫正起始日期", "矫正起日"), True,
           "日期，如 2026-11-01"),
    Column("supervision_end", "矫正结束日期", ("supervision_end", "矫正终止日期", "矫正止日"), True,
           "日期，不早于开始日期"),
    Column("level", "管理等级", ("level", "监管等级"), True, "/".join(LEVELS)),
    Column("officer", "责任人", ("officer", "responsible_officer", "矫正责任人"), False,
           "责任人的用户名或姓名（司法所在册工作人员）；空着则为导入人"),
)
BY_FIELD = {c.field: c for c in COLUMNS}
EXAMPLE_MARK = "示例"  # a row whose name starts with this is the template's example: never enrolled


def header_key(text: Any) -> str:
    """Return a header as compared: NFKC, no spaces, lower case, without a required-mark ``*``."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).strip("*").lower()


_HEADERS = {header_key(name): c.field for c in COLUMNS for name in (c.header, *c.aliases)}


def map_headers(cells: list[Any]) -> tuple[dict[str, tuple[int, str]], list[str], list[str]]:
    """Return {field: (index, header as written)}, the headers not read, and the fields named twice."""
    found: dict[str, tuple[int, str]] = {}
    ignored, twice = [], []
    for index, cell in enumerate(cells):
        written = str(cell).strip() if cell is not None else ""
        field = _HEADERS.get(header_key(cell))
        if field is None:
            if written:
                ignored.append(written)
        elif field in found:
            twice.append(written)
        else:
            found[field] = (index, written)
    return found, ignored, twice


class CellError(ValueError):
    """A cell that cannot be read: its code and a reason that never repeats the value."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def text(value: Any) -> str:
    """Return a cell as text: numbers as their digits (Excel keeps phone numbers as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


_NAME = TypeAdapter(Text(100))


def name(value: Any) -> str:
    """Return a name as enrolment takes it: trimmed, at most 100 characters, no control characters."""
    try:
        return _NAME.validate_python(text(value))
    except ValidationError:
        raise CellError("invalid_name", "A name has 1 to 100 characters and no control characters.") from None


def national_id(value: Any) -> str:
    """Return an ID number in its canonical 18-character form; a 15-digit one is converted (GB 11643)."""
    raw = unicodedata.normalize("NFKC", text(value)).replace(" ", "").upper()
    if isinstance(value, float) or (isinstance(value, int) and len(raw) > 15) \
            or re.fullmatch(r"[0-9](\.[0-9]+)?E\+?[0-9]+", raw):  # a CSV saved from Excel: 3.30702E+17
        # Excel keeps 15 significant digits: an 18-digit number stored as a number lost its tail
        raise CellError("invalid_national_id", "Stored as a number, the ID lost digits; make the column text.")
    if re.fullmatch(r"[0-9]{15}", raw):
        first17 = raw[:6] + "19" + raw[6:]  # first-generation numbers: born 19xx, no check character
        raw = first17 + national_id_check_char(first17)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", raw):
        raise CellError("invalid_national_id", "An ID number has 18 characters: 17 digits and a digit or X.")
    try:
        return normalise_national_id(raw)
    except ValueError:
        raise CellError("invalid_checksum", "The check character does not match the ID number.") from None


def phone(value: Any) -> str:
    """Return a phone number without the spaces and dashes people type into it."""
    raw = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text(value)))
    if not re.fullmatch(r"\+?[0-9]{6,20}", raw):
        raise CellError("invalid_phone", "A phone number is 6 to 20 digits, optionally after +.")
    return raw


def choice(value: Any, names: dict[str, str]) -> str:
    """Return the stored value of a Chinese (or English) name from ``names``."""
    raw = unicodedata.normalize("NFKC", text(value)).strip()
    if raw in names:
        return names[raw]
    if raw.lower() in names.values():
        return raw.lower()
    raise CellError("unknown_value", "Use one of: " + ", ".join(names) + ".")


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?")


def day(value: Any) -> date:
    """Return a date cell: a spreadsheet date, or text like 2026-11-01, 2026/11/1, 2026年11月1日, 20261101."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = unicodedata.normalize("NFKC", text(value))
    match = _DATE.fullmatch(raw) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", raw)
    if match is None:
        raise CellError("invalid_date", "Write the date as 2026-11-01 (or use a date cell).")
    try:
        found = date(*(int(part) for part in match.groups()))
    except ValueError:
        raise CellError("invalid_date", "No such day.") from None
    if not 1900 <= found.year <= 2999:
        raise CellError("invalid_date", "The year is out of range.")
    return found
