"""Benchmark: a 10,000-row spreadsheet import vs. a bare bulk INSERT of the same rows, same run.

Through the service (as `flask people import --commit` calls it), on a scratch PostgreSQL database
and, unless --no-sqlite, a scratch SQLite file. The import does everything a real one does: read
the XLSX or CSV, check every cell, hash every ID number, look up existing IDs, phones and officers,
bulk INSERT; the baseline is one executemany INSERT of the same rows, prepared in advance. Each
phase starts from an empty supervisees table. Target: the import is practical (seconds, not
minutes) and within a small factor of the bare INSERT.
Usage: .venv/bin/python benchmarks/imports.py [--rows 10000] [--no-sqlite]
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import migrated_app, one_office, scratch_database  # noqa: E402

HEADERS = ["姓名", "身份证号", "手机号", "矫正类别", "矫正开始日期", "矫正结束日期", "管理等级", "责任人"]


def spreadsheet_rows(n: int) -> list[list[str]]:
    """``n`` distinct, valid rows: ID numbers of 1,000 people born on each day from 1960-01-01."""
    from correction.security import national_id_check_char

    out = []
    for i in range(n):
        first17 = f"330702{date(1960, 1, 1) + timedelta(days=i // 1000):%Y%m%d}{i % 1000:03d}"
        out.append([f"对象{i}", first17 + national_id_check_char(first17), f"139{i:08d}",
                    ("缓刑", "假释", "管制", "暂予监外执行")[i % 4], "2026-11-01", "2027-10-31",
                    ("严管", "普管", "宽管")[i % 3], "bench"])
    return out


def as_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def measure(url: str, label: str, rows: list[list[str]], files: dict[str, bytes]) -> None:
    from correction.database import db
    from correction.imports import service
    from correction.people.access import Principal
    from correction.people.models import Supervisee
    from correction.security import UNUSABLE_PASSWORD, hash_national_id
    from correction.time import utcnow

    app = migrated_app(url)
    with app.app_context():
        settings = app.config["SETTINGS"]
        now = utcnow()
        office, officer = one_office(db.session, now)
        db.session.commit()
        principal = Principal("officer", officer.id, office.bureau_id, office.id, "officer", 0, "bench")
        values = [dict(office_id=office.id, officer_id=officer.id, name=r[0], phone=r[2], password_hash=UNUSABLE_PASSWORD,
                       national_id_hash=hash_national_id(settings.SECRET_KEY, r[1]), national_id_last4=r[1][-4:],
                       sentence_type="probation", supervision_start=now.date(), supervision_end=now.date(),
                       level="normal", status="active", failed_logins=0, password_change_required=True,
                       created_at=now, updated_at=now) for r in rows]

        def empty() -> None:
            db.session.execute(sa.delete(Supervisee))
            db.session.commit()

        def timed(work) -> float:
            empty()
            started = time.perf_counter()
            work()
            db.session.commit()
            return time.perf_counter() - started

        def bulk_insert() -> None:
            db.session.execute(sa.insert(Supervisee.__table__), values)

        def importer(data: bytes, dry_run: bool = False):
            def work() -> None:
                report = service.import_supervisees(db.session, settings, principal, office_id=None, data=data,
                                                    dry_run=dry_run, now=now)
                assert report.refused == 0 and report.created == len(rows), report.problems[:3]
            return work

        baseline = min(timed(bulk_insert) for _ in range(2))
        print(f"[{label}] bare bulk INSERT:       {len(rows) / baseline:9.0f} rows/s  ({baseline:6.2f} s)")
        for kind, data in files.items():
            dry = timed(importer(data, dry_run=True))
            real = timed(importer(data))
            print(f"[{label}] {kind:4} import, dry run:  {len(rows) / dry:9.0f} rows/s  ({dry:6.2f} s)")
            print(f"[{label}] {kind:4} import, commit:   {len(rows) / real:9.0f} rows/s  ({real:6.2f} s)  "
                  f"ratio import / bare INSERT time: {real / baseline:5.1f}x")
        # the table now holds the csv import: the same file again finds every row unchanged
        started = time.perf_counter()
        report = service.import_supervisees(db.session, settings, principal, office_id=None, data=files["csv"],
                                            dry_run=False, now=now)
        rerun = time.perf_counter() - started
        print(f"[{label}] csv  rerun, {report.unchanged} unchanged: {len(rows) / rerun:9.0f} rows/s  ({rerun:6.2f} s)")
        db.session.rollback()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    rows = spreadsheet_rows(args.rows)
    files = {"xlsx": as_xlsx(rows), "csv": as_csv(rows)}
    print(f"{args.rows} rows: xlsx {len(files['xlsx']) / 1024:.0f} KiB, csv {len(files['csv']) / 1024:.0f} KiB")
    measure(scratch_database("correction_bench_imports"), "postgresql", rows, files)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as scratch:
            measure(f"sqlite:///{scratch}/bench.db", "sqlite", rows, files)


if __name__ == "__main__":
    main()
