"""ISO weeks in local time: Monday 00:00 to the next Monday 00:00."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..time import EARLIEST, LATEST, UTC

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    label: str  # "2026-W47"
    monday: date
    start: datetime  # UTC instant of Monday 00:00 local
    end: datetime  # UTC instant of the next Monday 00:00 local
    zone: ZoneInfo

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def previous(self) -> "Week":
        return week_of(self.monday - timedelta(days=7), self.zone)


def parse_week(label: str, zone: ZoneInfo) -> Week:
    """Return the week named ``YYYY-Www``; ValueError if there is no such ISO week."""
    match = _WEEK.match(label)
    if not match:
        raise ValueError("week must look like 2026-W47")
    year = int(match.group(1))
    # a report reaches back 8 weeks for its trend, and a week's end is the next Monday
    if not EARLIEST.year < year < LATEST.year - 1:
        raise ValueError(f"week must lie between {EARLIEST.year + 1} and {LATEST.year - 2}")
    monday = date.fromisocalendar(year, int(match.group(2)), 1)
    return week_of(monday, zone)


def week_of(day: date, zone: ZoneInfo) -> Week:
    monday = day - timedelta(days=day.weekday())
    year, number, _ = monday.isocalendar()
    start = datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone).astimezone(UTC)
    return Week(f"{year}-W{number:02d}", monday, start, end, zone)


def last_complete_week(now: datetime, zone: ZoneInfo) -> Week:
    return week_of(now.astimezone(zone).date(), zone).previous()
