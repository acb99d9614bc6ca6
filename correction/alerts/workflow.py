"""The officers' alert queue: find, acknowledge, resolve; the supervisee's side: explain."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..people.access import Principal, get_in_scope, office_scope
from ..errors import Conflict, NotFound
from ..schemas import cursor_id, cursor_instant, decode_cursor, encode_cursor, invalid_cursor
from ..time import TZDateTime, iso_z
from .models import Alert

# Alert types that ask something of the supervisee, who may answer with an explanation.
ASKS_SUPERVISEE = ("missed_checkin", "missed_spot_check", "signal_lost", "zone_exit", "exclusion_entry",
                   "leave_overdue", "mock_location", "impossible_movement", "doubtful_checkin")
SANCTIONS = ("commendation", "admonition", "warning", "revocation_requested")
_RANK = sa.case({"open": 0, "acknowledged": 1}, value=Alert.status, else_=2)


def queue(session, principal: Principal, filters: dict[str, Any], limit: int, cursor: str | None) -> dict:
    """Return a page of alerts in scope: open first, then acknowledged, then resolved; oldest first."""
    stmt = sa.select(Alert, _RANK.label("rank")).where(office_scope(principal, Alert.office_id))
    for name in ("status", "type", "severity", "supervisee_id", "office_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Alert, name) == filters[name])
    if filters.get("unresolved"):  # the console's working list: open and acknowledged
        stmt = stmt.where(Alert.status != "resolved")
    if filters.get("escalated") is not None:
        stmt = stmt.where(Alert.escalated_at.is_not(None) if filters["escalated"] else Alert.escalated_at.is_(None))
    if filters.get("since") is not None:
        stmt = stmt.where(Alert.raised_at >= filters["since"])
    if filters.get("until") is not None:
        stmt = stmt.where(Alert.raised_at < filters["until"])
    if cursor:
        try:
            rank, raised, alert_id = decode_cursor(cursor)
            if rank not in (0, 1, 2) or type(rank) is not int:
                raise ValueError
            raised_at, alert_id = cursor_instant(raised), cursor_id(alert_id)
        except ValueError:
            raise invalid_cursor() from None
        stmt = stmt.where(sa.tuple_(_RANK, Alert.raised_at, Alert.id)
                          > sa.tuple_(sa.literal(rank), sa.literal(raised_at, TZDateTime()), sa.literal(alert_id)))
    rows = session.execute(stmt.order_by(_RANK, Alert.raised_at, Alert.id).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last, rank = rows[-1]
        next_cursor = encode_cursor([rank, iso_z(last.raised_at), last.id])
    return {"items": [alert for alert, _rank in rows], "next_cursor": next_cursor}


def alert_in_scope(session, principal: Principal, alert_id: int) -> Alert:
    return get_in_scope(session, principal, Alert, alert_id,
                        not_found=NotFound("No such alert.", code="alert_not_found"))


def acknowledge(session, principal: Principal, alert_id: int, now: datetime) -> Alert:
    """Take an open alert: acknowledged by the caller. Anything but open is a 409."""
    alert = alert_in_scope(session, principal, alert_id)
    claimed = session.execute(sa.update(Alert).where(Alert.id == alert.id, Alert.status == "open")
                              .values(status="acknowledged", acknowledged_at=now, acknowledged_by=principal.id)
                              ).rowcount
    if claimed != 1:
        raise Conflict(f"This alert is already {alert.status}.", code=f"alert_already_{alert.status}")
    session.refresh(alert)
    return alert


def resolve(session, settings, principal: Principal, alert_id: int, *, outcome: str, note: str,
            now: datetime) -> Alert:
    """Close an alert with the outcome the officer chose (the system never decides it)."""
    alert = alert_in_scope(session, principal, alert_id)
    values: dict[str, Any] = dict(status="resolved", resolved_at=now, resolved_by=principal.id, outcome=outcome,
                                  note=note, article=settings.SANCTION_ARTICLES.get(outcome))
    if alert.acknowledged_at is None:
        values.update(acknowledged_at=now, acknowledged_by=principal.id)
    claimed = session.execute(sa.update(Alert).where(Alert.id == alert.id, Alert.status != "resolved")
                              .values(**values)).rowcount
    if claimed != 1:
        raise Conflict("This alert is already resolved.", code="alert_already_resolved")
    session.refresh(alert)
    return alert


def explain(session, supervisee_id: int, alert_id: int, text: str, now: datetime) -> Alert:
    """Record the supervisee's explanation on one of their own unresolved alerts."""
    alert = session.execute(sa.select(Alert).where(Alert.id == alert_id, Alert.supervisee_id == supervisee_id,
                                                   Alert.type.in_(ASKS_SUPERVISEE))).scalar_one_or_none()
    if alert is None:
        raise NotFound("No such alert.", code="alert_not_found")
    if alert.status == "resolved":
        raise Conflict("This alert is already resolved.", code="alert_already_resolved")
    alert.explanation, alert.explained_at = text, now
    return alert


def out_of_contact(settings, alert: Alert, now: datetime) -> dict[str, Any] | None:
    """For a signal_lost alert: how long, and which step of the ladder the law suggests."""
    if alert.type != "signal_lost":
        return None
    since_text = (alert.evidence or {}).get("last_fix_at") or (alert.evidence or {}).get("silent_since")
    since = datetime.fromisoformat(since_text.replace("Z", "+00:00")) if since_text else alert.raised_at
    end = alert.resolved_at or now
    days = (end - since).total_seconds() / 86400
    if days <= settings.LADDER_ADMONITION_MAX_DAYS:
        step = "admonition"
    elif days <= settings.LADDER_WARNING_MAX_DAYS:
        step = "warning"
    else:
        step = "revocation_requested"
    return {"since": since, "days": round(days, 2), "suggested_outcome": step,
            "article": settings.SANCTION_ARTICLES[step], "note": "a suggestion only; the officer decides"}
