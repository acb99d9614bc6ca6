"""Sweeps the scheduler runs: set-based, idempotent, catching up from stored watermarks.

Each takes (session, settings, now), flushes, and returns how many rows it touched; the
job runner commits. Re-running any of them, or running two at once, never duplicates an
alert: misses are recorded once in ``missed_windows`` and alerts are guarded by their
partial unique index.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..checkins.models import SpotCheck
from ..checkins.period_windows import period_closings_between
from ..checkins.windows_sql import closings_between
from ..database import insert_for, iso_utc_text, json_object
from ..leave.models import LeaveRequest
from ..locations.models import LocationFix
from ..notifications.models import Notification
from ..notifications.service import wake_dispatcher
from ..people.models import Device, Supervisee
from ..scheduler_state import advance_watermark, watermark
from ..time import TZDateTime, iso_z
from ..alerts.models import Alert, MissedWindow
from .alert_notices import tell_alerts_raised

_UNRESOLVED = sa.text("status <> 'resolved'")
_ALERT_COLUMNS = ["supervisee_id", "office_id", "type", "severity", "subject_key", "evidence", "status",
                  "raised_at"]


def _at(value: datetime):
    return sa.literal(value, TZDateTime())


def _never_alerted(type_: str, supervisee_id, subject_key):
    """No alert of this type and subject ever, resolved or not: one episode, one alert."""
    return ~sa.exists().where(Alert.supervisee_id == supervisee_id, Alert.type == type_,
                              Alert.subject_key == subject_key)


def _insert_alerts(session, now: datetime, select: sa.Select) -> int:
    """Raise the alerts ``select`` yields (raised at ``now``) and tell their supervisees."""
    insert = insert_for(session)
    stmt = insert(Alert).from_select(_ALERT_COLUMNS, select).on_conflict_do_nothing(
        index_elements=["supervisee_id", "type", "subject_key"], index_where=_UNRESOLVED)
    raised = session.execute(stmt.returning(Alert.id, Alert.supervisee_id, Alert.type)).all()
    tell_alerts_raised(session, raised, now)
    return len(raised)


def _rowcount(session, stmt) -> int:
    return session.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount


def _all_closings(session, settings, start: datetime, end: datetime, *, offset: timedelta = timedelta(0)):
    """The regular closings and those of periods of stepped-up supervision, in order of closing."""
    return sorted(closings_between(settings, start, end, offset=offset)
                  + period_closings_between(session, settings, start, end, offset=offset),
                  key=lambda closing: closing.closes_at)


def sweep_missed_checkins(session, settings, now: datetime) -> int:
    """Record every window that closed unsatisfied since the watermark, and alert on each once.

    One statement per closing moment covers every supervisee and kind, and the extra windows
    of periods of stepped-up supervision closing then (one more statement per such moment). On PostgreSQL the miss
    and its alert are written by one data-modifying CTE; SQLite, which has none, records the
    misses and then alerts on those not yet alerted. Returns the misses recorded.
    """
    since = watermark(session, "missed_checkins",
                      now - timedelta(hours=settings.SWEEP_FIRST_LOOKBACK_HOURS))
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = insert_for(session)
    severity = sa.literal(settings.ALERT_SEVERITY["missed_checkin"])
    recorded = 0
    for closing in _all_closings(session, settings, since, now):
        w = closing.table()
        misses = insert(MissedWindow).from_select(
            ["supervisee_id", "office_id", "kind", "window_key", "closes_at", "detected_at", "alerted"],
            sa.select(Supervisee.id, Supervisee.office_id, w.c.kind, w.c.key, _at(closing.closes_at), _at(now),
                      sa.literal(postgres)).select_from(Supervisee).join(w, sa.true()).where(closing.due(w))
        ).on_conflict_do_nothing(index_elements=["supervisee_id", "window_key"])
        if not postgres:
            recorded += _rowcount(session, misses)
            _tell_missed(session, settings, closing.closes_at, now)
            continue
        new = misses.returning(MissedWindow.supervisee_id, MissedWindow.office_id, MissedWindow.kind,
                               MissedWindow.window_key).cte("misses")
        recorded += _insert_alerts(session, now, sa.select(
            new.c.supervisee_id, new.c.office_id, sa.literal("missed_checkin"), severity, new.c.window_key,
            json_object(session, window_key=new.c.window_key, kind=new.c.kind,
                        closes_at=sa.literal(iso_z(closing.closes_at))),
            sa.literal("open"), _at(now)))
        _tell_missed(session, settings, closing.closes_at, now)
    if not postgres:
        unalerted = MissedWindow.alerted.is_(False)
        _insert_alerts(session, now, sa.select(
            MissedWindow.supervisee_id, MissedWindow.office_id, sa.literal("missed_checkin"), severity,
            MissedWindow.window_key,
            json_object(session, window_key=MissedWindow.window_key, kind=MissedWindow.kind,
                        closes_at=iso_utc_text(session, MissedWindow.closes_at)),
            sa.literal("open"), _at(now)).where(unalerted))
        session.execute(sa.update(MissedWindow).where(unalerted).values(alerted=True))
    advance_watermark(session, "missed_checkins", now)
    return recorded


def _tell_missed(session, settings, closes_at: datetime, now: datetime) -> None:
    """Queue a notice for each window closing at ``closes_at`` that this sweep recorded as missed."""
    local = closes_at.astimezone(ZoneInfo(settings.LOCAL_TIMEZONE))
    told = _rowcount(session, insert_for(session)(Notification).from_select(
        ["supervisee_id", "kind", "title", "body", "data", "dedupe_key", "created_at"],
        sa.select(MissedWindow.supervisee_id, sa.literal("missed_window"), sa.literal("未按时签到 Missed check-in"),
                  sa.literal(f"{local:%m-%d %H:%M} 截止的签到未完成，请在APP中说明原因。"
                             f" A check-in window closed at {local:%H:%M} without your check-in:"
                             " explain why in the app."),
                  json_object(session, window_key=MissedWindow.window_key, kind=MissedWindow.kind,
                              closes_at=sa.literal(iso_z(closes_at))),
                  sa.literal("missed:") + sa.cast(MissedWindow.supervisee_id, sa.String) + sa.literal(":")
                  + MissedWindow.window_key, _at(now))
        .where(MissedWindow.closes_at == _at(closes_at), MissedWindow.detected_at == _at(now))
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]))
    if told:
        wake_dispatcher(session)


def sweep_missed_spot_checks(session, settings, now: datetime) -> int:
    """Alert on spot checks whose time ran out unanswered, and mark them missed."""
    overdue = sa.and_(SpotCheck.status == "pending", SpotCheck.due_at <= now)
    _insert_alerts(session, now, sa.select(
        SpotCheck.supervisee_id, SpotCheck.office_id, sa.literal("missed_spot_check"),
        sa.literal(settings.ALERT_SEVERITY["missed_spot_check"]),
        sa.literal("spot:") + sa.cast(SpotCheck.id, sa.String),
        json_object(session, spot_check_id=SpotCheck.id, due_at=iso_utc_text(session, SpotCheck.due_at)),
        sa.literal("open"), _at(now)).where(overdue))
    return _rowcount(session, sa.update(SpotCheck).where(overdue).values(status="missed"))


def sweep_signal_lost(session, settings, now: datetime) -> int:
    """Alert (失联) on active supervisees with no fix for their level's limit, unless on leave."""
    last_fix_at = (sa.select(sa.func.max(LocationFix.recorded_at))
                   .where(LocationFix.supervisee_id == Supervisee.id).scalar_subquery())
    last_fix_id = (sa.select(sa.func.max(LocationFix.id))
                   .where(LocationFix.supervisee_id == Supervisee.id).scalar_subquery())
    cutoff = sa.case({level: _at(now - timedelta(hours=hours))
                      for level, hours in settings.SIGNAL_LOST_HOURS.items()}, value=Supervisee.level)
    on_leave = sa.exists().where(LeaveRequest.supervisee_id == Supervisee.id, LeaveRequest.status == "approved",
                                 LeaveRequest.start_at <= now, LeaveRequest.end_at >= now)
    silent_since = sa.func.coalesce(last_fix_at, Supervisee.created_at)
    subject = sa.literal("signal:") + sa.func.coalesce(sa.cast(last_fix_id, sa.String), "never")

    def phone(column):  # what the bound phone last sent that was refused: silent, or misconfigured?
        return sa.select(column).where(Device.supervisee_id == Supervisee.id, Device.active).scalar_subquery()
    return _insert_alerts(session, now, sa.select(
        Supervisee.id, Supervisee.office_id, sa.literal("signal_lost"),
        sa.literal(settings.ALERT_SEVERITY["signal_lost"]), subject,
        json_object(session, last_fix_at=iso_utc_text(session, last_fix_at),
                    silent_since=iso_utc_text(session, silent_since), level=Supervisee.level,
                    last_refusal=phone(Device.last_refusal),
                    last_refusal_at=iso_utc_text(session, phone(Device.last_refusal_at))),
        sa.literal("open"), _at(now)
    ).where(Supervisee.status == "active", Supervisee.supervision_start <= now.date(),
            silent_since < cutoff, ~on_leave, _never_alerted("signal_lost", Supervisee.id, subject)))


