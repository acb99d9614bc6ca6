"""Queueing notifications for supervisees' phones."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..database import insert_for
from .models import Notification


def notify(session, *, supervisee_id: int, kind: str, title: str, body: str, now: datetime,
           data: dict[str, Any] | None = None, dedupe_key: str | None = None) -> bool:
    """Queue a notification; with a ``dedupe_key`` seen before, do nothing. Return if queued."""
    insert = insert_for(session)
    stmt = insert(Notification).values(supervisee_id=supervisee_id, kind=kind, title=title,
                                       body=body, data=data or {}, dedupe_key=dedupe_key,
                                       created_at=now)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return session.execute(stmt.returning(Notification.id)).scalar_one_or_none() is not None


def mark_read(session, *, supervisee_id: int, notification_id: int, now: datetime) -> Notification | None:
    """Mark one of the supervisee's notifications read; None when it is not theirs."""
    item = session.execute(
        sa.select(Notification).where(Notification.id == notification_id,
                                      Notification.supervisee_id == supervisee_id)
    ).scalar_one_or_none()
    if item is not None and item.read_at is None:
        item.read_at = now
    return item
