"""What officers' robots are told: new serious alerts, escalations (office, then bureau), job failures,
and each office's daily digest.

Alerts are raised in many places, several of them set-based sweeps, so they are not announced where
they are raised: ``announce`` finds the alerts raised or escalated lately that have no message yet
(the message's ``dedupe_key`` is the marker) and queues one each. Texts are Chinese markdown with the
supervisee's name as the console shows it, the office, the alert's type, severity and local time:
no ID numbers, no coordinates, no phone numbers.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..alerts.models import Alert, MissedWindow
from ..notifications.models import OfficerMessage
from ..notifications.officers import tell_officers
from ..people.models import Bureau, Office, Supervisee
from ..time import TZDateTime

ALERT_TYPE_NAMES = {  # the console's words (correction/console: labels and their Chinese)
    "missed_checkin": "未按时报到", "missed_spot_check": "未响应点验", "signal_lost": "失联",
    "zone_exit": "离开活动区域", "exclusion_entry": "进入禁止区域", "mock_location": "虚拟定位",
    "impossible_movement": "异常移动", "leave_overdue": "请假逾期未归", "device_changed": "更换手机",
    "doubtful_checkin": "可疑报到", "delivery_failed": "通知未送达",
}
SEVERITY_NAMES = {"low": "低", "medium": "中", "high": "高", "critical": "紧急"}


def announce(session, settings, now: datetime) -> int:
    """Queue the robot messages of new serious alerts and of escalations; return how many were queued."""
    lookback = timedelta(minutes=settings.ROBOT_LOOKBACK_MINUTES)
    to_bureau = timedelta(minutes=settings.ROBOT_ESCALATE_TO_BUREAU_MINUTES)
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    queued = 0
    new = sa.and_(Alert.severity.in_(settings.ROBOT_ALERT_SEVERITIES), Alert.raised_at >= _at(now - lookback))
    for alert in _unannounced(session, "alert", new):
        queued += tell_officers(
            session, bureau_id=alert.bureau_id, office_id=alert.office_id, kind="alert_raised",
            title=f"新预警：{ALERT_TYPE_NAMES[alert.type]}", now=now, dedupe_key=f"alert:{alert.id}",
            text=_alert_text("#### 新预警（{severity}）", alert, zone, "请及时签收处理。"))
    escalated = sa.and_(Alert.escalated_at.is_not(None), Alert.escalated_at >= _at(now - lookback))
    for alert in _unannounced(session, "escalated", escalated):
        queued += tell_officers(
            session, bureau_id=alert.bureau_id, office_id=alert.office_id, kind="alert_escalated",
            title="预警超时未签收（请主管处理）", now=now, dedupe_key=f"escalated:{alert.id}",
            text=_alert_text("#### 预警超时未签收，请司法所主管处理（{severity}）", alert, zone,
                             "此消息发给本所主管：请督促签收。"))
    still_open = sa.and_(Alert.status == "open", Alert.escalated_at <= _at(now - to_bureau),
                         Alert.escalated_at > _at(now - to_bureau - lookback))
    for alert in _unannounced(session, "escalated-bureau", still_open):
        queued += tell_officers(
            session, bureau_id=alert.bureau_id, office_id=None, kind="alert_escalated_bureau",
            title=f"预警升级至区局：{alert.office_name}", now=now, dedupe_key=f"escalated-bureau:{alert.id}",
            text=_alert_text("#### 预警升级至区司法局：升级后仍未签收（{severity}）", alert, zone,
                             f"已超时升级 {settings.ROBOT_ESCALATE_TO_BUREAU_MINUTES} 分钟仍未签收。"))
    return queued


def report_job_failure(session, settings, *, job_id: str, error_type: str, started_at: datetime) -> int:
    """Tell every bureau's robot that a scheduled job failed (once per job and local hour).

    Only the job and the exception's type are sent: an exception's text may carry a query's values.
    """
    local = started_at.astimezone(ZoneInfo(settings.LOCAL_TIMEZONE))
    queued = 0
    for bureau_id in session.execute(sa.select(Bureau.id)).scalars():
        queued += tell_officers(
            session, bureau_id=bureau_id, office_id=None, kind="job_failed", title=f"定时任务失败：{job_id}",
            now=started_at, dedupe_key=f"job-failed:{job_id}:{bureau_id}:{local:%Y%m%d%H}",
            text=(f"#### 定时任务失败\n\n- 任务：{job_id}\n- 时间：{local:%Y-%m-%d %H:%M}\n- 错误类型：{error_type}\n\n"
                  "下次运行会重试；详情见 /jobs。"))
    return queued


def send_digests(session, settings, now: datetime) -> int:
    """Queue each open office's daily digest: open alerts by type and severity, those unacknowledged for
    ROBOT_DIGEST_UNACKNOWLEDGED_HOURS, and yesterday's (local) missed check-ins. Return how many."""
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    stale = now - timedelta(hours=settings.ROBOT_DIGEST_UNACKNOWLEDGED_HOURS)
    open_alerts = defaultdict(list)
    for office_id, type_, severity, count in session.execute(
            sa.select(Alert.office_id, Alert.type, Alert.severity, sa.func.count()).where(Alert.status != "resolved")
            .group_by(Alert.office_id, Alert.type, Alert.severity).order_by(Alert.type, Alert.severity)):
        open_alerts[office_id].append(f"  - {ALERT_TYPE_NAMES[type_]}（{SEVERITY_NAMES[severity]}）：{count}")
    unacknowledged = dict(session.execute(sa.select(Alert.office_id, sa.func.count()).where(
        Alert.status == "open", Alert.raised_at < _at(stale)).group_by(Alert.office_id)).all())
    missed = dict(session.execute(sa.select(MissedWindow.office_id, sa.func.count()).where(
        MissedWindow.closes_at >= _at(yesterday), MissedWindow.closes_at < _at(today)
    ).group_by(MissedWindow.office_id)).all())
    queued = 0
    for office_id, bureau_id, name in session.execute(sa.select(Office.id, Office.bureau_id, Office.name).where(
            Office.closed_at.is_(None)).order_by(Office.id)):
        lines = open_alerts.get(office_id) or ["  - 无"]
        queued += tell_officers(
            session, bureau_id=bureau_id, office_id=office_id, kind="daily_digest", title=f"每日汇总：{name}",
            now=now, dedupe_key=f"digest:{office_id}:{today:%Y-%m-%d}",
            text=(f"#### 每日汇总 {name} {today:%Y-%m-%d}\n\n- 未办结预警：\n" + "\n".join(lines) +
                  f"\n- 超过 {settings.ROBOT_DIGEST_UNACKNOWLEDGED_HOURS} 小时未签收：{unacknowledged.get(office_id, 0)}"
                  f"\n- 昨日未按时报到：{missed.get(office_id, 0)}"))
    return queued


