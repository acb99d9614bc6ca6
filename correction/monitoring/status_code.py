"""The colour of the personal status code (矫正码): compliance as the alert queue sees it.

Green: no unresolved alert and no miss in the look-back. Yellow: an unresolved alert, or a
miss (missed check-in, missed spot check) in the look-back. Red: a serious (high or critical)
unresolved alert. The token the code carries is ``people.status_token``.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..alerts.models import Alert
from ..checkins.models import SpotCheck


def compliance_colour(session, settings, supervisee_id: int, now: datetime) -> str:
    """Return green, yellow or red for the supervisee at ``now``."""
    since = now - timedelta(days=settings.STATUS_MISS_LOOKBACK_DAYS)
    unresolved = sa.and_(Alert.supervisee_id == supervisee_id, Alert.status != "resolved")
    serious, open_, recent_miss = session.execute(sa.select(
        sa.exists().where(unresolved, Alert.severity.in_(("high", "critical"))),
        sa.exists().where(unresolved),
        sa.exists().where(Alert.supervisee_id == supervisee_id,
                          Alert.type.in_(("missed_checkin", "missed_spot_check")),
                          Alert.raised_at >= since),
    )).one()
    if serious:
        return "red"
    unanswered_spot = session.execute(sa.select(sa.exists().where(
        SpotCheck.supervisee_id == supervisee_id, SpotCheck.due_at >= since,
        sa.or_(SpotCheck.status == "missed",
               sa.and_(SpotCheck.status == "pending", SpotCheck.due_at < now))))).scalar()
    return "yellow" if open_ or recent_miss or unanswered_spot else "green"
