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
