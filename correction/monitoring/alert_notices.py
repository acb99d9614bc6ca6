"""Telling a supervisee of an alert that asks them for an explanation, in the alert's transaction.

One notice per alert (its dedupe key is the alert's id), never with coordinates or ID numbers.
A missed check-in is told by the sweep's own ``missed_window`` notice, so it is not told twice.
"""
from __future__ import annotations

from datetime import datetime

from ..alerts.models import Alert
from ..alerts.workflow import ASKS_SUPERVISEE
from ..database import insert_for
from ..notifications.models import Notification
from ..notifications.service import notify, wake_dispatcher

KIND = "alert_raised"
_ASK = "请在APP中说明情况。 Please explain what happened in the app."
TITLES = {
    "missed_spot_check": "未按时应答点验 Spot check not answered",
    "signal_lost": "定位信号中断 Location reports stopped",
    "zone_exit": "离开活动范围 Left the permitted area",
    "exclusion_entry": "进入禁止区域 Entered an exclusion zone",
    "leave_overdue": "请假逾期未归 Not back from leave",
    "mock_location": "疑似虚拟定位 Location looks simulated",
    "impossible_movement": "位置异常跳变 Location jumped impossibly",
    "doubtful_checkin": "签到存疑 A check-in needs explaining",
}
TOLD = tuple(type_ for type_ in ASKS_SUPERVISEE if type_ in TITLES)  # missed_checkin: the missed_window notice


def _dedupe_key(alert_id) -> str:
    return f"alert:{alert_id}"


def tell_alert(session, alert: Alert) -> None:
    """Queue the notice of one alert just raised (nothing for a type that asks nothing)."""
    if alert.type in TOLD:
        notify(session, supervisee_id=alert.supervisee_id, kind=KIND, title=TITLES[alert.type], body=_ASK,
               now=alert.raised_at, data={"alert_id": alert.id, "type": alert.type},
               dedupe_key=_dedupe_key(alert.id))


def tell_alerts_raised(session, raised, now: datetime) -> None:
    """Queue the notices of the alerts a sweep just raised (its RETURNING rows: id, supervisee, type)."""
    rows = [dict(supervisee_id=supervisee_id, kind=KIND, title=TITLES[type_], body=_ASK,
                 data={"alert_id": alert_id, "type": type_}, dedupe_key=_dedupe_key(alert_id), created_at=now)
            for alert_id, supervisee_id, type_ in raised if type_ in TOLD]
    if rows:
        session.execute(insert_for(session)(Notification).values(rows).on_conflict_do_nothing(
            index_elements=["dedupe_key"]))
        wake_dispatcher(session)
