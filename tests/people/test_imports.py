"""Bulk enrolment from the provincial spreadsheet: POST /supervisees/imports and its template."""
from __future__ import annotations

import csv
import hashlib
import io
import threading
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from correction.audit.models import AuditEntry
from correction.database import db
from correction.imports import service
from correction.people.models import Officer, Supervisee
from correction.security import UNUSABLE_PASSWORD, national_id_check_char
from tests.assertions import count, error_of, rows
from tests.factories import API, valid_national_id

IMPORTS = f"{API}/supervisees/imports"
HEADERS = ["姓名", "身份证号", "手机号", "矫正类别", "矫正开始日期", "矫正结束日期", "管理等级", "责任人"]


def person_row(n: int, **overrides) -> dict:
    """One good row of the provincial export (by header), for the ``n``-th person of a test."""
    row = {"姓名": f"王{n}", "身份证号": valid_national_id(5000 + n), "手机号": f"1390000{n:04d}",
           "矫正类别": "缓刑", "矫正开始日期": "2026-11-01", "矫正结束日期": "2027-10-31", "管理等级": "普管",
           "责任人": ""}
    row.update(overrides)
    return row


def xlsx(rows_: list[dict], headers=HEADERS, title: str | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for row in rows_:
        sheet.append([row.get(h) for h in headers])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows_: list[dict], encoding: str = "utf-8", headers=HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows_:
        writer.writerow([row.get(h, "") for h in headers])
    return out.getvalue().encode(encoding)


def upload(client, headers, data: bytes, *, dry_run: bool = True, office_id: int | None = None,
           filename: str = "export.xlsx"):
    query = f"?dry_run={'true' if dry_run else 'false'}" + (f"&office_id={office_id}" if office_id else "")
    # encoded here, in memory: the test client would spool a large body to a file it never closes
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename)})
    return client.post(IMPORTS + query, headers=headers, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def org(make):
    return make.org(logins=True)


def problems_by_row(body: dict) -> dict[int, set[tuple[str, str]]]:
    found: dict[int, set[tuple[str, str]]] = {}
    for problem in body["problems"]:
        found.setdefault(problem["row"], set()).add((problem["column"], problem["code"]))
    return found


def test_a_good_xlsx_enrols_every_row_with_no_usable_password(app, client, org):
    people = [person_row(1), person_row(2, 矫正类别="假释", 管理等级="严管", 责任人=org.officer.officer.username),
              person_row(3, 矫正类别="暂予监外执行", 管理等级="宽管", 责任人=org.officer.officer.name,
                         矫正开始日期=datetime(2026, 10, 1), 矫正结束日期=date(2027, 3, 31))]

    response = upload(client, org.headers, xlsx(people), dry_run=False)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["rows"], body["created"], body["unchanged"], body["refused"], body["written"]) == (3, 3, 0, 0, True)
    assert body["file_type"] == "xlsx" and body["problems"] == []
    created = rows(app, Supervisee, Supervisee.phone.in_(["13900000001", "13900000002", "13900000003"]))
    assert [(p.name, p.sentence_type, p.level, p.office_id, p.officer_id) for p in created] == [
        ("王1", "probation", "normal", org.office.id, org.officer.officer.id),
        ("王2", "parole", "strict", org.office.id, org.officer.officer.id),
        ("王3", "medical_parole", "lenient", org.office.id, org.officer.officer.id)]
    assert created[2].supervision_start == date(2026, 10, 1) and created[2].supervision_end == date(2027, 3, 31)
    assert all(p.password_hash == UNUSABLE_PASSWORD and p.password_change_required for p in created)
    assert created[0].national_id_last4 == people[0]["身份证号"][-4:]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_good_csv_enrols_in_utf8_with_or_without_bom_and_in_gb18030(app, client, org, encoding):
    data = csv_bytes([person_row(1, 姓名="欧阳娜娜"), person_row(2, 姓名="李䶮")], encoding=encoding)

    response = upload(client, org.headers, data, dry_run=False, filename="export.csv")

    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["created"], response.get_json()["file_type"]) == (2, "csv")
    assert sorted(p.name for p in rows(app, Supervisee, Supervisee.phone.like("1390000%"))) == ["李䶮", "欧阳娜娜"]


