"""Weekly reports built by the Monday job and by `flask report weekly`, stored once per scope and week."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from correction.database import db
from correction.reports.models import WeeklyReport
from correction.time import UTC
from jobs.runner import run_job
from jobs.schedule import schedule
from tests.factories import MONDAY, WEEK_END, get_report, missed_row

MONDAY_0100 = WEEK_END + timedelta(hours=1)  # Mon 30 Nov 01:00 local: when the job runs


@pytest.fixture
def scene(make):
    return make.report_week()


@pytest.fixture
def job(app):
    return next(s for s in schedule(app.config["SETTINGS"]) if s.id == "weekly_reports")


def stored(app) -> dict[str, WeeklyReport]:
    with app.app_context():
        found = db.session.execute(sa.select(WeeklyReport).order_by(WeeklyReport.id)).scalars().all()
        db.session.expunge_all()
    return {f"{r.scope} {r.week}": r for r in found}


def test_the_job_runs_every_monday_at_0100_local(job):
    after = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert job.trigger.get_next_fire_time(None, after) == MONDAY_0100
    assert job.trigger.get_next_fire_time(None, MONDAY_0100 + timedelta(seconds=1)) == MONDAY_0100 + timedelta(days=7)


def test_the_job_stores_last_week_for_every_office_and_bureau(app, clock, job, scene):
    clock.set(MONDAY_0100)
    run = run_job(app, job)
    assert (run.ok, run.rows) == (True, 5)  # three offices, two bureaus
    reports = stored(app)
    assert sorted(reports) == sorted([
        f"office:{scene.office.id} 2026-W48", f"office:{scene.office_b.id} 2026-W48",
        f"office:{scene.other_office.id} 2026-W48", f"bureau:{scene.bureau.id} 2026-W48",
        f"bureau:{scene.other_office.bureau_id} 2026-W48"])
    office = reports[f"office:{scene.office.id} 2026-W48"]
    assert (office.provisional, office.built_at, office.office_id, office.bureau_id) == (
        False, MONDAY_0100, scene.office.id, scene.bureau.id)
    totals = office.data["totals"]
    assert (totals["supervisees"], totals["expected"], totals["done"], totals["misses"]) == (3, 17, 13, 4)
    bureau = reports[f"bureau:{scene.bureau.id} 2026-W48"].data
    assert (bureau["office"], bureau["totals"]["supervisees"]) == (None, 4)
    other = reports[f"bureau:{scene.other_office.bureau_id} 2026-W48"].data
    assert [r["name"] for r in other["supervisees"]] == ["孙九"]
    assert (other["totals"]["done"], other["totals"]["misses"], other["totals"]["status_red"]) == (1, 1, 1)


def test_rerunning_the_job_replaces_the_reports_never_duplicates(app, make, clock, job, scene):
    clock.set(MONDAY_0100)
    run_job(app, job)
    before = stored(app)
    make.add(missed_row(scene.li, "remote", MONDAY + timedelta(days=1, hours=20), "remote:late-news"))
    clock.advance(hours=2)
    assert run_job(app, job).rows == 5
    after = stored(app)
    assert sorted(after) == sorted(before)
    assert {k: r.id for k, r in after.items()} == {k: r.id for k, r in before.items()}
    office = after[f"office:{scene.office.id} 2026-W48"]
    assert office.built_at == MONDAY_0100 + timedelta(hours=2)
    assert (office.data["totals"]["misses"], office.data["totals"]["expected"]) == (5, 18)
    assert before[f"office:{scene.office.id} 2026-W48"].data["totals"]["misses"] == 4
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(WeeklyReport)).scalar_one() == 5


def test_the_api_serves_what_the_job_stored(app, client, auth, clock, job, scene):
    clock.set(MONDAY_0100)
    run_job(app, job)
    clock.set(MONDAY_0100 + timedelta(days=1))
    report = get_report(client, auth.officer(scene.officer)).get_json()
    assert report["generated_at"] == "2026-11-29T17:00:00Z"
    assert report["totals"]["expected"] == 17
    assert len(stored(app)) == 5


def test_a_job_run_late_on_sunday_builds_the_week_before(app, clock, job, scene):
    clock.set(WEEK_END - timedelta(hours=1))  # Sun 29 Nov 23:00 local
    assert run_job(app, job).rows == 5
    assert {r.week for r in stored(app).values()} == {"2026-W47"}


# --- provisional weeks ----------------------------------------------------------------------------

def test_a_week_that_has_not_ended_is_provisional_and_not_stored(app, client, auth, clock, scene):
    clock.set(WEEK_END - timedelta(minutes=1))
    report = get_report(client, auth.officer(scene.officer)).get_json()
    assert report["provisional"] is True
    assert report["totals"]["done"] == 13  # the figures so far
    assert stored(app) == {}
    clock.set(WEEK_END + timedelta(minutes=1))
    report = get_report(client, auth.officer(scene.officer)).get_json()
    assert report["provisional"] is False
    assert list(stored(app)) == [f"office:{scene.office.id} 2026-W48"]


def test_a_future_week_is_provisional_and_empty(app, client, auth, scene):
    report = get_report(client, auth.officer(scene.officer), week="2027-W10").get_json()
    assert report["provisional"] is True and report["totals"]["expected"] == 0
    assert report["supervisees"] and all(r["expected"] == 0 for r in report["supervisees"])
    assert stored(app) == {}


# --- the command line -----------------------------------------------------------------------------

def test_the_cli_writes_the_office_pdf_and_stores_the_report(app, runner, scene, tmp_path):
    out = tmp_path / "w48.pdf"
    result = runner.invoke(args=["report", "weekly", "--week", "2026-W48", "--office", str(scene.office.id),
                                 "--format", "pdf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "weekly report 2026-W48" in result.output  # the progress bar's label
    assert f"wrote {out}: 3 supervisees" in result.output and "provisional" not in result.output
    with open(out, "rb") as handle:
        reader = PdfReader(handle)
        text = "\n".join(page.extract_text() for page in reader.pages)
    assert "城中街道司法所" in text and "张三" in text and "76.5%" in text
    assert list(stored(app)) == [f"office:{scene.office.id} 2026-W48"]
    again = runner.invoke(args=["report", "weekly", "--week", "2026-W48", "--office", str(scene.office.id),
                                "--format", "pdf", "--out", str(out)])
    assert again.exit_code == 0 and len(stored(app)) == 1


def test_the_cli_without_an_office_builds_the_first_bureau(app, runner, scene, tmp_path):
    out = tmp_path / "bureau.csv"
    result = runner.invoke(args=["report", "weekly", "--week", "2026-W48", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 4 supervisees" in result.output
    text = out.read_bytes().decode("utf-8-sig")
    assert len(text.splitlines()) == 5 and "赵六" in text
    assert list(stored(app)) == [f"bureau:{scene.bureau.id} 2026-W48"]


def test_the_cli_on_a_running_week_says_provisional_and_stores_nothing(app, runner, clock, scene, tmp_path):
    clock.set(MONDAY + timedelta(days=3))
    out = tmp_path / "now.xlsx"
    result = runner.invoke(args=["report", "weekly", "--office", str(scene.office.id), "--week", "2026-W48",
                                 "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "(provisional: the week has not ended)" in result.output
    assert out.read_bytes().startswith(b"PK")  # a zip: the workbook
    assert stored(app) == {}


@pytest.mark.parametrize("args, complaint", [
    (["--week", "2026-48"], "--week"), (["--week", "2025-W53"], "--week"), (["--week", "W48"], "--week"),
    (["--week", "2026-W48", "--office", "999999"], "--office"), (["--format", "docx"], "--format"),
])
def test_the_cli_refuses_bad_arguments_with_a_usage_error(app, runner, scene, tmp_path, args, complaint):
    result = runner.invoke(args=["report", "weekly", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2, result.output
    assert complaint in result.output
    assert not (tmp_path / "x").exists() and stored(app) == {}
