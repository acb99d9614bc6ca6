"""Benchmark: one page of the console's supervisees list for an office of 10,000 (PostgreSQL).

Each person has a week of daily check-ins, a fix every 15 minutes for two days (about 1.9
million fixes), and one in ten an unresolved alert (a third of those serious) or a missed spot
check. Timed: the first page, a page deep in the list, a colour filter that matches few rows (the
colour is computed for every row until a page is full), a name search and a last-four search.
Target: each under 100 ms. Usage: .venv/bin/python benchmarks/roster.py [--n 10000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import migrated_app, one_office, scratch_database  # noqa: E402

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)

FILL = [
    """INSERT INTO supervisees (office_id, officer_id, name, phone, password_hash, national_id_hash, national_id_last4,
         sentence_type, supervision_start, supervision_end, level, status, failed_logins, password_change_required,
         created_at, updated_at)
       SELECT :office, :officer, '对象' || n, '139' || lpad(n::text, 8, '0'), 'x', md5(n::text) || md5('x' || n),
         lpad((n % 10000)::text, 4, '0'), 'probation', '2026-01-01', '2027-12-31',
         (ARRAY['strict','normal','lenient'])[1 + n % 3], 'active', 0, false, :now, :now
       FROM generate_series(1, :n) n""",
    """INSERT INTO checkins (supervisee_id, office_id, kind, outcome, window_key, window_closes_at, received_at,
         lat, lon, accuracy_m, is_mock)
       SELECT s.id, s.office_id, 'remote', 'accepted', 'remote:' || d::date, d + interval '12 hours',
         d + interval '2 hours', 29.08, 119.65, 10, false
       FROM supervisees s, generate_series(:now - interval '7 days', :now - interval '1 day', interval '1 day') d""",
    """INSERT INTO location_fixes (supervisee_id, recorded_at, received_at, lat, lon, accuracy_m, is_mock, source)
       SELECT s.id, t, t, 29.08, 119.65, 10, false, 'app'
       FROM supervisees s, generate_series(:now - interval '2 days', :now, interval '15 minutes') t""",
    """INSERT INTO alerts (supervisee_id, office_id, type, severity, subject_key, evidence, status, raised_at)
       SELECT id, office_id, 'zone_exit', CASE WHEN id % 30 = 0 THEN 'high' ELSE 'medium' END, 'bench:' || id, '{}',
         'open', :now - interval '3 hours'
       FROM supervisees WHERE id % 10 = 0""",
    """INSERT INTO spot_checks (supervisee_id, office_id, requested_by, requested_at, due_at, status)
       SELECT id, office_id, :officer, :now - interval '1 day', :now - interval '23 hours', 'missed'
       FROM supervisees WHERE id % 10 = 5""",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = migrated_app(scratch_database("bench_roster"))
    from correction.console.roster import RosterQuery, roster
    from correction.database import db
    from correction.people.access import Principal

    with app.app_context():
        office, officer = one_office(db.session, NOW)
        started = time.perf_counter()
        for statement in FILL:
            db.session.execute(sa.text(statement), {"office": office.id, "officer": officer.id, "n": args.n,
                                                    "now": NOW})
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        print(f"built {args.n} supervisees in {time.perf_counter() - started:.0f} s")
        principal = Principal(kind="officer", id=officer.id, bureau_id=office.bureau_id, office_id=office.id,
                              role="officer", token_id=0, label="bench")
        settings = app.config["SETTINGS"]
        deep = roster(db.session, settings, principal, RosterQuery(limit=200), NOW)
        for _ in range(20):
            deep = roster(db.session, settings, principal, RosterQuery(limit=200, cursor=deep["next_cursor"]), NOW)
        cases = {
            "first page": RosterQuery(),
            "page after 4,200 rows": RosterQuery(cursor=deep["next_cursor"]),
            "colour=red (1 in 30)": RosterQuery(colour="red"),
            "colour=green": RosterQuery(colour="green"),
            "name search '对象99'": RosterQuery(q="对象99"),
            "last four '0042'": RosterQuery(q="0042"),
            "phone part '00004'": RosterQuery(q="00004"),
        }
        for name, query in cases.items():
            times, rows = [], 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                rows = len(roster(db.session, settings, principal, query, NOW)["rows"])
                times.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            print(f"{name:28} {rows:3} rows  median {statistics.median(times):7.1f} ms  max {max(times):7.1f} ms")


if __name__ == "__main__":
    main()
