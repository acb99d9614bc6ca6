"""Raising alerts: the one way any feature reports a breach or a suspicion."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..database import insert_for
from .models import ALERT_TYPES, Alert

_UNRESOLVED = sa.text("status <> 'resolved'")


def raise_alert(session, settings, *, supervisee_id: int, office_id: int, type: str,
                subject_key: str, now: datetime, evidence: dict[str, Any] | None = None,
                severity: str | None = None) -> tuple[Alert, bool]:
    """Open an alert unless one is already unresolved for (supervisee, type, subject).

    Returns the alert and whether it was created now. Safe under concurrency: the insert
    does nothing when the partial unique index already holds an unresolved twin.
    """
    if type not in ALERT_TYPES:
        raise ValueError(f"unknown alert type {type!r}")
    insert = insert_for(session)
    stmt = (
        insert(Alert)
        .values(supervisee_id=supervisee_id, office_id=office_id, type=type,
                severity=severity or settings.ALERT_SEVERITY.get(type, "medium"),
                subject_key=subject_key, evidence=evidence or {}, status="open", raised_at=now)
        .on_conflict_do_nothing(index_elements=["supervisee_id", "type", "subject_key"],
                                index_where=_UNRESOLVED)
        .returning(Alert.id)
    )
    new_id = session.execute(stmt).scalar_one_or_none()
    if new_id is not None:
        return session.get(Alert, new_id), True
    existing = session.execute(
        sa.select(Alert).where(Alert.supervisee_id == supervisee_id, Alert.type == type,
                               Alert.subject_key == subject_key, Alert.status != "resolved")
    ).scalar_one()
    return existing, False


COORDINATE_KEYS = ("lat", "lon", "accuracy_m")  # where a fix was, in an alert's evidence


def strip_evidence_coordinates(session, *, before: datetime, people: sa.Select) -> int:
    """Remove the coordinates from the evidence of alerts raised before ``before``, or of ``people``.

    The alert, its type, times, outcome and the rest of its evidence stay: they are the record of
    what the office did. Return the alerts changed.
    """
    if session.get_bind().dialect.name == "postgresql":
        stripped = sa.text("evidence - CAST(:keys AS text[])").bindparams(keys=list(COORDINATE_KEYS))
        has_any = sa.text("evidence ?| CAST(:keys AS text[])").bindparams(keys=list(COORDINATE_KEYS))
    else:
        paths = ", ".join(f"'$.{key}'" for key in COORDINATE_KEYS)
        stripped = sa.text(f"json_remove(evidence, {paths})")
        has_any = sa.or_(*(sa.text(f"json_type(evidence, '$.{key}') IS NOT NULL") for key in COORDINATE_KEYS))
    return session.execute(
        sa.update(Alert)
        .where(sa.or_(Alert.raised_at < before, Alert.supervisee_id.in_(people)), has_any)
        .values(evidence=stripped)).rowcount
