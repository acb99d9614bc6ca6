"""Bulk enrolment (批量导入) of supervisees from the provincial spreadsheet: check every row, then all or nothing.

A row is *created* (a new supervisee), *unchanged* (the same person is already enrolled in this
office with the same details: re-running a file after fixing some rows is safe) or *refused* with
its problems. A real run writes only when no row is refused. The checks against the database are
set-based: one query for the ID numbers, one for the phones, one for the office's officers, and one
bulk INSERT, so ten thousand rows cost a handful of round trips.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ..errors import Conflict, NotFound, ValidationFailed
from ..people.access import Principal
from ..people.models import Office, Officer, Supervisee
from ..people.service import office_for_write
from ..security import UNUSABLE_PASSWORD, hash_national_id
from . import columns
from .columns import BY_FIELD, COLUMNS, EXAMPLE_MARK, CellError
from .reading import read_table

_CHUNK = 5000  # values per IN (...) on SQLite: well under its limit on bound parameters
_COMPARED = ("name", "phone", "sentence_type", "supervision_start", "supervision_end", "level", "officer_id")


@dataclass
class Problem:
    """What is wrong with one cell of one row."""

    row: int  # as the spreadsheet shows it
    column: str  # the header as written in the file
    code: str
    message: str


@dataclass
class _Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    id_hash: str | None = None


@dataclass
class ImportReport:
    """What an import found (dry run) or did (real run)."""

    office_id: int
    sha256: str
    file_type: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    refused: int = 0
    problems: list[Problem] = field(default_factory=list)  # the first IMPORT_MAX_PROBLEMS_LISTED
    problems_total: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def problems_truncated(self) -> bool:
        return self.problems_total > len(self.problems)

    def audit_details(self) -> dict[str, Any]:
        """What the audit trail keeps of an import: the file's digest and the counts, never a person."""
        return {"office_id": self.office_id, "sha256": self.sha256, "file_type": self.file_type,
                "dry_run": self.dry_run, "rows": self.rows, "created": self.created,
                "unchanged": self.unchanged, "refused": self.refused, "written": self.written}


class ImportRefused(ValidationFailed):
    """A real run with refused rows: nothing was written; the details are the report."""

    code = "import_refused"


def import_supervisees(session, settings, principal: Principal, *, office_id: int | None, data: bytes,
                       dry_run: bool, now: datetime) -> ImportReport:
    """Check every row of the spreadsheet ``data``; unless ``dry_run``, enrol them all (or none).

    Returns the report; the caller refuses a real run whose report has refused rows (its unit of
    work rolls back, though nothing was written anyway).
    """
    office_id = import_office(session, principal, office_id)
    table = read_table(data, settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_UNPACKED_BYTES)
    header_at, found, ignored = _find_header(table.rows)
    data_rows = [(n, cells) for n, cells in table.rows[header_at + 1:] if not _is_example(cells, found)]
    if table.too_many or len(data_rows) > settings.IMPORT_MAX_ROWS:
        raise ValidationFailed(f"An import holds at most {settings.IMPORT_MAX_ROWS} rows; split the file.",
                               code="too_many_rows", details={"max_rows": settings.IMPORT_MAX_ROWS})
    report = ImportReport(office_id=office_id, sha256=hashlib.sha256(data).hexdigest(), file_type=table.kind,
                          dry_run=dry_run, rows=len(data_rows), ignored_columns=ignored)
    officers = _officers_of(session, office_id)
    default_officer = principal.id if principal.role == "officer" else None
    rows = [_read_row(n, cells, found, officers, default_officer, settings.SECRET_KEY) for n, cells in data_rows]
    _refuse_duplicates_in_file(rows, found)
    to_create = _check_against_enrolled(session, rows, found, office_id, report)
    problems = [p for row in rows for p in row.problems]
    report.refused = sum(1 for row in rows if row.problems)
    report.created = len(to_create)
    report.problems_total = len(problems)
    report.problems = problems[:settings.IMPORT_MAX_PROBLEMS_LISTED]
    if not dry_run and not report.refused and to_create:
        _insert(session, office_id, to_create, now)
        report.written = True
    return report


