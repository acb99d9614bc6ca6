"""The colour of the personal status code (矫正码): compliance as the alert queue sees it.

Green: no unresolved alert and no miss in the look-back. Yellow: an unresolved alert, or a
miss (missed check-in, missed spot check) in the look-back. Red: a serious (high or critical)
unresolved alert. The token the code carries is ``people.status_token``.

The rule is one SQL expression over a supervisee id column, so one person's code and a whole
page of the console's list (or a filter by colour) read the same rule in one statement.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..alerts.models import Alert
from ..checkins.models import SpotCheck
from ..time import TZDateTime

COLOURS = ("green", "yellow", "red")


def colour_of(settings, supervisee_id, now: datetime) -> sa.ColumnElement[str]:
    """The colour of the supervisee ``supervisee_id`` (a column or a value) at ``now``, as SQL."""
    since = sa.literal(now - timedelta(days=settings.STATUS_MISS_LOOKBACK_DAYS), TZDateTime())
    at = sa.literal(now, TZDateTime())
    unresolved = sa.and_(Alert.supervisee_id == supervisee_id, Alert.status != "resolved")
    serious = sa.exists().where(unresolved, Alert.severity.in_(("high", "critical")))
    recent_miss = sa.exists().where(Alert.supervisee_id == supervisee_id,
                                    Alert.type.in_(("missed_checkin", "missed_spot_check")), Alert.raised_at >= since)
    unanswered_spot = sa.exists().where(
        SpotCheck.supervisee_id == supervisee_id, SpotCheck.due_at >= since,
        sa.or_(SpotCheck.status == "missed", sa.and_(SpotCheck.status == "pending", SpotCheck.due_at < at)))
    return sa.case((serious, "red"), (sa.or_(sa.exists().where(unresolved), recent_miss, unanswered_spot), "yellow"),
                   else_="green")


def compliance_colour(session, settings, supervisee_id: int, now: datetime) -> str:
    """Return green, yellow or red for the supervisee at ``now``."""
    return session.execute(sa.select(colour_of(settings, sa.literal(supervisee_id), now))).scalar_one()
