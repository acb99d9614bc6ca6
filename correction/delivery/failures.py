"""Notices that did not get through become a ``delivery_failed`` alert in the office's queue.

A notice counts when it is older than DELIVERY_FAILED_ALERT_AFTER_MINUTES (the text fallback has
had its chance), was read on no phone and delivered on no channel, and at least one of its
deliveries failed for good or is still waiting. One alert per supervisee, kind of notice and
local day, however many notices: the subject is ``{kind}:{day}``, and a day's alert once resolved
is not raised again.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..alerts.models import Alert
from ..alerts.service import raise_alert
from ..notifications.models import Notification
from ..people.models import Supervisee
from ..time import TZDateTime
from .models import DELIVERED, EXPIRED, Delivery

TYPE = "delivery_failed"


def raise_delivery_failures(session, settings, now: datetime) -> int:
    """Raise the day's ``delivery_failed`` alerts for notices that did not reach their phone; return how many."""
    late = now - timedelta(minutes=settings.DELIVERY_FAILED_ALERT_AFTER_MINUTES)
    since = late - timedelta(days=1)  # older ones were judged by earlier runs
    delivered = sa.orm.aliased(Delivery)
    at = lambda moment: sa.literal(moment, TZDateTime())  # noqa: E731
    rows = session.execute(
        sa.select(Notification.supervisee_id, Supervisee.office_id, Notification.kind, Notification.created_at,
                  Delivery.channel, Delivery.last_error)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Supervisee, Supervisee.id == Notification.supervisee_id)
        .where(Delivery.state.not_in((DELIVERED, EXPIRED)), Notification.created_at < at(late),
               Notification.created_at >= at(since), Notification.read_at.is_(None),
               ~sa.exists().where(delivered.notification_id == Notification.id, delivered.state == DELIVERED))
        .order_by(Notification.id, Delivery.id)).all()
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    groups: dict[tuple[int, int, str], dict] = defaultdict(lambda: {"notices": 0, "errors": {}})
    for supervisee_id, office_id, kind, created_at, channel, error in rows:
        group = groups[(supervisee_id, office_id, f"{kind}:{created_at.astimezone(zone):%Y-%m-%d}")]
        group["notices"] += 1
        group["errors"][channel] = error or "not sent yet"
    if not groups:
        return 0
    seen = set(session.execute(sa.select(Alert.supervisee_id, Alert.subject_key).where(
        Alert.type == TYPE, Alert.supervisee_id.in_({key[0] for key in groups}))).all())
    raised = 0
    for (supervisee_id, office_id, subject), group in groups.items():
        if (supervisee_id, subject) in seen:
            continue
        kind, day = subject.split(":")
        _, new = raise_alert(session, settings, supervisee_id=supervisee_id, office_id=office_id, type=TYPE,
                             subject_key=subject, now=now,
                             evidence={"kind": kind, "day": day, "deliveries": group["notices"],
                                       "last_errors": group["errors"]})
        raised += new
    return raised
