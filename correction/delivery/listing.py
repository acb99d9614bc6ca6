"""What officers see of delivery: each message's channel, state and failures; the dispatcher's backlog."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..notifications.models import Notification
from ..people.access import Principal, office_scope
from ..people.models import Supervisee
from ..schemas import cursor_id, decode_cursor, encode_cursor, invalid_cursor
from .models import FAILED, QUEUED, SENDING, Delivery

COLUMNS = (Delivery.id, Delivery.notification_id, Notification.supervisee_id, Supervisee.office_id,
           Notification.kind, Notification.title, Delivery.channel, Delivery.provider, Delivery.state,
           Delivery.attempts, Delivery.next_attempt_at, Delivery.expires_at, Delivery.provider_message_id,
           Delivery.last_error, Notification.created_at, Delivery.finished_at, Notification.read_at)


def deliveries_in_scope(session, principal: Principal, filters: dict[str, Any], limit: int,
                        cursor: str | None) -> dict:
    """The deliveries of notices to people in the caller's offices, newest first, one keyset page."""
    stmt = (sa.select(*COLUMNS).join(Notification, Notification.id == Delivery.notification_id)
            .join(Supervisee, Supervisee.id == Notification.supervisee_id)
            .where(office_scope(principal, Supervisee.office_id)))
    for name, column in (("supervisee_id", Notification.supervisee_id), ("state", Delivery.state),
                         ("channel", Delivery.channel), ("kind", Notification.kind)):
        if filters.get(name) is not None:
            stmt = stmt.where(column == filters[name])
    if cursor:
        try:
            stmt = stmt.where(Delivery.id < cursor_id(decode_cursor(cursor)[0]))
        except (ValueError, IndexError):
            raise invalid_cursor() from None
    rows = session.execute(stmt.order_by(Delivery.id.desc()).limit(limit + 1)).mappings().all()
    items = [dict(row) for row in rows[:limit]]
    return {"items": items, "next_cursor": encode_cursor([items[-1]["id"]]) if len(rows) > limit else None}


def backlog(session, now: datetime) -> dict[str, Any]:
    """The dispatcher's backlog: what waits, what is being sent, and how late the oldest due message is."""
    undispatched, oldest_new = session.execute(sa.select(sa.func.count(), sa.func.min(Notification.created_at))
                                               .where(Notification.dispatched_at.is_(None))).one()
    counts = dict(session.execute(sa.select(Delivery.state, sa.func.count())
                                  .where(Delivery.state.in_((QUEUED, SENDING))).group_by(Delivery.state)).all())
    due, oldest_due = session.execute(sa.select(sa.func.count(), sa.func.min(Delivery.next_attempt_at)).where(
        Delivery.state == QUEUED, Delivery.next_attempt_at <= now)).one()
    failed = session.execute(sa.select(sa.func.count()).where(
        Delivery.state == FAILED, Delivery.finished_at >= now - timedelta(days=1))).scalar_one()
    oldest = min((t for t in (oldest_new, oldest_due) if t is not None), default=None)
    return {"queued": counts.get(QUEUED, 0) + undispatched, "due": due + undispatched,
            "sending": counts.get(SENDING, 0), "failed_last_24h": failed,
            "lag_seconds": max(0.0, (now - oldest).total_seconds()) if oldest else 0.0}
