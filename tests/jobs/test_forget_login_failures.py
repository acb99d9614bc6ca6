"""The hourly job forgets failed logins of clients that stopped trying, never a lock in force."""
from __future__ import annotations

from datetime import timedelta

from correction.auth.models import LoginFailure
from correction.database import db
from jobs import runner as job_runner
from jobs.schedule import schedule
from tests.assertions import rows


def run_forget(app):
    spec = next(s for s in schedule(app.config["SETTINGS"]) if s.id == "forget_login_failures")
    done = job_runner.run_job(app, spec)
    assert done is not None and done.ok, done and done.error
    return done.rows


def test_stale_failures_are_forgotten_and_locks_in_force_are_kept(app, clock):
    now = clock()
    day = timedelta(hours=24)
    pairs = {
        "stale": dict(failures=3, last_failure_at=now - day - timedelta(seconds=1)),
        "recent": dict(failures=3, last_failure_at=now - day + timedelta(minutes=1)),
        "stale-lock-ended": dict(failures=0, last_failure_at=now - 2 * day, locked_until=now - day),
        "lock-in-force": dict(failures=0, last_failure_at=now - 2 * day, locked_until=now + timedelta(minutes=1)),
    }
    with app.app_context():
        for client, values in pairs.items():
            db.session.add(LoginFailure(account_kind="supervisee", account_key="k" * 64, client=client, **values))
        db.session.commit()
    assert run_forget(app) == 2
    assert sorted(r.client for r in rows(app, LoginFailure)) == ["lock-in-force", "recent"]
    assert run_forget(app) == 0
