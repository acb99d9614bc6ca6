"""Benchmark: building the bureau's weekly report vs. a hand-written SQL query, same run.

PostgreSQL with 10,000 supervisees and one week of data: a fix every 15 minutes (about 6.7
million fixes), daily remote check-ins (about 10% missed), alerts with acknowledgement times,
and a points ledger. The builder's full bureau report is timed against one hand-written query
computing the same per-supervisee figures. Targets: ≤ 2× the hand-written time; peak memory
≤ 300 MB. Usage: .venv/bin/python benchmarks/report.py [--n 10000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import SECRET_KEY, scratch_database  # noqa: E402

WEEK = "2026-W47"
START = datetime(2026, 11, 15, 16, 0, tzinfo=timezone.utc)  # Monday 2026-11-16 00:00 Shanghai
END = START + timedelta(days=7)

HAND_WRITTEN = """
WITH pop AS (SELECT id FROM supervisees),
done AS (SELECT supervisee_id sid, count(*) FILTER (WHERE kind = 'remote') r, count(*) FILTER (WHERE kind = 'station') s
         FROM checkins WHERE outcome = 'accepted' AND kind <> 'spot' AND window_closes_at >= :s AND window_closes_at < :e
         GROUP BY supervisee_id),
miss AS (SELECT supervisee_id sid, count(*) FILTER (WHERE kind = 'remote') r, count(*) FILTER (WHERE kind = 'station') s
         FROM missed_windows WHERE closes_at >= :s AND closes_at < :e GROUP BY supervisee_id),
al AS (SELECT supervisee_id sid, count(*) n, count(*) FILTER (WHERE type IN ('zone_exit', 'exclusion_entry')) z
       FROM alerts WHERE raised_at >= :s AND raised_at < :e GROUP BY supervisee_id),
st AS (SELECT supervisee_id sid, count(*) n, count(*) FILTER (WHERE severity IN ('high', 'critical')) serious
       FROM alerts WHERE raised_at < :e AND (resolved_at IS NULL OR resolved_at >= :e) GROUP BY supervisee_id),
fx AS (SELECT supervisee_id sid, count(DISTINCT date_trunc('hour', recorded_at)) h
       FROM location_fixes WHERE recorded_at >= :s AND recorded_at < :e GROUP BY supervisee_id),
lf AS (SELECT supervisee_id sid, max(recorded_at) t FROM location_fixes WHERE recorded_at < :e GROUP BY supervisee_id),
pt AS (SELECT supervisee_id sid, sum(CASE WHEN delta > 0 AND event <> 'refund' THEN delta ELSE 0 END) earned,
              sum(CASE WHEN event IN ('redemption', 'refund') THEN -delta ELSE 0 END) spent
       FROM point_entries WHERE created_at >= :s AND created_at < :e GROUP BY supervisee_id)
SELECT p.id, coalesce(done.r, 0), coalesce(done.s, 0), coalesce(miss.r, 0), coalesce(miss.s, 0), coalesce(al.n, 0),
       coalesce(al.z, 0), coalesce(st.n, 0), coalesce(st.serious, 0), coalesce(fx.h, 0), lf.t,
       coalesce(pt.earned, 0), coalesce(pt.spent, 0)