def test_english_field_names_and_values_are_read_too(app, client, org):
    headers = ["name", "national_id", "phone", "sentence_type", "supervision_start", "supervision_end", "level"]
    row = {"name": "Zhang", "national_id": valid_national_id(6001), "phone": "13900006001",
           "sentence_type": "control", "supervision_start": "2026/11/1", "supervision_end": "2027年1月31日",
           "level": "strict"}

    response = upload(client, org.headers, xlsx([row], headers=headers), dry_run=False)

    assert response.status_code == 200, response.get_json()
    [person] = rows(app, Supervisee, Supervisee.phone == "13900006001")
    assert (person.sentence_type, person.level, person.supervision_end) == ("control", "strict", date(2027, 1, 31))


def test_a_title_row_above_the_header_and_extra_columns_are_fine(client, org):
    headers = ["序号", *HEADERS, "户籍地"]
    data = xlsx([{**person_row(1), "序号": 1, "户籍地": "金华"}], headers=headers, title="社区矫正对象名单")

    body = upload(client, org.headers, data).get_json()

    assert (body["rows"], body["created"], body["ignored_columns"]) == (1, 1, ["序号", "户籍地"])


def test_a_dry_run_reports_and_writes_nothing(app, client, org):
    before = count(app, Supervisee)

    response = upload(client, org.headers, xlsx([person_row(1), person_row(2)]))

    assert response.status_code == 200
    body = response.get_json()
    assert (body["dry_run"], body["written"], body["created"], body["refused"]) == (True, False, 2, 0)
    assert count(app, Supervisee) == before


def test_each_kind_of_bad_row_is_reported_with_its_row_column_and_code(app, make, client, org):
    taken = make.supervisee(org.office, org.officer.officer, phone="13911110000")
    foreign_id = valid_national_id(7777)
    make.supervisee(org.foreign_office, org.foreign_officer.officer, national_id=foreign_id)
    good_id = valid_national_id(5001)
    bad_check = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    people = [
        person_row(1),                                                   # row 2: fine
        person_row(2, 身份证号=bad_check),                                # row 3
        person_row(3, 身份证号=good_id),                                  # row 4: same ID as row 2
        person_row(4, 身份证号=foreign_id),                               # row 5: enrolled elsewhere
        person_row(5, 手机号=taken.supervisee.phone),                     # row 6
        person_row(6, 矫正类别="监禁", 管理等级="特管"),                   # row 7
        person_row(7, 矫正开始日期="2027-01-01", 矫正结束日期="2026-01-01"),  # row 8
        person_row(8, 矫正开始日期="明年"),                                 # row 9
        person_row(9, 姓名=""),                                           # row 10
        person_row(10, 责任人="nobody"),                                  # row 11
        person_row(11, 责任人=org.sister_officer.officer.username),       # row 12: another office's officer
        person_row(12),                                                  # row 13: same phone as row 2 (below)
        person_row(13, 身份证号="3307021980"),                            # row 14
    ]
    people[11]["手机号"] = people[0]["手机号"]

    response = upload(client, org.headers, xlsx(people))

    assert response.status_code == 200
    body = response.get_json()
    assert (body["rows"], body["created"], body["refused"]) == (13, 1, 12)
    assert problems_by_row(body) == {
        3: {("身份证号", "invalid_checksum")},
        4: {("身份证号", "duplicate_in_file")},
        5: {("身份证号", "already_enrolled")},
        6: {("手机号", "phone_taken")},
        7: {("矫正类别", "unknown_value"), ("管理等级", "unknown_value")},
        8: {("矫正结束日期", "dates_out_of_order")},
        9: {("矫正开始日期", "invalid_date")},
        10: {("姓名", "required")},
        11: {("责任人", "unknown_officer")},
        12: {("责任人", "unknown_officer")},
        13: {("手机号", "duplicate_in_file")},
        14: {("身份证号", "invalid_national_id")},
    }
    assert body["problems_total"] == 13 and not body["problems_truncated"]
    assert all(p["message"] and foreign_id not in p["message"] for p in body["problems"])


