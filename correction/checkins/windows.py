"""Check-in windows: which reports are due when, from a supervisee's level and the settings.

A window is one reporting period of one kind (``remote`` or ``station``) clipped to the
supervision dates. It opens at CHECKIN_WINDOW_OPENS local time on its first day and closes
at CHECKIN_WINDOW_CLOSES local time on its last (due) day. Cadences: ``daily`` (a local day),
``weekly`` (an ISO week, Monday–Sunday), ``monthly`` (a calendar month) and ``bimonthly``
(January–February, March–April, ...). The key names the unclipped period, so it is stable.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..time import UTC

WINDOW_KINDS = ("remote", "station")


@dataclass(frozen=True)
class Window:
    """One reporting window of one kind."""

    kind: str
    key: str
    first_day: date
    due_day: date
    opens_at: datetime
    closes_at: datetime
    period_id: int | None = None  # a period of stepped-up supervision's extra window (kind "period")

    def is_open(self, at: datetime) -> bool:
        return self.opens_at <= at < self.closes_at


def period_of(cadence: str, day: date) -> tuple[date, date]:
    """Return the first and last day of the ``cadence`` period that contains ``day``."""
    if cadence == "daily":
        return day, day
    if cadence == "weekly":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if cadence == "monthly":
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    if cadence == "bimonthly":
        first_month = day.month - (day.month - 1) % 2
        last_month = first_month + 1
        return (date(day.year, first_month, 1),
                date(day.year, last_month, calendar.monthrange(day.year, last_month)[1]))
    raise ValueError(f"unknown cadence {cadence!r}")


def cadence_for(settings, kind: str, level: str) -> str:
    """Return the cadence of ``kind`` check-ins for a supervisee of ``level``."""
    table = settings.REMOTE_CADENCE if kind == "remote" else settings.STATION_CADENCE
    return table[level]


def windows_between(settings, person, kind: str, start: datetime, end: datetime) -> list[Window]:
    """Return the windows of ``kind`` for ``person`` that overlap [start, end), in order."""
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    cadence = cadence_for(settings, kind, person.level)
    opens, closes = _clock_time(settings.CHECKIN_WINDOW_OPENS), _clock_time(settings.CHECKIN_WINDOW_CLOSES)
    day = max(start.astimezone(zone).date() - timedelta(days=1), person.supervision_start)
    last_day = min(end.astimezone(zone).date() + timedelta(days=1), person.supervision_end)
    found: list[Window] = []
    while day <= last_day:
        period_start, period_end = period_of(cadence, day)
        first = max(period_start, person.supervision_start)
        due = min(period_end, person.supervision_end)
        window = Window(kind=kind, key=f"{kind}:{period_start.isoformat()}", first_day=first,
                        due_day=due, opens_at=_at(first, opens, zone), closes_at=_at(due, closes, zone))
        if window.opens_at < window.closes_at and window.opens_at < end and window.closes_at > start:
            found.append(window)
        day = period_end + timedelta(days=1)
    return found


def window_open_at(settings, person, kind: str, at: datetime) -> Window | None:
    """Return the window of ``kind`` open at ``at``, if any."""
    for window in windows_between(settings, person, kind, at, at + timedelta(microseconds=1)):
        if window.is_open(at):
            return window
    return None


def upcoming_windows(settings, person, kind: str, at: datetime, count: int) -> list[Window]:
    """Return the window open at ``at`` (if any) and the next ones, ``count`` in all at most."""
    horizon = {"daily": 3, "weekly": 15, "monthly": 70, "bimonthly": 130}
    days = horizon[cadence_for(settings, kind, person.level)] * max(count, 1)
    return [w for w in windows_between(settings, person, kind, at, at + timedelta(days=days))
            if w.closes_at > at][:count]


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _at(day: date, clock_time: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=zone).astimezone(UTC)
