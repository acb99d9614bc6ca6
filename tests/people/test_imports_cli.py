"""`flask people import FILE --office CODE [--commit] [--as USERNAME]`: the same import from a shell."""
from __future__ import annotations

import pytest

from correction.audit.models import AuditEntry
from correction.people.models import Supervisee
from tests.assertions import count, rows
from tests.people.test_imports import csv_bytes, person_row, xlsx


@pytest.fixture
def org(make):
    return make.org()


def run(runner, path, office, *options):
    return runner.invoke(args=["people", "import", str(path), "--office", office.code, *options])


def test_a_dry_run_prints_the_report_and_writes_nothing(app, runner, org, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(xlsx([person_row(1), person_row(2, 管理等级="特管")]))

    result = run(runner, path, org.office, "--as", org.officer.officer.username)

    assert result.exit_code == 0, result.output
    assert "(dry run): 2 rows, 1 to create, 0 unchanged, 1 refused" in result.output
    assert "row 3, 管理等级: unknown_value" in result.output
    assert count(app, Supervisee, Supervisee.phone.like("1390000%")) == 0
    [entry] = rows(app, AuditEntry, AuditEntry.action == "supervisee.import")
    assert (entry.actor_type, entry.actor_id, entry.target_id, entry.details["dry_run"], entry.details["via"]) == (
        "officer", org.officer.officer.id, org.office.id, True, "cli")


def test_commit_enrols_and_a_second_run_changes_nothing(app, runner, org, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(csv_bytes([person_row(1), person_row(2)], encoding="gb18030"))

    first = run(runner, path, org.office, "--commit", "--as", org.officer.officer.username)
    second = run(runner, path, org.office, "--commit", "--as", org.officer.officer.username)

    assert first.exit_code == 0, first.output
    assert "(written): 2 rows, 2 created" in first.output
    assert second.exit_code == 0 and "0 created, 2 unchanged" in second.output
    assert [p.officer_id for p in rows(app, Supervisee, Supervisee.phone.like("1390000%"))] == [
        org.officer.officer.id] * 2


def test_commit_with_a_refused_row_writes_nothing_and_fails(app, runner, org, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(xlsx([person_row(1), person_row(2, 身份证号="123")]))

    result = run(runner, path, org.office, "--commit", "--as", org.officer.officer.username)

    assert result.exit_code == 1
    assert "row 3, 身份证号: invalid_national_id" in result.output and "nothing was written" in result.output
    assert count(app, Supervisee, Supervisee.phone.like("1390000%")) == 0
    [entry] = rows(app, AuditEntry, AuditEntry.action == "supervisee.import")
    assert entry.outcome == "import_refused"


def test_without_as_each_row_names_its_responsible_officer(app, runner, org, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(xlsx([person_row(1, 责任人=org.officer.officer.username), person_row(2)]))

    result = run(runner, path, org.office)

    assert result.exit_code == 0, result.output
    assert "row 3, 责任人: required" in result.output
    [entry] = rows(app, AuditEntry, AuditEntry.action == "supervisee.import")
    assert (entry.actor_type, entry.bureau_id) == ("system", org.bureau.id)


def test_an_office_outside_the_officers_scope_or_unknown_is_refused(app, runner, org, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(xlsx([person_row(1)]))

    other_office = run(runner, path, org.sister_office, "--commit", "--as", org.officer.officer.username)
    other_bureau = run(runner, path, org.foreign_office, "--commit", "--as", org.supervisor.officer.username)
    unknown = runner.invoke(args=["people", "import", str(path), "--office", "no-such-office"])

    assert other_office.exit_code == 2 and "outside this officer's scope" in other_office.output
    assert other_bureau.exit_code == 2 and "outside this officer's scope" in other_bureau.output
    assert unknown.exit_code == 2 and "no such office" in unknown.output
    assert count(app, Supervisee, Supervisee.phone.like("1390000%")) == 0


def test_an_unreadable_file_is_a_clear_error(runner, org, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)

    result = run(runner, path, org.office, "--as", org.officer.officer.username)

    assert result.exit_code == 1 and "unreadable_file" in result.output
