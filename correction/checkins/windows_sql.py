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
    """Windows of one kind that close at ``closes_at`` (20:00 local on ``day`` by default)."""

    kind: str
    day: date
    closes_at: datetime
    keys: dict[str, str]  # level -> window key of the period containing ``day``
    ending_levels: tuple[str, ...]  # levels whose period ends on ``day``

    def key_expr(self):
        return sa.case(self.keys, value=Supervisee.level)

    def population(self):
        """Active supervisees whose window of this kind closes at this moment."""
        return sa.and_(
            Supervisee.status == "active",
            Supervisee.supervision_start <= self.day,
            Supervisee.created_at < self.closes_at,
            sa.or_(sa.and_(Supervisee.level.in_(self.ending_levels), Supervisee.supervision_end >= self.day),
                   Supervisee.supervision_end == self.day))

    def unsatisfied(self):
        """No accepted check-in in the supervisee's window."""
        return ~sa.exists().where(Checkin.supervisee_id == Supervisee.id, Checkin.outcome == "accepted",
                                  Checkin.window_key == self.key_expr())


def closings_between(settings, start: datetime, end: datetime, *, offset: timedelta = timedelta(0)) -> list[Closing]:
    """Return the closings whose moment, shifted by ``offset``, falls in [start, end]."""
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    closes = _clock_time(settings.CHECKIN_WINDOW_CLOSES)
    found = []
    day = (start - offset).astimezone(zone).date() - timedelta(days=1)
    while day <= (end - offset).astimezone(zone).date() + timedelta(days=1):
        closes_at = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
        if start <= closes_at + offset <= end:
            for kind in WINDOW_KINDS:
                keys, ending = {}, []
                for level in LEVELS:
                    first, last = period_of(cadence_for(settings, kind, level), day)
                    keys[level] = f"{kind}:{first.isoformat()}"
                    if last == day:
                        ending.append(level)
                found.append(Closing(kind, day, closes_at, keys, tuple(ending)))
        day += timedelta(days=1)
    return found
