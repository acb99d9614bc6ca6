"""The weekly compliance report, aggregated set-based in the database.

One query gives every supervisee's row (each measure is a grouped subquery joined to the
population); small grouped queries give the alert statistics, the daily series and the
eight-week trend. Python only sums the fetched rows into totals and ranks the attention list.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median
from typing import Any

import sqlalchemy as sa

from ..alerts.models import Alert, MissedWindow
from ..checkins.models import Checkin, SpotCheck
from ..locations.models import LocationFix
from ..mall.models import PointEntry
from ..people.models import Office, Supervisee
from ..time import TZDateTime, iso_z
from .weeks import Week

# The weekly figures are of the regular windows; a period of stepped-up supervision's extra windows
# (their check-ins and misses) are not counted in them yet.
_REGULAR_CHECKIN = sa.not_(Checkin.window_key.like("period:%"))
_REGULAR_MISS = MissedWindow.kind != "period"

BREACH_TYPES = ("zone_exit", "exclusion_entry")
MISS_TYPES = ("missed_checkin", "missed_spot_check")


def _at(value: datetime):
    return sa.literal(value, TZDateTime())


def _in(column, start: datetime, end: datetime):
    return sa.and_(column >= _at(start), column < _at(end))


def population(bureau_id: int, office_id: int | None, week: Week) -> sa.Select:
    """Supervisees of the scope under supervision at some point of the week."""
    offices = sa.select(Office.id).where(Office.bureau_id == bureau_id)
    if office_id is not None:
        offices = offices.where(Office.id == office_id)
    return sa.select(Supervisee.id).where(
        Supervisee.office_id.in_(offices), Supervisee.supervision_start < week.monday + timedelta(days=7),
        Supervisee.supervision_end >= week.monday, Supervisee.created_at < _at(week.end))


def _hour_bucket(session, column):
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.date_trunc("hour", column)
    return sa.func.strftime("%Y-%m-%d %H", column)


def _seconds_between(session, later, earlier):
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def supervisee_rows(session, settings, pop: sa.Select, week: Week) -> list[dict[str, Any]]:
    """Every supervisee's figures for the week, one query."""
    start, end = week.start, week.end
    ids = pop.subquery()

    def grouped(*columns, model, where):
        return (sa.select(model.supervisee_id.label("sid"), *columns)
                .where(model.supervisee_id.in_(sa.select(ids.c.id)), *where)
                .group_by(model.supervisee_id).subquery())

    def count_if(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    done = grouped(count_if(Checkin.kind == "remote").label("remote_done"),
                   count_if(Checkin.kind == "station").label("station_done"),
                   model=Checkin, where=[Checkin.outcome == "accepted", Checkin.kind != "spot", _REGULAR_CHECKIN,
                                         _in(Checkin.window_closes_at, start, end)])
    refused = grouped(sa.func.count().label("refused"), model=Checkin,
                      where=[Checkin.outcome == "refused", _in(Checkin.received_at, start, end)])
    missed = grouped(count_if(MissedWindow.kind == "remote").label("remote_missed"),
                     count_if(MissedWindow.kind == "station").label("station_missed"),
                     model=MissedWindow, where=[_in(MissedWindow.closes_at, start, end)])
    spots = grouped(sa.func.count().label("spot_requested"),
                    count_if(SpotCheck.status == "answered").label("spot_answered"),
                    model=SpotCheck, where=[_in(SpotCheck.requested_at, start, end)])
    alerts = grouped(sa.func.count().label("alerts"),
                     count_if(Alert.type.in_(BREACH_TYPES)).label("zone_breaches"),
                     model=Alert, where=[_in(Alert.raised_at, start, end)])
    unresolved_at_end = sa.and_(Alert.raised_at < _at(end),
                                sa.or_(Alert.resolved_at.is_(None), Alert.resolved_at >= _at(end)))
    standing = grouped(sa.func.count().label("unresolved"),
                       count_if(Alert.severity.in_(("high", "critical"))).label("serious"),
                       model=Alert, where=[unresolved_at_end])
    recent_miss = grouped(sa.func.count().label("recent_misses"), model=Alert, where=[
        Alert.type.in_(MISS_TYPES), _in(Alert.raised_at, end - timedelta(days=settings.STATUS_MISS_LOOKBACK_DAYS), end)])
    fixes = grouped(sa.func.count(sa.distinct(_hour_bucket(session, LocationFix.recorded_at))).label("fix_hours"),
                    model=LocationFix, where=[_in(LocationFix.recorded_at, start, end)])
    last_fix = grouped(sa.func.max(LocationFix.recorded_at).label("last_fix_at"), model=LocationFix,
                       where=[LocationFix.recorded_at < _at(end)])
    earned = sa.and_(PointEntry.delta > 0, PointEntry.event != "refund")
    spent = PointEntry.event.in_(("redemption", "refund"))
    pts = grouped(sa.func.sum(sa.case((earned, PointEntry.delta), else_=0)).label("points_earned"),
                  sa.func.sum(sa.case((spent, -PointEntry.delta), else_=0)).label("points_spent"),
                  model=PointEntry, where=[_in(PointEntry.created_at, start, end)])

    parts = (done, refused, missed, spots, alerts, standing, recent_miss, fixes, last_fix, pts)
    stmt = sa.select(Supervisee.id, Supervisee.name, Supervisee.office_id, Office.name.label("office_name"),
                     Supervisee.level, Supervisee.supervision_start, Supervisee.supervision_end, Supervisee.created_at,
                     *[c for part in parts for c in part.c if c.name != "sid"]
                     ).join(Office, Office.id == Supervisee.office_id).where(Supervisee.id.in_(sa.select(ids.c.id)))
    for part in parts:
        stmt = stmt.outerjoin(part, part.c.sid == Supervisee.id)
    rows = []
    for row in session.execute(stmt.order_by(Supervisee.office_id, Supervisee.id)).mappings():
        r = {k: (v or 0) if k not in ("last_fix_at", "name", "office_name", "level") else v for k, v in row.items()}
        expected = r["remote_done"] + r["remote_missed"] + r["station_done"] + r["station_missed"]
        done_total = r["remote_done"] + r["station_done"]
        hours = _supervised_hours(r, week)
        colour = "red" if r["serious"] else "yellow" if (r["unresolved"] or r["recent_misses"]) else "green"
        rows.append({
            "supervisee_id": r["id"], "name": r["name"], "office_id": r["office_id"], "office": r["office_name"],
            "level": r["level"],
            "remote_expected": r["remote_done"] + r["remote_missed"], "remote_done": r["remote_done"],
            "station_expected": r["station_done"] + r["station_missed"], "station_done": r["station_done"],
            "expected": expected, "done": done_total, "misses": r["remote_missed"] + r["station_missed"],
            "on_time_rate": round(done_total / expected, 4) if expected else None,
            "refused_checkins": r["refused"],
            "spot_requested": r["spot_requested"], "spot_answered": r["spot_answered"],
            "alerts": r["alerts"], "zone_breaches": r["zone_breaches"], "unresolved_alerts": r["unresolved"],
            "location_coverage": round(min(r["fix_hours"] / hours, 1.0), 4) if hours else None,
            "points_earned": r["points_earned"], "points_spent": r["points_spent"],
            "status_colour": colour,
            "last_fix_at": iso_z(r["last_fix_at"]) if r["last_fix_at"] else None,
        })
    return rows


def _supervised_hours(r: dict, week: Week) -> int:
    """Hours of the week the person was under supervision (and enrolled)."""
    from datetime import datetime as dt, time

    first = max(week.start, dt.combine(r["supervision_start"], time(0), tzinfo=week.zone), r["created_at"])
    last = min(week.end, dt.combine(r["supervision_end"] + timedelta(days=1), time(0), tzinfo=week.zone))
    return max(0, int((last - first).total_seconds() // 3600))


def alert_stats(session, pop: sa.Select, week: Week) -> list[dict[str, Any]]:
    """Per alert type: how many, how many acknowledged, median and worst time to acknowledge (s).

    PostgreSQL computes the median itself; SQLite has no percentile function, so there the
    week's acknowledgement times (one number per alert of the scope) are fetched and reduced.
    """
    wait = _seconds_between(session, Alert.acknowledged_at, Alert.raised_at)
    scope = sa.and_(Alert.supervisee_id.in_(pop), _in(Alert.raised_at, week.start, week.end))
    if session.get_bind().dialect.name == "postgresql":
        stats = session.execute(sa.select(
            Alert.type, sa.func.count(), sa.func.count(Alert.acknowledged_at),
            sa.func.percentile_cont(0.5).within_group(wait), sa.func.max(wait)
        ).where(scope).group_by(Alert.type).order_by(Alert.type)).all()
    else:
        waits: dict[str, list] = {}
        for type_, seconds in session.execute(sa.select(Alert.type, wait).where(scope)).all():
            waits.setdefault(type_, []).append(seconds)
        stats = [(t, len(v), len(known := [x for x in v if x is not None]),
                  median(known) if known else None, max(known, default=None)) for t, v in sorted(waits.items())]
    return [{"type": t, "count": n, "acknowledged": a, "median_ack_seconds": _round(m),
             "worst_ack_seconds": _round(w)} for t, n, a, m, w in stats]


def _round(value):
    return None if value is None else round(float(value), 1)


def daily_series(session, pop: sa.Select, week: Week) -> list[dict[str, Any]]:
    """Per local day of the week: windows due, done, missed."""
    bounds = [(day, week.start + timedelta(days=i), week.start + timedelta(days=i + 1))
              for i, day in enumerate(week.days())]
    done = session.execute(sa.select(*[
        sa.func.sum(sa.case((_in(Checkin.window_closes_at, a, b), 1), else_=0)) for _, a, b in bounds
    ]).where(Checkin.supervisee_id.in_(pop), Checkin.outcome == "accepted", Checkin.kind != "spot",
             _REGULAR_CHECKIN)).one()
    missed = session.execute(sa.select(*[
        sa.func.sum(sa.case((_in(MissedWindow.closes_at, a, b), 1), else_=0)) for _, a, b in bounds
    ]).where(MissedWindow.supervisee_id.in_(pop), _REGULAR_MISS)).one()
    return [{"date": day.isoformat(), "done": d or 0, "missed": m or 0,
             "rate": round((d or 0) / ((d or 0) + (m or 0)), 4) if (d or m) else None}
            for (day, _, _), d, m in zip(bounds, done, missed)]


def trend(session, pop_for, week: Week, weeks: int = 8) -> list[dict[str, Any]]:
    """On-time rate, misses and alerts for the ``weeks`` weeks ending with ``week``."""
    series = [week]
    while len(series) < weeks:
        series.insert(0, series[0].previous())
    out = []
    for w in series:
        pop = pop_for(w)
        done = session.execute(sa.select(sa.func.count()).where(
            Checkin.supervisee_id.in_(pop), Checkin.outcome == "accepted", Checkin.kind != "spot", _REGULAR_CHECKIN,
            _in(Checkin.window_closes_at, w.start, w.end))).scalar_one()
        missed = session.execute(sa.select(sa.func.count()).where(
            MissedWindow.supervisee_id.in_(pop), _REGULAR_MISS,
            _in(MissedWindow.closes_at, w.start, w.end))).scalar_one()
        alerts = session.execute(sa.select(sa.func.count()).where(
            Alert.supervisee_id.in_(pop), _in(Alert.raised_at, w.start, w.end))).scalar_one()
        out.append({"week": w.label, "expected": done + missed, "done": done, "misses": missed, "alerts": alerts,
                    "on_time_rate": round(done / (done + missed), 4) if done + missed else None})
    return out