def test_one_bad_row_makes_the_real_run_write_nothing(app, client, org):
    before = count(app, Supervisee)
    people = [person_row(i) for i in range(1, 6)] + [person_row(6, 管理等级="重管")]

    response = upload(client, org.headers, xlsx(people), dry_run=False)

    error = error_of(response, 422)
    assert error["code"] == "import_refused"
    assert (error["details"]["created"], error["details"]["refused"], error["details"]["written"]) == (5, 1, False)
    assert error["details"]["problems"] == [{"row": 7, "column": "管理等级", "code": "unknown_value",
                                             "message": error["details"]["problems"][0]["message"]}]
    assert count(app, Supervisee) == before
    [entry] = rows(app, AuditEntry, AuditEntry.action == "supervisee.import")
    assert (entry.outcome, entry.details["refused"], entry.details["dry_run"]) == ("import_refused", 1, False)


def test_the_same_file_twice_enrols_nobody_twice(app, client, org):
    data = xlsx([person_row(1), person_row(2)])
    assert upload(client, org.headers, data, dry_run=False).get_json()["created"] == 2

    again = upload(client, org.headers, data, dry_run=False)

    assert again.status_code == 200
    assert (again.get_json()["created"], again.get_json()["unchanged"], again.get_json()["refused"]) == (0, 2, 0)
    assert count(app, Supervisee, Supervisee.phone.in_(["13900000001", "13900000002"])) == 2


def test_a_file_fixed_and_rerun_enrols_only_the_new_rows(app, client, org):
    assert upload(client, org.headers, xlsx([person_row(1)]), dry_run=False).get_json()["created"] == 1

    body = upload(client, org.headers, xlsx([person_row(1), person_row(2)]), dry_run=False).get_json()

    assert (body["created"], body["unchanged"]) == (1, 1)


def test_a_row_enrolled_here_with_other_details_is_refused_not_overwritten(app, client, org):
    assert upload(client, org.headers, xlsx([person_row(1)]), dry_run=False).status_code == 200

    body = upload(client, org.headers, xlsx([person_row(1, 管理等级="严管")])).get_json()

    assert problems_by_row(body) == {2: {("身份证号", "already_enrolled")}}
    [person] = rows(app, Supervisee, Supervisee.phone == "13900000001")
    assert person.level == "normal"


def test_the_audit_entry_has_the_digest_and_counts_never_a_person(app, client, org):
    people = [person_row(1), person_row(2)]
    data = xlsx(people)

    upload(client, org.headers, data, dry_run=False)

    [entry] = rows(app, AuditEntry, AuditEntry.action == "supervisee.import")
    assert entry.details == {"office_id": org.office.id, "sha256": hashlib.sha256(data).hexdigest(),
                             "file_type": "xlsx", "dry_run": False, "rows": 2, "created": 2, "unchanged": 0,
                             "refused": 0, "written": True}
    assert (entry.target_type, entry.target_id, entry.outcome) == ("office", org.office.id, "ok")


# --- scope --------------------------------------------------------------------------------------------

def test_an_officer_cannot_import_into_another_office(app, client, org):
    response = upload(client, org.headers, xlsx([person_row(1)]), dry_run=False, office_id=org.sister_office.id)

    assert error_of(response, 422)["code"] == "validation_error"
    assert count(app, Supervisee, Supervisee.phone == "13900000001") == 0


def test_a_supervisor_imports_into_an_office_of_their_bureau(app, client, org):
    data = xlsx([person_row(1, 责任人=org.sister_officer.officer.username)])

    response = upload(client, org.supervisor_headers, data, dry_run=False, office_id=org.sister_office.id)

    assert response.status_code == 200, response.get_json()
    [person] = rows(app, Supervisee, Supervisee.phone == "13900000001")
    assert (person.office_id, person.officer_id) == (org.sister_office.id, org.sister_officer.officer.id)