def _unannounced(session, prefix: str, condition) -> list:
    """Alerts meeting ``condition`` that have no message with the key ``{prefix}:{id}`` yet."""
    key = sa.literal(f"{prefix}:") + sa.cast(Alert.id, sa.String)
    return session.execute(
        sa.select(Alert.id, Alert.type, Alert.severity, Alert.raised_at, Alert.office_id, Office.bureau_id,
                  Office.name.label("office_name"), Supervisee.name.label("supervisee_name"))
        .join(Office, Office.id == Alert.office_id).join(Supervisee, Supervisee.id == Alert.supervisee_id)
        .where(condition, ~sa.exists().where(OfficerMessage.dedupe_key == key)).order_by(Alert.id)).all()


def _alert_text(heading: str, alert, zone: ZoneInfo, closing: str) -> str:
    raised = alert.raised_at.astimezone(zone)
    return (f"{heading.format(severity=SEVERITY_NAMES[alert.severity])}\n\n"
            f"- 司法所：{alert.office_name}\n- 矫正对象：{alert.supervisee_name}\n"
            f"- 类型：{ALERT_TYPE_NAMES[alert.type]}\n- 发生时间：{raised:%Y-%m-%d %H:%M}\n- 预警编号：{alert.id}\n\n"
            f"{closing}")


def _at(moment: datetime):
    return sa.literal(moment, TZDateTime())
