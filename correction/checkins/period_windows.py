"""The extra windows of stepped-up supervision (临时加强监管): per person, and set-based for sweeps.

On every day from ``starts_on`` to ``ends_on`` a period adds each of its windows (local times) to
every person it covers: of a listed office (none listed: any office of its bureau), of a listed
level (none listed: any), active, and under supervision that day. A period window is satisfied by
any accepted check-in the person made while it was open, whatever window that check-in was for,
so one check-in may meet a regular window and a period's. A cancelled period keeps only the windows
that closed before it was cancelled. Keys: ``period:<id>:<local date>:<n>`` (n from 1).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..people.models import LEVELS, Office, Supervisee
from ..time import TZDateTime
from .models import Checkin, SupervisionPeriod, SupervisionPeriodOffice
from .windows import Window, _at, _clock_time

PERIOD_KIND = "period"


def period_key(period_id: int, day: date, n: int) -> str:
    """The key of the ``n``-th window (from 1) of a period on local ``day``."""
    return f"{PERIOD_KIND}:{period_id}:{day.isoformat()}:{n}"


def is_period_key(key: str | None) -> bool:
    return bool(key) and key.startswith(PERIOD_KIND + ":")


def day_windows(settings, period: SupervisionPeriod, day: date) -> list[Window]:
    """The period's windows on local ``day`` (none outside its dates or after its cancellation)."""
    if not period.starts_on <= day <= period.ends_on:
        return []
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    found = []
    for n, span in enumerate(period.windows, start=1):
        opens_at = _at(day, _clock_time(span["opens"]), zone)
        closes_at = _at(day, _clock_time(span["closes"]), zone)
        if period.cancelled_at is not None and closes_at > period.cancelled_at:
            continue
        found.append(Window(kind=PERIOD_KIND, key=period_key(period.id, day, n), first_day=day, due_day=day,
                            opens_at=opens_at, closes_at=closes_at, period_id=period.id))
    return found


def periods_of(session, person, first_day: date, last_day: date) -> list[SupervisionPeriod]:
    """The periods that cover ``person`` (office and level) on some day of [first_day, last_day]."""
    listed = sa.select(SupervisionPeriodOffice.office_id).where(
        SupervisionPeriodOffice.period_id == SupervisionPeriod.id)
    found = session.execute(
        sa.select(SupervisionPeriod).join(Office, Office.bureau_id == SupervisionPeriod.bureau_id)
        .where(Office.id == person.office_id, SupervisionPeriod.starts_on <= last_day,
               SupervisionPeriod.ends_on >= first_day,
               sa.or_(~listed.exists(), sa.literal(person.office_id).in_(listed.scalar_subquery())))
        .order_by(SupervisionPeriod.id)).scalars()
    return [period for period in found if not period.levels or person.level in period.levels]


def period_windows_between(session, settings, person, start: datetime, end: datetime) -> list[Window]:
    """The person's period windows that overlap [start, end), in order of closing."""
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    first = max(start.astimezone(zone).date() - timedelta(days=1), person.supervision_start)
    last = min(end.astimezone(zone).date() + timedelta(days=1), person.supervision_end)
    if person.status != "active" or first > last:
        return []
    found = []
    for period in periods_of(session, person, first, last):
        day = max(first, period.starts_on)
        while day <= min(last, period.ends_on):
            found += [w for w in day_windows(settings, period, day) if w.opens_at < end and w.closes_at > start]
            day += timedelta(days=1)
    return sorted(found, key=lambda w: (w.closes_at, w.key))


def period_window_open_at(session, settings, person, at: datetime) -> Window | None:
    """The period window open at ``at`` for ``person``, if any (the earliest closing)."""
    for window in period_windows_between(session, settings, person, at, at + timedelta(microseconds=1)):
        if window.is_open(at):
            return window
    return None


def checkins_meeting(session, person_id: int, windows: list[Window]) -> dict[str, int]:
    """For each window met, the first accepted check-in made while it was open: {key: check-in id}."""
    if not windows:
        return {}
    made = session.execute(sa.select(Checkin.id, Checkin.received_at).where(
        Checkin.supervisee_id == person_id, Checkin.outcome == "accepted",
        Checkin.received_at >= min(w.opens_at for w in windows),
        Checkin.received_at < max(w.closes_at for w in windows)).order_by(Checkin.received_at)).all()
    met = {}
    for window in windows:
        first = next((checkin_id for checkin_id, at in made if window.is_open(at)), None)
        if first is not None:
            met[window.key] = first
    return met


