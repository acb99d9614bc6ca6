"""A supervisee's windows with what became of them: /me/schedule, and the week an officer reads."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from .models import Checkin
from .period_windows import checkins_meeting, period_windows_between, periods_of
from .service import pending_spot_checks
from .windows import WINDOW_KINDS, Window, upcoming_windows, windows_between


def schedule_for(session, settings, person, now: datetime) -> dict:
    """Return the supervisee's open and upcoming windows with their status."""
    windows = [w for kind in WINDOW_KINDS
               for w in upcoming_windows(settings, person, kind, now, settings.SCHEDULE_UPCOMING)]
    # the period windows of today and tomorrow: met by any check-in made while open
    extra = period_windows_between(session, settings, person, now, now + timedelta(days=2))
    return {"now": now, "timezone": settings.LOCAL_TIMEZONE, "windows": _with_status(session, person, windows, extra, now),
            "spot_checks": pending_spot_checks(session, person.id, now)}


def week_for(session, settings, person, now: datetime) -> dict:
    """Return the windows of the local week (Monday to Sunday) around ``now``, met, missed or still to come,
    and the periods of stepped-up supervision that cover the person in it."""
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    start = datetime.combine(monday, time(), zone)
    end = datetime.combine(monday + timedelta(days=7), time(), zone)
    windows = [w for kind in WINDOW_KINDS for w in windows_between(settings, person, kind, start, end)]
    extra = period_windows_between(session, settings, person, start, end)
    periods = [p for p in periods_of(session, person, monday, monday + timedelta(days=6))
               if p.cancelled_at is None or p.cancelled_at > start]
    return {"first_day": monday, "last_day": monday + timedelta(days=6),
            "windows": _with_status(session, person, windows, extra, now), "periods": periods}


def _with_status(session, person, windows: list[Window], period_windows: list[Window], now: datetime) -> list[dict]:
    """The windows in order of closing, each ``satisfied`` (with its check-in), ``missed``, ``open`` or ``upcoming``.

    A regular window is met by the accepted check-in made for it; a period window by any accepted
    check-in made while it was open.
    """
    satisfied = dict(session.execute(
        sa.select(Checkin.window_key, Checkin.id).where(
            Checkin.supervisee_id == person.id, Checkin.outcome == "accepted",
            Checkin.window_key.in_([w.key for w in windows]))).all()) if windows else {}
    satisfied.update(checkins_meeting(session, person.id, period_windows))
    items = []
    for w in sorted(windows + period_windows, key=lambda w: (w.closes_at, w.kind)):
        checkin_id = satisfied.get(w.key)
        status = ("satisfied" if checkin_id else "upcoming" if now < w.opens_at else "open" if now < w.closes_at
                  else "missed")
        items.append({"kind": w.kind, "key": w.key, "opens_at": w.opens_at, "closes_at": w.closes_at,
                      "status": status, "checkin_id": checkin_id, "period_id": w.period_id})
    return items
