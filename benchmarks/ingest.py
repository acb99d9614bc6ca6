"""Benchmark: location ingest through the API vs. a raw COPY of the same rows, same run.

gunicorn (2 workers) on PostgreSQL. Phones upload batches of 100 fixes with zone evaluation on
(every supervisee has the district as permitted area and an exclusion zone); the baseline is
psycopg's COPY of equally many rows into location_fixes. Target: end-to-end fixes/s at least
20% of the COPY rate. Also measures single-fix OsmAnd (Traccar Client) requests per second.
Usage: .venv/bin/python benchmarks/ingest.py [--batches 300] [--threads 8] [--osmand 1500]
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import drive, gunicorn, migrated_app, one_office, scratch_database  # noqa: E402

BATCH = 100


def build(url: str, people: int):
    from correction.auth.models import AuthToken
    from correction.database import db
    from correction.locations.models import Zone
    from correction.people.models import Device, Supervisee
    from correction.tools.seed import DISTRICT
    from correction.security import new_token
    from correction.time import utcnow

    app = migrated_app(url)
    with app.app_context():
        now = utcnow()
        office, officer = one_office(db.session, now)
        ids = db.session.execute(sa.insert(Supervisee).returning(Supervisee.id), [
            dict(office_id=office.id, officer_id=officer.id, name=f"p{i}", phone=f"1{i:010d}", password_hash="x",
                 national_id_hash=f"{i:064d}", national_id_last4="0000", sentence_type="probation",
                 supervision_start=date.today() - timedelta(days=30), supervision_end=date.today() + timedelta(days=365),
                 level="normal", status="active", failed_logins=0, created_at=now, updated_at=now)
            for i in range(people)]).scalars().all()
        db.session.execute(sa.insert(Zone), [
            dict(supervisee_id=i, office_id=office.id, kind=kind, name=kind, geometry=geometry, active=True,
                 created_at=now)
            for i in ids for kind, geometry in (
                ("permitted", DISTRICT),
                ("exclusion", {"type": "Circle", "center": [119.6447, 29.0868], "radius_m": 250}))])
        tokens, keys = [], []
        for person_id in ids:
            token, token_hash = new_token()
            key, key_hash = new_token()
            device_id = db.session.execute(sa.insert(Device).returning(Device.id), [dict(
                supervisee_id=person_id, device_id=f"d{person_id}", active=True, bound_at=now,
                ingest_key_hash=key_hash, ingest_key_issued_at=now)]).scalar_one()
            db.session.add(AuthToken(token_hash=token_hash, supervisee_id=person_id, device_id=device_id,
                                     created_at=now, expires_at=now + timedelta(days=1), last_used_at=now))
            tokens.append((person_id, token))
            keys.append(key)
        db.session.commit()
        db.engine.dispose()
    return tokens, keys


def fixes_for(batch_no: int, start: float) -> list[dict]:
    """100 fixes a minute apart, wandering inside the district (no alerts expected)."""
    base = start + batch_no * BATCH * 60
    return [{"recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + i * 60)),
             "lat": 29.05 + (i % 10) * 0.001, "lon": 119.60 + (i % 7) * 0.001, "accuracy_m": 12,
             "speed_mps": 1.2, "battery": 80} for i in range(BATCH)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--osmand", type=int, default=1500, help="single-fix OsmAnd requests")
    args = parser.parse_args()

    url = scratch_database("correction_bench_ingest")
    people = max(args.threads * 4, 40)
    tokens, keys = build(url, people)
    # Each batch covers 100 minutes of one phone; all of it lies in the past and within retention.
    warm = 2 * args.threads  # first requests of a cold worker (connections, caches) are not measured
    start = time.time() - ((args.batches + warm) * BATCH * 60) - 86400
    # Bodies are encoded before the clock starts, as the COPY baseline's rows are.
    jobs = [(tokens[n % people][1], json.dumps({"fixes": fixes_for(n, start)})) for n in range(args.batches + warm)]

    with gunicorn({"DATABASE_URL": url, "CORRECTION_LOG_LEVEL": "WARNING"}) as base:
        host = urlsplit(base)

        def send_batch(job) -> str | None:
            token, body = job
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            try:
                conn.request("POST", "/api/v1/me/locations", body=body,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                response = conn.getresponse()
                answer = json.loads(response.read())
                return None if response.status == 200 and answer["stored"] == BATCH \
                    else f"{response.status} {str(answer)[:200]}"
            finally:
                conn.close()

        # Each device's fixes go forward in time, a second apart per request, all of them an hour or
        # more in the past: a fix older than its device's last one would measure the late-fix replay.
        osmand_start = int(time.time()) - 3600 - args.osmand

        def send_osmand(n: int) -> str | None:
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            try:
                query = urlencode({"id": keys[n % people], "lat": 29.06, "lon": 119.61, "accuracy": 10,
                                   "timestamp": osmand_start + n, "speed": 2, "batt": 70})
                conn.request("GET", f"/api/v1/ingest/osmand?{query}")
                response = conn.getresponse()
                response.read()
                return None if response.status == 200 else str(response.status)
            finally:
                conn.close()

        drive(jobs[args.batches:], send_batch, args.threads)  # warm-up
        api = drive(jobs[:args.batches], send_batch, args.threads)
        osmand = drive(list(range(args.osmand)), send_osmand, args.threads)

    copy_rates = copy_baseline(url, args.batches * BATCH, start)
    copy_rate = statistics.median(copy_rates)
    api_rate = api["count"] * BATCH / api["seconds"]
    print(f"API batches of {BATCH} (zones on): {api_rate:9.0f} fixes/s  p50 {api['p50_ms']:.0f} p99 {api['p99_ms']:.0f} ms/batch  "
          f"errors {api['errors']} {api['first_error'] or ''}")
    print(f"raw COPY of the same rows:       {copy_rate:9.0f} fixes/s  (median of "
          f"{', '.join(f'{r:.0f}' for r in copy_rates)})")
    ratio = api_rate / copy_rate
    print(f"ratio API / COPY: {ratio:.3f}  (target >= 0.20: {'met' if ratio >= 0.2 else 'NOT met'})")
    print(f"OsmAnd single-fix GET: {osmand['per_second']:.0f} req/s  p99 {osmand['p99_ms']:.0f} ms  "
          f"errors {osmand['errors']} {osmand['first_error'] or ''}")


def copy_baseline(url: str, rows: int, start: float, runs: int = 3) -> list[float]:
    """COPY ``rows`` fixes ``runs`` times (times shifted off the API's rows); return each run's rows/s.

    A single COPY of a few seconds swings by half on these machines: the median of a few is the baseline.
    """
    import psycopg

    from correction.config import normalise_database_url

    dsn = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    rates = []
    with psycopg.connect(dsn) as conn:
        person = conn.execute("SELECT min(id) FROM supervisees").fetchone()[0]
        for run in range(runs):
            records = []
            for n in range(rows // BATCH):
                for fix in fixes_for(n, start - (400 + 100 * run) * 86400):
                    records.append((person, fix["recorded_at"], time.strftime("%Y-%m-%dT%H:%M:%SZ"), fix["lat"],
                                    fix["lon"], fix["accuracy_m"], fix["speed_mps"], fix["battery"], False, "app"))
            began = time.perf_counter()
            with conn.cursor() as cur:
                with cur.copy("COPY location_fixes (supervisee_id, recorded_at, received_at, lat, lon, accuracy_m, "
                              "speed_mps, battery, is_mock, source) FROM STDIN") as copy:
                    for record in records:
                        copy.write_row(record)
            conn.commit()
            rates.append(rows / (time.perf_counter() - began))
    return rates


if __name__ == "__main__":
    main()
