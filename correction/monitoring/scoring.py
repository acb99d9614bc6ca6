"""Points that follow supervision: check-ins earn them, misses cost them, a clean week earns more.

Single events go through ``mall.points.award`` (capped, once per event ref); the set-based
penalties and awards claim their rows first and post with ``mall.points.post_set``, so two
schedulers running at once cannot charge or award anyone twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..alerts.models import Alert, MissedWindow
from ..checkins.period_windows import is_period_key
from ..events import CheckinAccepted
from ..mall.models import PointEntry, PointRuleVersion
from ..mall.points import award, post_set
from ..mall.rules import in_force_id
from ..people.models import Office, Supervisee

# The point rule each kind of accepted check-in earns.
CHECKIN_POINTS = {"remote": "checkin_remote", "station": "checkin_station", "spot": "spot_check_passed"}


def award_checkin(session, settings, checkin: CheckinAccepted) -> None:
    """Post the points an accepted check-in earns (once per check-in).

    A check-in made only for a period of stepped-up supervision earns nothing: the extra windows
    are a duty of the period, and a check-in that also meets a regular window earns as usual.
    """
    if is_period_key(checkin.window_key):
        return
    award(session, settings, supervisee_id=checkin.supervisee_id, office_id=checkin.office_id,
          event=CHECKIN_POINTS[checkin.kind], event_ref=f"checkin:{checkin.checkin_id}", now=checkin.at)


def apply_missed_checkin_penalties(session, settings, now: datetime) -> int:
    """Deduct the missed_checkin rule's points for every miss not yet penalised (set-based).

    Misses are claimed first (penalized_at = now), so two runs at once cannot both charge one.
    Each miss is charged by the version in force in its bureau when its window closed, however
    late the sweep runs; a miss whose version is inactive is claimed and costs nothing.
    """
    claimed = session.execute(sa.update(MissedWindow).where(MissedWindow.penalized_at.is_(None))
                              .values(penalized_at=now), execution_options={"preserve_rowcount": True}).rowcount
    if not claimed:
        return 0
    version = aliased(PointRuleVersion)
    post_set(session, sa.select(
        MissedWindow.supervisee_id, MissedWindow.office_id, version.points, sa.literal("missed_checkin"),
        MissedWindow.window_key, version.description, sa.literal(now, PointEntry.created_at.type), version.id
    ).select_from(MissedWindow).join(Office, Office.id == MissedWindow.office_id).join(
        version, version.id == in_force_id("missed_checkin", Office.bureau_id, MissedWindow.closes_at)
    ).where(MissedWindow.penalized_at == now, version.active, version.points != 0), "missed_checkin", now)
    return claimed


def award_compliant_week(session, settings, now: datetime) -> int:
    """Award the compliant_week rule to everyone fully compliant in the last complete ISO week.

    The week is scored by the version in force in the person's bureau on its Monday: the rule
    that stood when the week began.
    """
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    local = now.astimezone(zone)
    this_monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = this_monday - timedelta(days=7), this_monday
    year, week, _ = start.isocalendar()
    ref = f"{year}-W{week:02d}"
    version = aliased(PointRuleVersion)
    week_began = sa.literal(start, PointRuleVersion.effective_at.type)
    compliant = sa.select(
        Supervisee.id, Supervisee.office_id, version.points, sa.literal("compliant_week"),
        sa.literal(ref), version.description, sa.literal(now, PointEntry.created_at.type), version.id
    ).select_from(Supervisee).join(Office, Office.id == Supervisee.office_id).join(
        version, version.id == in_force_id("compliant_week", Office.bureau_id, week_began)
    ).where(
        version.active, version.points > 0,
        Supervisee.status == "active", Supervisee.created_at < start,
        Supervisee.supervision_start <= start.date(), Supervisee.supervision_end >= (end - timedelta(days=1)).date(),
        ~sa.exists().where(MissedWindow.supervisee_id == Supervisee.id, MissedWindow.closes_at >= start,
                           MissedWindow.closes_at < end),
        ~sa.exists().where(Alert.supervisee_id == Supervisee.id, Alert.raised_at >= start, Alert.raised_at < end,
                           Alert.outcome.is_distinct_from("false_alarm")))
    return post_set(session, compliant, "compliant_week", now)