def test_a_supervisor_must_name_the_office_and_each_responsible_officer(client, org):
    assert error_of(upload(client, org.supervisor_headers, xlsx([person_row(1)])), 422)["code"] == "validation_error"

    body = upload(client, org.supervisor_headers, xlsx([person_row(1)]), office_id=org.office.id).get_json()

    assert problems_by_row(body) == {2: {("责任人", "required")}}


def test_another_bureaus_office_is_not_found(client, org):
    response = upload(client, org.supervisor_headers, xlsx([person_row(1)]), office_id=org.foreign_office.id)

    assert error_of(response, 404)["code"] == "office_not_found"


def test_an_officer_of_another_office_cannot_be_named_responsible(client, org):
    data = xlsx([person_row(1, 责任人=org.foreign_officer.officer.username)])

    body = upload(client, org.headers, data).get_json()

    assert problems_by_row(body) == {2: {("责任人", "unknown_officer")}}


def test_supervisees_cannot_import(client, make, auth):
    scene = make.scene()

    assert error_of(upload(client, scene.phone, xlsx([person_row(1)])), 403)["code"] == "forbidden"


# --- files that are not a good spreadsheet -----------------------------------------------------------

def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return out.getvalue()


@pytest.mark.parametrize("data, status, code", [
    (b"", 422, "empty_file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 415, "unsupported_file_type"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, 415, "unsupported_file_type"),
    (b"PK\x03\x04" + b"\x00" * 100, 422, "unreadable_file"),
    (_zip_without_workbook(), 415, "unsupported_file_type"),
    (b"\xff\xfe\x00\xd8", 422, "unreadable_file"),
    ("姓名,手机号\n张三,13900000000\n".encode(), 422, "missing_columns"),
    ("身份证号,姓名\n1,2\n".encode(), 422, "missing_columns"),
    (b"\x81\x30\x81", 422, "unreadable_file"),
    (b"a,\"b\n" + b"x" * 200_000, 422, "unreadable_file"),
])
def test_a_file_that_is_not_a_readable_spreadsheet_is_refused_clearly(app, client, org, data, status, code):
    response = upload(client, org.headers, data, dry_run=False)

    assert error_of(response, status)["code"] == code
    [entry] = rows(app, AuditEntry, AuditEntry.action == "supervisee.import")
    assert (entry.outcome, entry.details) == (
        code, {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "dry_run": False})


def test_a_header_naming_a_column_twice_is_refused(client, org):
    data = csv_bytes([person_row(1)], headers=[*HEADERS, "身份证号码"])

    assert error_of(upload(client, org.headers, data), 422)["code"] == "duplicate_columns"


def test_a_json_body_or_a_missing_file_is_refused(client, org):
    assert error_of(client.post(IMPORTS, headers=org.headers, json={"rows": []}), 415)["code"] == "unsupported_media_type"
    response = client.post(IMPORTS, headers=org.headers, content_type="multipart/form-data", data={"other": "x"})
    assert error_of(response, 422)["code"] == "file_required"


@pytest.mark.parametrize("settings_overrides", [{"IMPORT_MAX_UPLOAD_BYTES": 4000, "IMPORT_MAX_ROWS": 3}])
def test_an_upload_or_a_file_past_the_limits_is_refused(app, client, org, settings_overrides):
    big = csv_bytes([person_row(i) for i in range(1, 80)])
    assert len(big) > 4000
    assert error_of(upload(client, org.headers, big), 413)["code"] == "file_too_large"

    four = upload(client, org.headers, csv_bytes([person_row(i) for i in range(1, 5)]), dry_run=False)

    error = error_of(four, 422)
    assert (error["code"], error["details"]["max_rows"]) == ("too_many_rows", 3)
    assert upload(client, org.headers, csv_bytes([person_row(i) for i in range(1, 4)])).get_json()["created"] == 3


def test_an_upload_larger_than_the_ordinary_body_limit_is_accepted_up_to_the_import_limit(client, org, app):
    people = [person_row(i) for i in range(1, 40)]
    data = csv_bytes(people)
    padding = "\n" * (app.config["MAX_CONTENT_LENGTH"] + 10 - len(data))

    response = upload(client, org.headers, data + padding.encode())

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["created"] == 39


@pytest.mark.parametrize("settings_overrides", [{"IMPORT_MAX_UNPACKED_BYTES": 1_000_000}])
def test_a_workbook_that_unpacks_too_far_is_refused_before_it_is_read(client, org, settings_overrides):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 2_000_000)  # a few KiB packed

    error = error_of(upload(client, org.headers, out.getvalue()), 413)

    assert (error["code"], error["details"]["max_unpacked_bytes"]) == ("file_too_large", 1_000_000)
    assert len(out.getvalue()) < 10_000