@dataclass(frozen=True)
class PeriodClosing:
    """The period windows, of every period, that close at ``closes_at`` (on local ``day``).

    ``rows`` holds (level, office id, window key, opens_at), one per office and level covered:
    the same shape of work as a regular :class:`~.windows_sql.Closing`, joined on office and level.
    """

    day: date
    closes_at: datetime
    rows: tuple[tuple[str, int, str, datetime], ...]

    def table(self):
        """The rows as a derived table ``w`` (kind, level, office_id, key, opens_at)."""
        return sa.union_all(*(
            sa.select(sa.literal(PERIOD_KIND).label("kind"), sa.literal(level).label("level"),
                      sa.literal(office_id).label("office_id"), sa.literal(key).label("key"),
                      sa.literal(opens_at, TZDateTime()).label("opens_at"))
            for level, office_id, key, opens_at in self.rows)).subquery("w")

    def due(self, w):
        """Covered supervisees whose period window in ``w`` closes now with no check-in made in it."""
        return sa.and_(
            Supervisee.office_id == w.c.office_id,
            Supervisee.level == w.c.level,
            Supervisee.status == "active",
            Supervisee.supervision_start <= self.day,
            Supervisee.supervision_end >= self.day,
            Supervisee.created_at < self.closes_at,
            ~sa.exists().where(Checkin.supervisee_id == Supervisee.id, Checkin.outcome == "accepted",
                               Checkin.received_at >= w.c.opens_at,
                               Checkin.received_at < sa.literal(self.closes_at, TZDateTime())))


def period_closings_between(session, settings, start: datetime, end: datetime, *,
                            offset: timedelta = timedelta(0)) -> list[PeriodClosing]:
    """Return the period closings whose moment, shifted by ``offset``, falls in [start, end]."""
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    first = (start - offset).astimezone(zone).date() - timedelta(days=1)
    last = (end - offset).astimezone(zone).date() + timedelta(days=1)
    periods = session.execute(sa.select(SupervisionPeriod).where(
        SupervisionPeriod.starts_on <= last, SupervisionPeriod.ends_on >= first,
        sa.or_(SupervisionPeriod.cancelled_at.is_(None), SupervisionPeriod.cancelled_at > start - offset)
    ).order_by(SupervisionPeriod.id)).scalars().all()
    rows: dict[tuple[date, datetime], list] = defaultdict(list)
    for period in periods:
        offices = None
        day = max(first, period.starts_on)
        while day <= min(last, period.ends_on):
            for window in day_windows(settings, period, day):
                if start <= window.closes_at + offset <= end:
                    offices = offices if offices is not None else covered_office_ids(session, period)
                    rows[(day, window.closes_at)] += [(level, office_id, window.key, window.opens_at)
                                                      for office_id in offices for level in period.levels or LEVELS]
            day += timedelta(days=1)
    return [PeriodClosing(day, closes_at, tuple(found))
            for (day, closes_at), found in sorted(rows.items(), key=lambda item: item[0][1]) if found]


def covered_office_ids(session, period: SupervisionPeriod) -> list[int]:
    """The offices a period covers: those listed, or every office of its bureau."""
    listed = list(session.execute(sa.select(SupervisionPeriodOffice.office_id).where(
        SupervisionPeriodOffice.period_id == period.id).order_by(SupervisionPeriodOffice.office_id)).scalars())
    if listed:
        return listed
    return list(session.execute(sa.select(Office.id).where(Office.bureau_id == period.bureau_id)
                                .order_by(Office.id)).scalars())


def covered(session, period: SupervisionPeriod, *, on: date | None = None) -> sa.ColumnElement[bool]:
    """The condition on ``Supervisee`` of the people the period covers (on ``on``, or on any of its days)."""
    first, last = (on, on) if on is not None else (period.starts_on, period.ends_on)
    conditions = [Supervisee.status == "active", Supervisee.supervision_start <= last,
                  Supervisee.supervision_end >= first,
                  Supervisee.office_id.in_(covered_office_ids(session, period))]
    if period.levels:
        conditions.append(Supervisee.level.in_(period.levels))
    return sa.and_(*conditions)


def local_today(settings, now: datetime) -> date:
    return now.astimezone(ZoneInfo(settings.LOCAL_TIMEZONE)).date()