def sweep_leave_overdue(session, settings, now: datetime) -> int:
    """Alert on approved leave whose end has passed without a return check-in (销假)."""
    subject = sa.literal("leave:") + sa.cast(LeaveRequest.id, sa.String)
    return _insert_alerts(session, now, sa.select(
        LeaveRequest.supervisee_id, LeaveRequest.office_id, sa.literal("leave_overdue"),
        sa.literal(settings.ALERT_SEVERITY["leave_overdue"]), subject,
        json_object(session, leave_request_id=LeaveRequest.id, end_at=iso_utc_text(session, LeaveRequest.end_at),
                    destination=LeaveRequest.destination_name),
        sa.literal("open"), _at(now)).where(LeaveRequest.status == "approved", LeaveRequest.end_at < now,
                                            _never_alerted("leave_overdue", LeaveRequest.supervisee_id, subject)))


def escalate_unacknowledged(session, settings, now: datetime) -> int:
    """Escalate open alerts nobody acknowledged within their severity's SLA to the bureau."""
    deadline = sa.case({severity: _at(now - timedelta(minutes=minutes))
                        for severity, minutes in settings.ALERT_ACK_SLA_MINUTES.items()}, value=Alert.severity)
    return _rowcount(session, sa.update(Alert).where(
        Alert.status == "open", Alert.escalated_at.is_(None), Alert.raised_at < deadline
    ).values(escalated_at=now))