@pytest.mark.parametrize("settings_overrides", [{"IMPORT_MAX_PROBLEMS_LISTED": 2}])
def test_the_problem_list_is_capped_and_says_so(client, org, settings_overrides):
    body = upload(client, org.headers, xlsx([person_row(i, 管理等级="x") for i in range(1, 6)])).get_json()

    assert (len(body["problems"]), body["problems_total"], body["problems_truncated"]) == (2, 5, True)


@pytest.mark.parametrize("settings_overrides", [{"IMPORT_RATE_LIMIT": "2 per minute"}])
def test_imports_are_rate_limited(client, org, settings_overrides):
    for _ in range(2):
        assert upload(client, org.headers, xlsx([person_row(1)])).status_code == 200

    assert error_of(upload(client, org.headers, xlsx([person_row(1)])), 429)["code"] == "rate_limited"


def test_an_id_excel_turned_into_a_number_is_refused_not_guessed(client, org):
    in_xlsx = upload(client, org.headers, xlsx([person_row(1, 身份证号=330702198001011234)])).get_json()
    in_csv = upload(client, org.headers, csv_bytes([person_row(1, 身份证号="3.30702E+17")])).get_json()

    for body in (in_xlsx, in_csv):
        assert problems_by_row(body) == {2: {("身份证号", "invalid_national_id")}}
        assert "text" in body["problems"][0]["message"]


def test_a_name_shared_by_two_officers_of_the_office_must_be_a_username(app, make, client, org):
    twin = make.officer(org.office)
    with app.app_context():
        db.session.get(Officer, twin.officer.id).name = org.officer.officer.name
        db.session.commit()

    body = upload(client, org.headers, xlsx([person_row(1, 责任人=org.officer.officer.name),
                                             person_row(2, 责任人=twin.officer.username)])).get_json()

    assert problems_by_row(body) == {2: {("责任人", "ambiguous_officer")}}


def test_a_fifteen_digit_id_is_read_as_its_eighteen_digit_form(app, client, org, make):
    old = "330702800101123"  # born 1980-01-01
    new = "33070219800101123"
    make.supervisee(org.office, org.officer.officer, national_id=new + national_id_check_char(new))

    body = upload(client, org.headers, xlsx([person_row(1, 身份证号=old)])).get_json()

    assert problems_by_row(body) == {2: {("身份证号", "already_enrolled")}}


# --- the template -----------------------------------------------------------------------------------

