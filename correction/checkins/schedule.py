"""What a supervisee sees in /me/schedule: current and next windows, pending spot checks."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from .models import Checkin
from .period_windows import checkins_meeting, period_windows_between
from .service import pending_spot_checks
from .windows import WINDOW_KINDS, upcoming_windows


def schedule_for(session, settings, person, now: datetime) -> dict:
    """Return the supervisee's open and upcoming windows with their status."""
    windows = [w for kind in WINDOW_KINDS
               for w in upcoming_windows(settings, person, kind, now, settings.SCHEDULE_UPCOMING)]
    satisfied = dict(session.execute(
        sa.select(Checkin.window_key, Checkin.id).where(
            Checkin.supervisee_id == person.id, Checkin.outcome == "accepted",
            Checkin.window_key.in_([w.key for w in windows]))).all()) if windows else {}
    # the period windows of today and tomorrow: met by any check-in made while open
    extra = period_windows_between(session, settings, person, now, now + timedelta(days=2))
    satisfied.update(checkins_meeting(session, person.id, extra))
    windows += extra
    items = []
    for w in sorted(windows, key=lambda w: (w.closes_at, w.kind)):
        checkin_id = satisfied.get(w.key)
        status = "satisfied" if checkin_id else "upcoming" if now < w.opens_at else "open"
        items.append({"kind": w.kind, "key": w.key, "opens_at": w.opens_at, "closes_at": w.closes_at,
                      "status": status, "checkin_id": checkin_id, "period_id": w.period_id})
    return {"now": now, "timezone": settings.LOCAL_TIMEZONE, "windows": items,
            "spot_checks": pending_spot_checks(session, person.id, now)}
