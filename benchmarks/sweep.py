"""Benchmark: the missed-check-in sweep vs. one hand-written INSERT ... SELECT, same run.

PostgreSQL with N active supervisees (all levels). One Sunday 20:00 closing (daily, weekly
and, for strict, station windows all close) is swept twice from the same state: by the
service (`sweep_missed_checkins`), and by a hand-written single statement (a data-modifying
CTE) that records the same misses and raises the same alerts. Peak Python memory of the
sweep is measured at 10,000 and at N. Targets: sweep ≤ 2× the hand-written time; peak
memory at 100,000 ≤ 1.5× that at 10,000.
With ``--period`` a period of stepped-up supervision covers everybody that Sunday, with one extra
window 18:00–20:00 closing with the regular ones: the sweep then also records and alerts that
window for everyone (the hand-written statement does not, so it records N fewer).
``--tag`` names the scratch databases apart when several people benchmark on one server.
Usage: .venv/bin/python benchmarks/sweep.py [--n 100000] [--repeat 3] [--period] [--tag NAME]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import migrated_app, one_office, scratch_database  # noqa: E402

SUNDAY_CLOSE = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)  # Sunday 20:00 in Shanghai
NOW = SUNDAY_CLOSE + timedelta(minutes=1)

HAND_WRITTEN = """
WITH misses AS (
  INSERT INTO missed_windows (supervisee_id, office_id, kind, window_key, closes_at, detected_at, alerted)
  SELECT s.id, s.office_id, w.kind, w.key, :closes_at, :now, true
  FROM supervisees s
  JOIN (VALUES ('remote', 'strict', 'remote:2026-11-29'), ('remote', 'normal', 'remote:2026-11-23'),
               ('remote', 'lenient', 'remote:2026-11-23'), ('station', 'strict', 'station:2026-11-23'))
       AS w(kind, level, key) ON w.level = s.level
  WHERE s.status = 'active' AND s.supervision_start <= :day AND s.supervision_end >= :day
    AND s.created_at < :closes_at
    AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.supervisee_id = s.id AND c.outcome = 'accepted'
                    AND c.window_key = w.key)
  ON CONFLICT (supervisee_id, window_key) DO NOTHING
  RETURNING supervisee_id, office_id, kind, window_key
)
INSERT INTO alerts (supervisee_id, office_id, type, severity, subject_key, evidence, status, raised_at)
SELECT supervisee_id, office_id, 'missed_checkin', 'medium', window_key,
       jsonb_build_object('window_key', window_key, 'kind', kind, 'closes_at', '2026-11-29T12:00:00Z'),
       'open', :now
FROM misses
ON CONFLICT (supervisee_id, type, subject_key) WHERE status <> 'resolved' DO NOTHING
"""


def build(n: int, period: bool = False, tag: str = ""):
    from correction.checkins.models import SupervisionPeriod
    from correction.database import db
    from correction.people.models import Supervisee

    url = scratch_database(f"correction_bench_sweep_{n}{'_' + tag if tag else ''}")
    app = migrated_app(url)
    with app.app_context():
        created = SUNDAY_CLOSE - timedelta(days=30)
        office, officer = one_office(db.session, created)
        levels = ("strict", "normal", "lenient")
        for chunk in range(0, n, 20_000):
            db.session.execute(sa.insert(Supervisee), [
                dict(office_id=office.id, officer_id=officer.id, name=f"p{i}", phone=f"1{i:010d}", password_hash="x",
                     national_id_hash=f"{i:064d}", national_id_last4="0000", sentence_type="probation",
                     supervision_start=date(2026, 1, 1), supervision_end=date(2027, 12, 31), level=levels[i % 3],
                     status="active", failed_logins=0, created_at=created, updated_at=created)
                for i in range(chunk, min(n, chunk + 20_000))])
        if period:
            db.session.add(SupervisionPeriod(
                bureau_id=office.bureau_id, name="bench", reason="bench", starts_on=date(2026, 11, 29),
                ends_on=date(2026, 11, 29), levels=[], windows=[{"opens": "18:00", "closes": "20:00"}],
                spot_checks_per_week=0, declared_by=officer.id, declared_at=created))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return app


def reset(app) -> None:
    from correction.database import db
    from correction.scheduler_state import Watermark

    with app.app_context():
        db.session.execute(sa.text("TRUNCATE alerts, missed_windows, watermarks"))
        db.session.add(Watermark(job_id="missed_checkins", reached=SUNDAY_CLOSE - timedelta(minutes=1)))
        db.session.commit()


def run_service(app) -> tuple[float, int, int]:
    from correction.monitoring.sweeps import sweep_missed_checkins
    from correction.database import db

    reset(app)
    with app.app_context():
        tracemalloc.start()
        began = time.perf_counter()
        rows = sweep_missed_checkins(db.session, app.config["SETTINGS"], NOW)
        db.session.commit()
        elapsed = time.perf_counter() - began
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        alerts = db.session.execute(sa.text("SELECT count(*) FROM alerts")).scalar()
        db.session.remove()
    return elapsed, peak, rows if rows == alerts else -1


def run_hand_written(app) -> tuple[float, int]:
    from correction.database import db

    reset(app)
    with app.app_context():
        began = time.perf_counter()
        db.session.execute(sa.text(HAND_WRITTEN), {"closes_at": SUNDAY_CLOSE, "now": NOW, "day": date(2026, 11, 29)})
        db.session.commit()
        elapsed = time.perf_counter() - began
        alerts = db.session.execute(sa.text("SELECT count(*) FROM alerts")).scalar()
        db.session.remove()
    return elapsed, alerts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--period", action="store_true", help="a period of stepped-up supervision for everybody")
    parser.add_argument("--tag", default="", help="suffix of the scratch databases' names")
    args = parser.parse_args()
    peaks = {}
    for n in (args.small, args.n):
        app = build(n, args.period, args.tag)
        service, hand, peak_values = [], [], []
        for _ in range(args.repeat):
            elapsed, peak, rows = run_service(app)
            service.append(elapsed)
            peak_values.append(peak)
            hand_elapsed, hand_rows = run_hand_written(app)
            hand.append(hand_elapsed)
            if rows != hand_rows + (n if args.period else 0):
                raise SystemExit(f"mismatch at {n}: service {rows} rows, hand-written {hand_rows}")
        peaks[n] = max(peak_values)
        s, h = statistics.median(service), statistics.median(hand)
        print(f"{n:>7} supervisees: sweep {s * 1000:8.1f} ms   hand-written {h * 1000:8.1f} ms   "
              f"ratio {s / h:5.2f} (target <= 2)   alerts {rows}   peak {peaks[n] / 1024:7.1f} KiB")
    growth = peaks[args.n] / peaks[args.small]
    print(f"peak memory {args.n} / {args.small}: {growth:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