def send_window_reminders(session, settings, now: datetime) -> int:
    """Remind supervisees whose window closes soon and is still unsatisfied (once per window)."""
    lead = timedelta(minutes=settings.REMINDER_MINUTES_BEFORE_CLOSE)
    since = watermark(session, "reminders", now - lead)
    insert = insert_for(session)
    sent = 0
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    for closing in _all_closings(session, settings, since, now, offset=-lead):
        if closing.closes_at <= now:
            continue
        w = closing.table()
        select = sa.select(
            Supervisee.id, sa.literal("reminder"), sa.literal("签到提醒 Check-in reminder"),
            sa.literal(f"A check-in closes at {closing.closes_at.astimezone(zone):%H:%M} today."),
            json_object(session, window_key=w.c.key, kind=w.c.kind,
                        closes_at=sa.literal(iso_z(closing.closes_at))),
            sa.literal("reminder:") + sa.cast(Supervisee.id, sa.String) + sa.literal(":") + w.c.key, _at(now),
            _at(closing.closes_at)
        ).select_from(Supervisee).join(w, sa.true()).where(closing.due(w))
        stmt = insert(Notification).from_select(
            ["supervisee_id", "kind", "title", "body", "data", "dedupe_key", "created_at", "expires_at"], select
        ).on_conflict_do_nothing(index_elements=["dedupe_key"])
        sent += _rowcount(session, stmt)
    if sent:
        wake_dispatcher(session)
    advance_watermark(session, "reminders", now)
    return sent
