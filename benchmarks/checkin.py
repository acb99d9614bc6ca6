"""Benchmark: valid station check-ins vs. a token-lookup-and-insert baseline, same server and run.

gunicorn (2 workers) on PostgreSQL. N supervisees each make one valid station check-in (the
full path: token, device, fix rules, window, QR signature, geodesic distance, insert); the
baseline endpoint does only the token lookup and one insert. Target: check-in throughput at
least 50% of the baseline's. Usage: .venv/bin/python benchmarks/checkin.py [--n 2000] [--threads 8]
"""
from __future__ import annotations

import argparse
import http.client
import json
import secrets
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import drive, gunicorn, migrated_app, one_office, scratch_database  # noqa: E402


def build(url: str, n: int) -> tuple[list[str], dict]:
    """Migrate and fill the database; return the supervisees' tokens and the station."""
    from correction.auth.models import AuthToken
    from correction.database import db
    from correction.people.models import Device, Station, Supervisee
    from correction.security import new_token
    from correction.time import utcnow

    app = migrated_app(url)
    with app.app_context():
        now = utcnow()
        office, officer = one_office(db.session, now)
        station = Station(office_id=office.id, name="s", lat=29.0833, lon=119.6490, radius_m=150,
                          qr_secret=secrets.token_hex(32), active=True)
        db.session.add(station)
        db.session.flush()
        people = [dict(office_id=office.id, officer_id=officer.id, name=f"p{i}", phone=f"1{i:010d}",
                       password_hash="x", national_id_hash=f"{i:064d}", national_id_last4="0000",
                       sentence_type="probation", supervision_start=date.today() - timedelta(days=30),
                       supervision_end=date.today() + timedelta(days=365), level="strict",
                       status="active", failed_logins=0, created_at=now, updated_at=now)
                  for i in range(2 * n)]
        ids = db.session.execute(sa.insert(Supervisee).returning(Supervisee.id), people).scalars().all()
        devices = db.session.execute(sa.insert(Device).returning(Device.id, Device.supervisee_id), [
            dict(supervisee_id=i, device_id=f"d{i}", active=True, bound_at=now) for i in ids]).all()
        tokens, rows = [], []
        for device_id, person_id in devices:
            token, token_hash = new_token()
            tokens.append(token)
            rows.append(dict(token_hash=token_hash, supervisee_id=person_id, device_id=device_id,
                             created_at=now, expires_at=now + timedelta(days=1), last_used_at=now))
        db.session.execute(sa.insert(AuthToken), rows)
        db.session.commit()
        info = {"id": station.id, "secret": station.qr_secret, "lat": station.lat, "lon": station.lon}
        db.engine.dispose()
    return tokens, info


def poster(base: str, path: str, body_for):
    host = urlsplit(base)

    def send(token: str) -> str | None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        try:
            conn.request("POST", path, body=json.dumps(body_for(token)),
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            return None if response.status == 201 else f"{response.status} {payload[:200]!r}"
        finally:
            conn.close()

    return send


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="requests per phase")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    from correction.checkins import qr
    from correction.time import iso_z, utcnow

    url = scratch_database("correction_bench_checkin")
    tokens, station = build(url, args.n)
    env = {"DATABASE_URL": url, "CORRECTION_LOG_LEVEL": "WARNING",
           "CORRECTION_CHECKIN_WINDOW_OPENS": "00:00", "CORRECTION_CHECKIN_WINDOW_CLOSES": "23:59"}

    def checkin_body(_token: str) -> dict:
        now = utcnow()
        text, _ = qr.station_token(station["secret"], station["id"], now, 30)
        return {"kind": "station", "qr": text, "lat": station["lat"] + 0.0002, "lon": station["lon"],
                "accuracy_m": 15, "recorded_at": iso_z(now), "is_mock": False}

    with gunicorn(env, app="correction.tools.bench:create_bench_app()") as base:
        baseline_send = poster(base, "/api/v1/_bench/token-insert", lambda _t: {})
        checkin_send = poster(base, "/api/v1/me/checkins", checkin_body)
        drive(tokens[: args.threads * 10], baseline_send, args.threads)  # warm-up
        half = args.n // 2
        base1 = drive(tokens[:half], baseline_send, args.threads)
        real = drive(tokens[args.n: 2 * args.n], checkin_send, args.threads)
        base2 = drive(tokens[half: args.n], baseline_send, args.threads)

    baseline_rate = (base1["count"] + base2["count"]) / (base1["seconds"] + base2["seconds"])
    print(f"baseline (token lookup + insert): {baseline_rate:8.1f} req/s  "
          f"p99 {max(base1['p99_ms'], base2['p99_ms']):6.1f} ms  errors {base1['errors'] + base2['errors']}")
    print(f"station check-in (full rules):    {real['per_second']:8.1f} req/s  "
          f"p99 {real['p99_ms']:6.1f} ms  errors {real['errors']}  {real['first_error'] or ''}")
    ratio = real["per_second"] / baseline_rate
    print(f"ratio check-in / baseline: {ratio:.2f}  (target >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
