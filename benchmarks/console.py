"""Benchmark: the console's alert queue page against the API's alert list, same data, same run.

PostgreSQL with 10,000 open alerts in one office (400 supervisees, bulk inserted). Each round
renders ``GET /alerts`` (the officer's cookie) and ``GET /api/v1/alerts`` (the same token as a
bearer header) through the Flask test client, in alternating order, so both see the same cache
and load; the medians of the server time are compared. Target: the page ≤ 2× the API.
Usage: .venv/bin/python benchmarks/console.py [--alerts 10000] [--rounds 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import SECRET_KEY, one_office, scratch_database  # noqa: E402

PEOPLE = 400


def build(url: str, alerts: int):
    """Migrate and fill the database; return the app and the officer's token."""
    from flask_migrate import upgrade

    from correction.alerts.models import ALERT_TYPES, SEVERITIES, Alert
    from correction.app import create_app
    from correction.auth.models import AuthToken
    from correction.config import Settings
    from correction.database import db
    from correction.people.models import Supervisee
    from correction.security import new_token
    from correction.time import utcnow

    app = create_app(Settings.from_env(environ={}, DATABASE_URL=url, LOG_LEVEL="WARNING", SECRET_KEY=SECRET_KEY,
                                       RATELIMIT_ENABLED=False))
    with app.app_context():
        upgrade()
        now = utcnow()
        office, officer = one_office(db.session, now)
        officer.totp_enrolled_at = now  # the console sends an officer without TOTP to enrol first
        people = [dict(office_id=office.id, officer_id=officer.id, name=f"矫正对象{i}", phone=f"1{i:010d}",
                       password_hash="x", national_id_hash=f"{i:064d}", national_id_last4="0000",
                       sentence_type="probation", supervision_start=date.today() - timedelta(days=30),
                       supervision_end=date.today() + timedelta(days=365), level="normal",
                       status="active", failed_logins=0, created_at=now, updated_at=now) for i in range(PEOPLE)]
        ids = db.session.execute(sa.insert(Supervisee).returning(Supervisee.id), people).scalars().all()
        db.session.execute(sa.insert(Alert), [
            dict(supervisee_id=ids[i % PEOPLE], office_id=office.id, type=ALERT_TYPES[i % len(ALERT_TYPES)],
                 severity=SEVERITIES[i % len(SEVERITIES)], subject_key=f"bench:{i}", evidence={}, status="open",
                 raised_at=now - timedelta(minutes=alerts - i)) for i in range(alerts)])
        token, token_hash = new_token()
        db.session.execute(sa.insert(AuthToken).values(token_hash=token_hash, officer_id=officer.id, created_at=now,
                                                       expires_at=now + timedelta(days=1), last_used_at=now))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return app, token


def timed(client, path: str, **kwargs) -> float:
    started = time.perf_counter()
    response = client.get(path, **kwargs)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    from correction.console import SESSION_COOKIE

    url = scratch_database("bench_console")
    started = time.perf_counter()
    app, token = build(url, args.alerts)
    print(f"built {args.alerts} open alerts for {PEOPLE} supervisees in {time.perf_counter() - started:.1f} s")
    page_client, api_client = app.test_client(), app.test_client()
    page_client.set_cookie(SESSION_COOKIE, token)
    bearer = {"Authorization": f"Bearer {token}"}
    page_s, api_s = [], []
    for round_ in range(args.rounds + 3):  # the first three warm up
        first_page = round_ % 2 == 0
        runs = [("page", lambda: timed(page_client, "/alerts")),
                ("api", lambda: timed(api_client, "/api/v1/alerts?limit=50", headers=bearer))]
        for name, run in (runs if first_page else reversed(runs)):
            elapsed = run()
            if round_ >= 3:
                (page_s if name == "page" else api_s).append(elapsed)
    page_ms, api_ms = 1000 * statistics.median(page_s), 1000 * statistics.median(api_s)
    print(f"GET /alerts (page)       median {page_ms:7.1f} ms  (min {1000 * min(page_s):.1f})")
    print(f"GET /api/v1/alerts (API) median {api_ms:7.1f} ms  (min {1000 * min(api_s):.1f})")
    print(f"ratio page/API: {page_ms / api_ms:.2f}  (target <= 2.0)")


if __name__ == "__main__":
    main()