FROM pop p LEFT JOIN done ON done.sid = p.id LEFT JOIN miss ON miss.sid = p.id LEFT JOIN al ON al.sid = p.id
LEFT JOIN st ON st.sid = p.id LEFT JOIN fx ON fx.sid = p.id LEFT JOIN lf ON lf.sid = p.id LEFT JOIN pt ON pt.sid = p.id
ORDER BY p.id
"""


def build(n: int):
    from flask_migrate import upgrade

    from correction.app import create_app
    from correction.config import Settings
    from correction.database import db

    url = scratch_database("correction_bench_report")
    app = create_app(Settings.from_env(environ={}, DATABASE_URL=url, LOG_LEVEL="WARNING", SECRET_KEY=SECRET_KEY))
    with app.app_context():
        upgrade()
        created = START - timedelta(days=60)
        run = lambda sql, **p: db.session.execute(sa.text(sql), p)  # noqa: E731
        run("INSERT INTO bureaus (id, code, name) VALUES (1, 'b', '婺城区司法局')")
        run("INSERT INTO offices (id, bureau_id, code, name) SELECT g, 1, 'o' || g, '司法所' || g FROM generate_series(1, 5) g")
        run("INSERT INTO officers (id, bureau_id, office_id, username, name, role, password_hash, totp_secret, "
            "failed_logins, active, created_at) SELECT g, 1, g, 'o' || g, 'o', 'officer', 'x', 'x', 0, true, :c "
            "FROM generate_series(1, 5) g", c=created)
        run("INSERT INTO supervisees (id, office_id, officer_id, name, phone, password_hash, national_id_hash, "
            "national_id_last4, sentence_type, supervision_start, supervision_end, level, status, failed_logins, "
            "created_at, updated_at) SELECT g, 1 + g % 5, 1 + g % 5, '对象' || g, '1' || lpad(g::text, 10, '0'), 'x', "
            "lpad(g::text, 64, '0'), '0000', 'probation', '2026-01-01', '2027-12-31', "
            "(ARRAY['strict','normal','lenient'])[1 + g % 3], 'active', 0, :c, :c FROM generate_series(1, :n) g",
            c=created, n=n)
        began = time.perf_counter()
        run("INSERT INTO location_fixes (supervisee_id, recorded_at, received_at, lat, lon, accuracy_m, is_mock, source) "
            "SELECT s.id, t, t, 29.08 + (s.id % 100) * 0.0001, 119.65, 15, false, 'app' "
            "FROM generate_series(1, :n) s(id), generate_series(:s, :e - interval '15 minutes', interval '15 minutes') t "
            "WHERE NOT (s.id % 50 = 0 AND t > :s + interval '3 days')", n=n, s=START, e=END)
        print(f"  fixes inserted in {time.perf_counter() - began:.0f} s", flush=True)
        for day in range(7):
            closes = START + timedelta(days=day, hours=12)
            key = f"remote:{(date(2026, 11, 16) + timedelta(days=day)).isoformat()}"
            run("INSERT INTO checkins (supervisee_id, office_id, kind, window_key, window_closes_at, outcome, lat, lon, "
                "accuracy_m, is_mock, recorded_at, received_at) SELECT id, office_id, 'remote', :k, :c, 'accepted', 29.08, "
                "119.65, 10, false, :r, :r FROM supervisees WHERE id % 10 <> :d", k=key, c=closes,
                r=closes - timedelta(hours=3), d=day)
            run("INSERT INTO missed_windows (supervisee_id, office_id, kind, window_key, closes_at, detected_at, alerted) "
                "SELECT id, office_id, 'remote', :k, :c, :c, true FROM supervisees WHERE id % 10 = :d", k=key, c=closes, d=day)
            run("INSERT INTO alerts (supervisee_id, office_id, type, severity, subject_key, evidence, status, raised_at, "
                "acknowledged_at) SELECT id, office_id, 'missed_checkin', 'medium', :k, '{}', 'acknowledged', :c, "
                ":c + (id % 240) * interval '1 minute' FROM supervisees WHERE id % 10 = :d", k=key, c=closes, d=day)
            run("INSERT INTO point_entries (supervisee_id, office_id, delta, event, event_ref, reason, created_at) "
                "SELECT id, office_id, 2, 'checkin_remote', :k, 'x', :c FROM supervisees WHERE id % 10 <> :d",
                k=key, c=closes, d=day)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        count = db.session.execute(sa.text("SELECT count(*) FROM location_fixes")).scalar()
        print(f"  {n} supervisees, {count:,} fixes", flush=True)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from zoneinfo import ZoneInfo

    from correction.database import db
    from correction.reports.service import build_report
    from correction.reports.weeks import parse_week

    app = build(args.n)
    settings = app.config["SETTINGS"]
    week = parse_week(WEEK, ZoneInfo(settings.LOCAL_TIMEZONE))
    ours, hand, peaks = [], [], []
    with app.app_context():
        for _ in range(args.repeat):
            db.session.rollback()
            began = time.perf_counter()
            rows = db.session.execute(sa.text(HAND_WRITTEN), {"s": START, "e": END}).all()
            hand.append(time.perf_counter() - began)
            db.session.rollback()
            tracemalloc.start()
            began = time.perf_counter()
            report = build_report(db.session, settings, bureau_id=1, office_id=None, week=week, now=END + timedelta(hours=1))
            ours.append(time.perf_counter() - began)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert len(report["supervisees"]) == len(rows) == args.n
            assert sum(r["done"] for r in report["supervisees"]) == sum(r[1] + r[2] for r in rows)
            assert sum(r["misses"] for r in report["supervisees"]) == sum(r[3] + r[4] for r in rows)
    o, h = statistics.median(ours), statistics.median(hand)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bureau report ({args.n} supervisees): builder {o:.2f} s   hand-written query {h:.2f} s   "
          f"ratio {o / h:.2f} (target <= 2)")
    print(f"builder peak Python allocations {max(peaks) / 2**20:.1f} MiB; process peak RSS {rss:.0f} MiB "
          f"(target <= 300 MB)")


if __name__ == "__main__":
    main()
