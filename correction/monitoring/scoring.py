"""Points that follow supervision: check-ins earn them, misses cost them, a clean week earns more.

Single events go through ``mall.points.award`` (capped, once per event ref); the set-based
penalties and awards claim their rows first and post with ``mall.points.post_set``, so two
schedulers running at once cannot charge or award anyone twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..alerts.models import Alert, MissedWindow
from ..checkins.period_windows import is_period_key
from ..events import CheckinAccepted
from ..mall.models import PointEntry, PointRule
from ..mall.points import award, post_set
from ..people.models import Supervisee

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
    """
    rule = session.get(PointRule, "missed_checkin")
    if rule is None or not rule.active or rule.points == 0:
        return 0
    claimed = session.execute(sa.update(MissedWindow).where(MissedWindow.penalized_at.is_(None))
                              .values(penalized_at=now), execution_options={"preserve_rowcount": True}).rowcount
    if not claimed:
        return 0
    mine = sa.and_(MissedWindow.penalized_at == now)
    post_set(session, sa.select(
        MissedWindow.supervisee_id, MissedWindow.office_id, sa.literal(rule.points), sa.literal("missed_checkin"),
        MissedWindow.window_key, sa.literal(rule.description), sa.literal(now, PointEntry.created_at.type)
    ).where(mine), "missed_checkin", now)
    return claimed


def award_compliant_week(session, settings, now: datetime) -> int:
    """Award the compliant_week rule to everyone fully compliant in the last complete ISO week."""
    rule = session.get(PointRule, "compliant_week")
    if rule is None or not rule.active or rule.points <= 0:
        return 0
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    local = now.astimezone(zone)
    this_monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = this_monday - timedelta(days=7), this_monday
    year, week, _ = start.isocalendar()
    ref = f"{year}-W{week:02d}"
    compliant = sa.select(
        Supervisee.id, Supervisee.office_id, sa.literal(rule.points), sa.literal("compliant_week"),
        sa.literal(ref), sa.literal(rule.description), sa.literal(now, PointEntry.created_at.type)
    ).where(
        Supervisee.status == "active", Supervisee.created_at < start,
        Supervisee.supervision_start <= start.date(), Supervisee.supervision_end >= (end - timedelta(days=1)).date(),
        ~sa.exists().where(MissedWindow.supervisee_id == Supervisee.id, MissedWindow.closes_at >= start,
                           MissedWindow.closes_at < end),
        ~sa.exists().where(Alert.supervisee_id == Supervisee.id, Alert.raised_at >= start, Alert.raised_at < end,
                           Alert.outcome.is_distinct_from("false_alarm")))
    return post_set(session, compliant, "compliant_week", now)