def import_office(session, principal: Principal, office_id: int | None) -> int:
    """Return the office an import goes to; an office outside a supervisor's bureau is not found (404)."""
    if principal.bureau_wide and office_id is not None:
        found = session.execute(sa.select(Office.id).where(
            Office.id == office_id, Office.bureau_id == principal.bureau_id)).scalar_one_or_none()
        if found is None:
            raise NotFound("No such office.", code="office_not_found")
    return office_for_write(session, principal, office_id)


def _find_header(rows: list[tuple[int, list[Any]]]) -> tuple[int, dict[str, tuple[int, str]], list[str]]:
    """Return the header row's position, its columns and the headers not read.

    The header is the first of the first ten rows naming the ID number column: exports often put
    a title above it.
    """
    for position, (_number, cells) in enumerate(rows[:10]):
        found, ignored, twice = columns.map_headers(cells)
        if "national_id" not in found:
            continue
        if twice:
            raise ValidationFailed("A column appears twice in the header.", code="duplicate_columns",
                                   details={"columns": twice})
        missing = [c.header for c in COLUMNS if c.required and c.field not in found]
        if missing:
            raise ValidationFailed("The header lacks required columns.", code="missing_columns",
                                   details={"columns": missing})
        return position, found, ignored
    raise ValidationFailed("No header row with the column 身份证号 (national_id) in the first rows.",
                           code="missing_columns", details={"columns": [c.header for c in COLUMNS if c.required]})


def _is_example(cells: list[Any], found: dict[str, tuple[int, str]]) -> bool:
    index = found["name"][0]
    return index < len(cells) and columns.text(cells[index]).startswith(EXAMPLE_MARK)


def _officers_of(session, office_id: int) -> dict[str, list[int]]:
    """Return the office's active officers by username and by name (a name may be shared)."""
    by_key: dict[str, list[int]] = {}
    for officer_id, username, name in session.execute(sa.select(Officer.id, Officer.username, Officer.name).where(
            Officer.office_id == office_id, Officer.active)):
        by_key.setdefault(username, []).append(officer_id)
        if name != username:
            by_key.setdefault(name, []).append(officer_id)
    return by_key


def _read_row(number: int, cells: list[Any], found: dict[str, tuple[int, str]], officers: dict[str, list[int]],
              default_officer: int | None, secret_key: str) -> _Row:
    row = _Row(number)
    readers = {"name": columns.name, "national_id": columns.national_id, "phone": columns.phone,
               "sentence_type": lambda v: columns.choice(v, columns.SENTENCE_TYPES),
               "supervision_start": columns.day, "supervision_end": columns.day,
               "level": lambda v: columns.choice(v, columns.LEVELS)}
    for name, read in readers.items():
        index, header = found[name]
        value = cells[index] if index < len(cells) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            row.problems.append(Problem(number, header, "required", "This cell must be filled."))
            continue
        try:
            row.values[name] = read(value)
        except CellError as error:
            row.problems.append(Problem(number, header, error.code, str(error)))
    start, end = row.values.get("supervision_start"), row.values.get("supervision_end")
    if start is not None and end is not None and end < start:
        row.problems.append(Problem(number, found["supervision_end"][1], "dates_out_of_order",
                                    "The end date is before the start date."))
    _read_officer(row, cells, found, officers, default_officer)
    if "national_id" in row.values:
        row.id_hash = hash_national_id(secret_key, row.values["national_id"])
    return row


def _read_officer(row: _Row, cells: list[Any], found, officers: dict[str, list[int]],
                  default_officer: int | None) -> None:
    header = found["officer"][1] if "officer" in found else BY_FIELD["officer"].header
    index = found["officer"][0] if "officer" in found else None
    wanted = columns.text(cells[index]) if index is not None and index < len(cells) else ""
    if not wanted:
        if default_officer is None:
            row.problems.append(Problem(row.number, header, "required", "Name the responsible officer."))
        else:
            row.values["officer_id"] = default_officer
        return
    matches = officers.get(wanted, [])
    if len(matches) == 1:
        row.values["officer_id"] = matches[0]
    elif matches:
        row.problems.append(Problem(row.number, header, "ambiguous_officer",
                                    "Several officers of the office have this name; give the username."))
    else:
        row.problems.append(Problem(row.number, header, "unknown_officer",
                                    "No active officer of the office has this username or name."))


