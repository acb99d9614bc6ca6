"""Probes: GET /health (service and database), /livez (the process answers), /readyz (fit to serve).

``/livez`` touches nothing: a process that answers it is alive, and restarting it would not help
a database that is down. ``/readyz`` says whether this instance should get traffic: the
database answers, its schema is at the migrations' head (a release ran ``flask db upgrade``),
and a scheduler leader has written its heartbeat lately (SCHEDULER_HEARTBEAT_STALE_SECONDS).
Both answer at the root, where orchestrators look, and under /api/v1 like every endpoint. None
is rate limited, audited or authenticated, and none writes.
"""
from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from flask import current_app

from .api import ApiBlueprint
from .database import db
from .errors import DomainError
from .scheduler_state import last_beat
from .schemas import Output
from .time import now

bp = ApiBlueprint("health", __name__)
PROBES = ("livez", "readyz")  # also served at the root: create_app adds the rules


class HealthOut(Output):
    status: Literal["ok"]
    database: Literal["ok"]


class LiveOut(Output):
    status: Literal["ok"]


class CheckOut(Output):
    ok: bool
    required: bool
    detail: str


class ReadyOut(Output):
    status: Literal["ready"]
    checks: dict[str, CheckOut]


@bp.operation("GET", "/health", summary="Check the service and its database", response=HealthOut)
def health():
    if not database_is_up():
        raise DomainError("The database does not answer.", status=503, code="service_unavailable")
    return {"status": "ok", "database": "ok"}


@bp.operation("GET", "/livez", summary="Liveness: the process answers (no database)", response=LiveOut)
def livez():
    return {"status": "ok"}


@bp.operation("GET", "/readyz", summary="Readiness: database, migrations at head, scheduler heartbeat",
              response=ReadyOut, errors=(503,))
def readyz():
    checks = readiness_checks()
    failing = [name for name, check in checks.items() if check["required"] and not check["ok"]]
    if failing:
        raise DomainError(f"Not ready: {', '.join(failing)}.", status=503, code="not_ready",
                          details={"failing": failing, "checks": checks})
    return {"status": "ready", "checks": checks}


def database_is_up() -> bool:
    """Return whether the database answers a trivial query."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return False


def readiness_checks() -> dict[str, dict[str, Any]]:
    """Run each check of readiness; the later ones only when the database answers."""
    settings = current_app.config["SETTINGS"]
    needs_scheduler = settings.READINESS_NEEDS_SCHEDULER
    if not database_is_up():
        skipped = "not checked: the database does not answer"
        return {"database": _check(False, "does not answer"),
                "migrations": _check(False, skipped),
                "scheduler": _check(False, skipped, required=needs_scheduler)}
    return {"database": _check(True, "answers"),
            "migrations": _migrations_check(),
            "scheduler": _scheduler_check(settings.SCHEDULER_HEARTBEAT_STALE_SECONDS, needs_scheduler)}


def _check(ok: bool, detail: str, *, required: bool = True) -> dict[str, Any]:
    return {"ok": ok, "required": required, "detail": detail}


def _migrations_check() -> dict[str, Any]:
    heads = migration_heads()
    try:
        current = set(db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        current = set()
    shown = f"at {', '.join(sorted(current)) or 'nothing'}, head {', '.join(sorted(heads))}"
    return _check(current == heads, shown if current == heads else f"not at head: {shown}")


def migration_heads() -> set[str]:
    """Return the head revision(s) of the migration scripts, read once per process."""
    heads = current_app.extensions.get("correction.migration_heads")
    if heads is None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(current_app.extensions["migrate"].directory))
        heads = frozenset(ScriptDirectory.from_config(config).get_heads())
        current_app.extensions["correction.migration_heads"] = heads
    return set(heads)


def _scheduler_check(stale_after: int, required: bool) -> dict[str, Any]:
    try:
        heartbeat = last_beat(db.session)
    except sa.exc.SQLAlchemyError:  # no heartbeat table: the migrations check says why
        db.session.rollback()
        return _check(False, "no heartbeat table", required=required)
    if heartbeat is None:
        return _check(False, "no scheduler has ever led", required=required)
    age = int((now() - heartbeat.beat_at).total_seconds())
    if age > stale_after:
        return _check(False, f"heartbeat stale: {age} s old (limit {stale_after} s)", required=required)
    return _check(True, f"heartbeat {max(age, 0)} s old", required=required)
