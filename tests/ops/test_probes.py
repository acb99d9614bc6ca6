"""/livez and /readyz: each check of readiness, each way it fails, and what the probes never do."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.app import create_app
from correction.audit.models import AuditEntry
from correction.database import db
from correction.scheduler_state import SchedulerHeartbeat, beat
from tests.assertions import count, error_of
from tests.conftest import make_settings

API = "/api/v1"


def _revisions() -> tuple[str, str]:
    """The migrations' head and the revision before it."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from correction.app import _migrations_dir

    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    head = ScriptDirectory.from_config(config).get_revision("head")
    return head.revision, head.down_revision


HEAD, BEFORE_HEAD = _revisions()


def heartbeat(app, at) -> None:
    with app.app_context():
        beat(db.session, host="scheduler-1", pid=4321, leading_since=at - timedelta(hours=1), now=at)
        db.session.commit()


@pytest.mark.parametrize("path", ["/livez", f"{API}/livez"])
def test_livez_answers_without_a_database(path):
    broken = create_app(make_settings("postgresql://postgres@127.0.0.1:1/nowhere"))
    response = broken.test_client().get(path)
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/readyz", f"{API}/readyz"])
def test_readyz_is_ready_with_the_database_at_head_and_a_fresh_heartbeat(app, client, clock, path):
    heartbeat(app, clock() - timedelta(seconds=20))
    response = client.get(path)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "migrations": True, "scheduler": True}
    assert body["checks"]["migrations"]["detail"] == f"at {HEAD}, head {HEAD}"
    assert body["checks"]["scheduler"]["detail"] == "heartbeat 20 s old"


def test_a_stale_heartbeat_fails_readiness_naming_the_scheduler(app, client, clock):
    stale = app.config["SETTINGS"].SCHEDULER_HEARTBEAT_STALE_SECONDS
    heartbeat(app, clock() - timedelta(seconds=stale + 1))
    error = error_of(client.get("/readyz"), 503)
    assert error["code"] == "not_ready"
    assert error["details"]["failing"] == ["scheduler"]
    assert error["details"]["checks"]["migrations"]["ok"] is True
    assert "stale" in error["details"]["checks"]["scheduler"]["detail"]


def test_no_scheduler_ever_fails_readiness(client):
    error = error_of(client.get("/readyz"), 503)
    assert error["details"]["failing"] == ["scheduler"]
    assert error["details"]["checks"]["scheduler"]["detail"] == "no scheduler has ever led"


def test_a_newer_heartbeat_replaces_the_old_one(app, client, clock):
    heartbeat(app, clock() - timedelta(hours=5))
    heartbeat(app, clock())
    assert client.get("/readyz").status_code == 200
    assert count(app, SchedulerHeartbeat) == 1


@pytest.mark.parametrize("settings_overrides", [{"READINESS_NEEDS_SCHEDULER": False}])
def test_a_deployment_may_report_the_scheduler_without_failing_on_it(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    scheduler = response.get_json()["checks"]["scheduler"]
    assert scheduler == {"ok": False, "required": False, "detail": "no scheduler has ever led"}


def _set_revision(app, revision: str) -> None:
    with app.app_context():
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        db.session.commit()


def test_a_database_behind_the_migrations_fails_readiness(app, client, clock):
    heartbeat(app, clock())
    _set_revision(app, BEFORE_HEAD)
    try:
        error = error_of(client.get("/readyz"), 503)
    finally:  # PostgreSQL's test schema is shared by the tests that follow
        _set_revision(app, HEAD)
    assert error["details"]["failing"] == ["migrations"]
    assert error["details"]["checks"]["migrations"]["detail"] == f"not at head: at {BEFORE_HEAD}, head {HEAD}"
    assert client.get("/readyz").status_code == 200


def test_a_database_never_migrated_fails_readiness(tmp_path):
    empty = create_app(make_settings(f"sqlite:///{tmp_path / 'empty.db'}"))
    error = error_of(empty.test_client().get("/readyz"), 503)
    assert error["details"]["failing"] == ["migrations", "scheduler"]
    assert error["details"]["checks"]["migrations"]["detail"] == f"not at head: at nothing, head {HEAD}"
    assert error["details"]["checks"]["scheduler"]["detail"] == "no heartbeat table"


def test_an_unreachable_database_fails_readiness():
    broken = create_app(make_settings("postgresql://postgres@127.0.0.1:1/nowhere"))
    error = error_of(broken.test_client().get("/readyz"), 503)
    assert error["details"]["failing"] == ["database", "migrations", "scheduler"]
    assert error["details"]["checks"]["database"] == {"ok": False, "required": True, "detail": "does not answer"}


def test_probes_need_no_login_are_not_audited_and_not_rate_limited(app, client, clock):
    heartbeat(app, clock())
    for _ in range(200):
        assert client.get("/readyz").status_code == 200
        assert client.get("/livez").status_code == 200
    assert count(app, AuditEntry) == 0
