"""The set-based side of windows: which supervisees have a window closing at a given moment.

Sweeps work on closing moments, not on supervisees: for each local day whose closing time
falls in the range they catch up on, one INSERT ... SELECT per window kind covers everybody.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..people.models import LEVELS, Supervisee
from ..time import UTC
from .models import Checkin
from .windows import WINDOW_KINDS, _clock_time, cadence_for, period_of


@dataclass(frozen=True)
class Closing:
    """The windows, of every kind and level, that close at ``closes_at`` (20:00 local on ``day``).

    ``rows`` holds (kind, level, window key, whether the level's period ends on ``day``). A
    window also closes on ``day`` when the supervision ends that day, whatever the period.
    """

    day: date
    closes_at: datetime
    rows: tuple[tuple[str, str, str, bool], ...]

    def table(self):
        """The rows as a derived table ``w`` (kind, level, key, ends), to join on the level.

        A UNION ALL of literal rows rather than VALUES: SQLite cannot name VALUES columns.
        """
        return sa.union_all(*(
            sa.select(sa.literal(kind).label("kind"), sa.literal(level).label("level"),
                      sa.literal(key).label("key"), sa.literal(ends).label("ends"))
            for kind, level, key, ends in self.rows)).subquery("w")

    def due(self, w):
        """Supervisees whose window in ``w`` closes now and is still unsatisfied."""
        return sa.and_(
            Supervisee.level == w.c.level,
            Supervisee.status == "active",
            Supervisee.supervision_start <= self.day,
            Supervisee.created_at < self.closes_at,
            sa.or_(sa.and_(w.c.ends, Supervisee.supervision_end >= self.day),
                   Supervisee.supervision_end == self.day),
            ~sa.exists().where(Checkin.supervisee_id == Supervisee.id, Checkin.outcome == "accepted",
                               Checkin.window_key == w.c.key))


def closings_between(settings, start: datetime, end: datetime, *, offset: timedelta = timedelta(0)) -> list[Closing]:
    """Return the closings whose moment, shifted by ``offset``, falls in [start, end]."""
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    closes = _clock_time(settings.CHECKIN_WINDOW_CLOSES)
    found = []
    day = (start - offset).astimezone(zone).date() - timedelta(days=1)
    while day <= (end - offset).astimezone(zone).date() + timedelta(days=1):
        closes_at = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
        if start <= closes_at + offset <= end:
            rows = []
            for kind in WINDOW_KINDS:
                for level in LEVELS:
                    first, last = period_of(cadence_for(settings, kind, level), day)
                    rows.append((kind, level, f"{kind}:{first.isoformat()}", last == day))
            found.append(Closing(day, closes_at, tuple(rows)))
        day += timedelta(days=1)
    return found