def test_the_xlsx_template_downloads_and_reimports_cleanly_once_filled(app, client, org):
    response = client.get(f"{IMPORTS}/template.xlsx", headers=org.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS
    notes = " ".join(str(c.value) for row in workbook["填写说明"].iter_rows() for c in row if c.value)
    assert "管制/缓刑/假释/暂予监外执行" in notes and "严管/普管/宽管" in notes

    assert upload(client, org.headers, response.data).get_json()["rows"] == 0  # the example is never enrolled
    sheet.append([person_row(1)[h] for h in HEADERS])
    sheet.append([person_row(2)[h] for h in HEADERS])
    filled = io.BytesIO()
    workbook.save(filled)
    body = upload(client, org.headers, filled.getvalue(), dry_run=False).get_json()

    assert (body["rows"], body["created"], body["problems"]) == (2, 2, [])
    assert count(app, Supervisee, Supervisee.name.like("示例%")) == 0


def test_the_csv_template_downloads_and_reimports_cleanly_once_filled(app, client, org):
    response = client.get(f"{IMPORTS}/template.csv", headers=org.headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf" + ",".join(HEADERS).encode())

    filled = response.data + csv_bytes([person_row(1)]).split(b"\r\n", 1)[1]
    body = upload(client, org.headers, filled, dry_run=False).get_json()

    assert (body["rows"], body["created"], body["problems"]) == (1, 1, [])


def test_the_template_is_for_officers(client, make):
    scene = make.scene()

    assert error_of(client.get(f"{IMPORTS}/template.csv", headers=scene.phone), 403)["code"] == "forbidden"


# --- after the import -------------------------------------------------------------------------------

def test_an_imported_person_logs_in_only_after_an_officer_issues_a_password_then_must_change_it(app, client, org):
    assert upload(client, org.headers, xlsx([person_row(1)]), dry_run=False).status_code == 200
    [person] = rows(app, Supervisee, Supervisee.phone == "13900000001")

    def login(password):
        return client.post(f"{API}/auth/supervisee/login",
                           json={"phone": person.phone, "password": password, "device_id": "phone-1"})

    assert error_of(login(UNUSABLE_PASSWORD), 401)["code"] == "invalid_credentials"
    issued = client.post(f"{API}/supervisees/{person.id}/initial-password", headers=org.headers)
    assert issued.status_code == 200
    password = issued.get_json()["initial_password"]
    answer = login(password)
    assert answer.status_code == 200 and answer.get_json()["supervisee"]["password_change_required"] is True
    phone = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    assert error_of(client.get(f"{API}/me/points", headers=phone), 403)["code"] == "password_change_required"
    changed = client.post(f"{API}/auth/password", headers=phone,
                          json={"current_password": password, "new_password": "my-own-password-26"})
    assert changed.status_code == 204
    assert client.get(f"{API}/me/points", headers=phone).status_code == 200


# --- two imports at once ----------------------------------------------------------------------------

def two_imports_at_once(app, org, data: bytes, start: threading.Barrier | None = None) -> list:
    """Post ``data`` for real from two threads, as the office's officer and as a supervisor (two
    officers: one token's last-use update would queue the other request); return both answers."""
    answers, failures = [None, None], []

    def run(index):
        try:
            with app.app_context():
                headers, office_id = [(org.headers, None), (org.supervisor_headers, org.office.id)][index]
                client = app.test_client()
                if start is not None:
                    start.wait(timeout=30)
                response = upload(client, headers, data, dry_run=False, office_id=office_id)
                answers[index] = (response.status_code, response.get_json())
        except Exception as error:  # surfaced below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return answers


@pytest.mark.postgresql_only
def test_two_imports_of_the_same_file_at_once_enrol_each_person_once(app, org, monkeypatch):
    data = xlsx([person_row(i, 责任人=org.officer.officer.username) for i in range(1, 201)])
    both_checked = threading.Barrier(2)
    insert = service._insert

    def insert_when_both_have_checked(*args, **kwargs):
        both_checked.wait(timeout=30)  # both found nobody enrolled: now they race to insert
        return insert(*args, **kwargs)

    monkeypatch.setattr(service, "_insert", insert_when_both_have_checked)
    answers = two_imports_at_once(app, org, data)
    outcomes = sorted((status, body.get("created", body.get("error", {}).get("code"))) for status, body in answers)
    assert outcomes == [(200, 200), (409, "import_conflict")], outcomes
    assert count(app, Supervisee, Supervisee.phone.like("1390000%")) == 200
    monkeypatch.undo()
    again = upload(app.test_client(), org.headers, data, dry_run=False).get_json()
    assert (again["created"], again["unchanged"]) == (0, 200)  # the loser's retry is safe


def test_on_sqlite_two_imports_at_once_queue_and_the_second_finds_the_rows_unchanged(app, org, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite's BEGIN IMMEDIATE queues the writers; PostgreSQL races them (above)")
    data = xlsx([person_row(i, 责任人=org.officer.officer.username) for i in range(1, 201)])
    answers = two_imports_at_once(app, org, data, start=threading.Barrier(2))
    assert sorted((status, body["created"], body["unchanged"]) for status, body in answers) == [
        (200, 0, 200), (200, 200, 0)]
    assert count(app, Supervisee, Supervisee.phone.like("1390000%")) == 200
