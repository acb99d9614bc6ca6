"""Assemble, store and load weekly reports."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..database import insert_for
from ..people.models import Bureau, Office
from ..time import iso_z
from . import builder
from .models import WeeklyReport
from .weeks import Week

TOTALLED = ("expected", "done", "misses", "remote_expected", "remote_done", "station_expected", "station_done",
            "refused_checkins", "spot_requested", "spot_answered", "alerts", "zone_breaches", "unresolved_alerts",
            "points_earned", "points_spent")


def build_report(session, settings, *, bureau_id: int, office_id: int | None, week: Week, now: datetime,
                 progress=None) -> dict[str, Any]:
    """Return the report of ``week`` for one office, or the bureau when ``office_id`` is None."""
    step = progress or (lambda label: None)
    bureau = session.get(Bureau, bureau_id)
    office = session.get(Office, office_id) if office_id is not None else None
    pop = builder.population(bureau_id, office_id, week)
    step("supervisees")
    rows = builder.supervisee_rows(session, settings, pop, week)
    step("alerts")
    alerts = builder.alert_stats(session, pop, week)
    step("daily series")
    daily = builder.daily_series(session, pop, week)
    step("eight-week trend")
    trend = builder.trend(session, lambda w: builder.population(bureau_id, office_id, w), week)
    totals = _totals(rows)
    previous = trend[-2] if len(trend) > 1 else None
    change = None if previous is None else {
        key: _diff(totals.get(key), previous.get(key)) for key in ("expected", "done", "misses", "alerts", "on_time_rate")}
    return {
        "title": f"{office.name if office else bureau.name} 社区矫正周报 Weekly compliance report {week.label}",
        "bureau": {"id": bureau.id, "name": bureau.name},
        "office": {"id": office.id, "name": office.name} if office else None,
        "week": week.label, "from": week.monday.isoformat(), "to": week.days()[-1].isoformat(),
        "timezone": str(week.zone), "provisional": now < week.end, "generated_at": iso_z(now),
        "totals": totals, "change_from_previous_week": change, "previous_week": previous,
        "daily": daily, "trend": trend, "alerts_by_type": alerts,
        "attention": _attention(rows, week), "supervisees": rows,
    }


def _totals(rows: list[dict]) -> dict[str, Any]:
    totals: dict[str, Any] = {"supervisees": len(rows)}
    for key in TOTALLED:
        totals[key] = sum(r[key] for r in rows)
    totals["on_time_rate"] = round(totals["done"] / totals["expected"], 4) if totals["expected"] else None
    coverage = [r["location_coverage"] for r in rows if r["location_coverage"] is not None]
    totals["location_coverage"] = round(sum(coverage) / len(coverage), 4) if coverage else None
    for colour in ("green", "yellow", "red"):
        totals[f"status_{colour}"] = sum(1 for r in rows if r["status_colour"] == colour)
    return totals


def _diff(now_value, before):
    if now_value is None or before is None:
        return None
    return round(now_value - before, 4)


def _attention(rows: list[dict], week: Week, top: int = 5) -> dict[str, list]:
    """Who needs a look: most misses, most unresolved alerts, longest out of contact."""
    def pick(key, rows_, value):
        return [{"supervisee_id": r["supervisee_id"], "name": r["name"], "office": r["office"], key: value(r)}
                for r in rows_[:top]]

    by_misses = sorted((r for r in rows if r["misses"]), key=lambda r: (-r["misses"], r["supervisee_id"]))
    by_alerts = sorted((r for r in rows if r["unresolved_alerts"]), key=lambda r: (-r["unresolved_alerts"], r["supervisee_id"]))
    end = iso_z(week.end)
    silent = sorted(rows, key=lambda r: (r["last_fix_at"] or "", r["supervisee_id"]))
    return {
        "most_misses": pick("misses", by_misses, lambda r: r["misses"]),
        "unresolved_alerts": pick("unresolved_alerts", by_alerts, lambda r: r["unresolved_alerts"]),
        "out_of_contact_longest": pick("last_fix_at", [r for r in silent if (r["last_fix_at"] or "") < end],
                                       lambda r: r["last_fix_at"]),
    }


def store(session, report: dict[str, Any], *, bureau_id: int, office_id: int | None, now: datetime) -> None:
    """Keep the report; building the same week again replaces it."""
    scope = f"office:{office_id}" if office_id is not None else f"bureau:{bureau_id}"
    insert = insert_for(session)
    stmt = insert(WeeklyReport).values(scope=scope, bureau_id=bureau_id, office_id=office_id, week=report["week"],
                                       provisional=report["provisional"], built_at=now, data=report)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["scope", "week"],
        set_={"provisional": stmt.excluded.provisional, "built_at": stmt.excluded.built_at, "data": stmt.excluded.data}))


def stored(session, *, bureau_id: int, office_id: int | None, week: str) -> dict[str, Any] | None:
    scope = f"office:{office_id}" if office_id is not None else f"bureau:{bureau_id}"
    row = session.execute(sa.select(WeeklyReport).where(WeeklyReport.scope == scope, WeeklyReport.week == week)
                          ).scalar_one_or_none()
    return None if row is None or row.provisional else row.data


def build_all(session, settings, now: datetime, week: Week) -> int:
    """Build and store the week's report for every office and every bureau; return how many."""
    count = 0
    for bureau_id, in session.execute(sa.select(Bureau.id).order_by(Bureau.id)).all():
        offices = session.execute(sa.select(Office.id).where(Office.bureau_id == bureau_id).order_by(Office.id)).scalars()
        for office_id in [*offices, None]:
            report = build_report(session, settings, bureau_id=bureau_id, office_id=office_id, week=week, now=now)
            store(session, report, bureau_id=bureau_id, office_id=office_id, now=now)
            count += 1
    return count
