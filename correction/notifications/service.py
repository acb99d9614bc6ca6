"""Queueing notifications for supervisees' phones."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..database import insert_for
from .models import Notification


OUTBOX_CHANNEL = "correction_outbox"  # PostgreSQL NOTIFY channel the dispatcher listens on


def notify(session, *, supervisee_id: int, kind: str, title: str, body: str, now: datetime,
           data: dict[str, Any] | None = None, dedupe_key: str | None = None,
           expires_at: datetime | None = None) -> bool:
    """Queue a notification; with a ``dedupe_key`` seen before, do nothing. Return if queued.

    ``expires_at``: the notice is pointless after it (a spot check's due time) and is never sent late.
    """
    insert = insert_for(session)
    stmt = insert(Notification).values(supervisee_id=supervisee_id, kind=kind, title=title,
                                       body=body, data=data or {}, dedupe_key=dedupe_key,
                                       created_at=now, expires_at=expires_at)
    if dedupe_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedupe_key"])
    queued = session.execute(stmt.returning(Notification.id)).scalar_one_or_none() is not None
    if queued:
        wake_dispatcher(session)
    return queued


def wake_dispatcher(session) -> None:
    """Tell a listening dispatcher that notifications wait, once this transaction commits.

    PostgreSQL delivers a NOTIFY at commit and drops it on rollback, and folds repeats within a
    transaction into one. Elsewhere (SQLite) the dispatcher's interval job finds them.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_notify(OUTBOX_CHANNEL, "")))


def acknowledge(session, *, dedupe_key: str, now: datetime) -> None:
    """Mark the notice with ``dedupe_key`` read: what it asked for is done (no text need follow)."""
    session.execute(sa.update(Notification).where(Notification.dedupe_key == dedupe_key,
                                                  Notification.read_at.is_(None)).values(read_at=now))


def mark_read(session, *, supervisee_id: int, notification_id: int, now: datetime) -> Notification | None:
    """Mark one of the supervisee's notifications read; None when it is not theirs."""
    item = session.execute(
        sa.select(Notification).where(Notification.id == notification_id,
                                      Notification.supervisee_id == supervisee_id)
    ).scalar_one_or_none()
    if item is not None and item.read_at is None:
        item.read_at = now
    return item