def _refuse_duplicates_in_file(rows: list[_Row], found) -> None:
    first_of_id: dict[str, int] = {}
    first_of_phone: dict[str, int] = {}
    for row in rows:
        if row.id_hash is not None:
            first = first_of_id.setdefault(row.id_hash, row.number)
            if first != row.number:
                row.problems.append(Problem(row.number, found["national_id"][1], "duplicate_in_file",
                                            f"The same ID number is in row {first}."))
        phone = row.values.get("phone")
        if phone is not None:
            first = first_of_phone.setdefault(phone, row.number)
            if first != row.number:
                row.problems.append(Problem(row.number, found["phone"][1], "duplicate_in_file",
                                            f"The same phone number is in row {first}."))


def _check_against_enrolled(session, rows: list[_Row], found, office_id: int, report: ImportReport) -> list[_Row]:
    """Sort the rows into unchanged, refused (already enrolled, phone taken) and to create; return the last."""
    hashes = [row.id_hash for row in rows if row.id_hash is not None]
    enrolled = {person.national_id_hash: person for condition in _one_of(session, Supervisee.national_id_hash, hashes)
                for person in session.execute(sa.select(
                    Supervisee.national_id_hash, Supervisee.office_id, Supervisee.status,
                    *(getattr(Supervisee, c) for c in _COMPARED)).where(condition))}
    phones = [row.values["phone"] for row in rows if "phone" in row.values]
    phone_holders = {phone: id_hash for condition in _one_of(session, Supervisee.phone, phones)
                     for phone, id_hash in session.execute(
                         sa.select(Supervisee.phone, Supervisee.national_id_hash).where(condition))}
    to_create = []
    for row in rows:
        holder = phone_holders.get(row.values.get("phone"))
        if holder is not None and holder != row.id_hash:
            row.problems.append(Problem(row.number, found["phone"][1], "phone_taken",
                                        "Another supervisee already uses this phone number."))
        person = enrolled.get(row.id_hash)
        if person is None:
            if not row.problems:
                to_create.append(row)
        elif person.office_id != office_id:
            row.problems.append(Problem(row.number, found["national_id"][1], "already_enrolled",
                                        "Already enrolled in another office."))
        elif row.problems:
            continue  # its own problems say what to fix first
        elif person.status == "active" and all(getattr(person, c) == row.values[c] for c in _COMPARED):
            report.unchanged += 1
        else:
            row.problems.append(Problem(row.number, found["national_id"][1], "already_enrolled",
                                        "Already enrolled in this office with other details; change them there."))
    return to_create


def _one_of(session, column, values: list) -> list[sa.ColumnElement[bool]]:
    """Return conditions that together say ``column`` is one of ``values``.

    PostgreSQL takes them as one array parameter (`= ANY`); SQLite as IN lists of bounded size.
    """
    distinct = sorted(set(values))
    if session.get_bind().dialect.name == "postgresql":
        return [column == sa.any_(sa.bindparam("values", distinct, type_=postgresql.ARRAY(column.type)))]
    return [column.in_(distinct[start:start + _CHUNK]) for start in range(0, len(distinct), _CHUNK)]


def _insert(session, office_id: int, rows: list[_Row], now: datetime) -> None:
    """Enrol ``rows`` in one bulk INSERT; a racing import or enrolment of the same people is a clean 409."""
    values = [dict(office_id=office_id, officer_id=row.values["officer_id"], name=row.values["name"],
                   phone=row.values["phone"], password_hash=UNUSABLE_PASSWORD, national_id_hash=row.id_hash,
                   national_id_last4=row.values["national_id"][-4:], sentence_type=row.values["sentence_type"],
                   supervision_start=row.values["supervision_start"], supervision_end=row.values["supervision_end"],
                   level=row.values["level"], status="active", failed_logins=0,
                   password_change_required=True, created_at=now, updated_at=now)
              for row in rows]
    try:
        session.execute(sa.insert(Supervisee.__table__), values)
    except sa.exc.IntegrityError:
        raise Conflict("Another import or enrolment took some of these people or phone numbers meanwhile; "
                       "run the import again (rows enrolled since count as unchanged).",
                       code="import_conflict") from None

