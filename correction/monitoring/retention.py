"""Location retention: every copy of where someone was, purged or blurred on one clock.

Location data is sensitive personal information (PIPL Art. 28), kept only as long as the purpose
needs (Art. 19) and deleted once it is achieved (Art. 47): past ``LOCATION_RETENTION_DAYS``, and
for everybody whose supervision ended ``ENDED_SUPERVISION_LOCATION_DAYS`` ago. Fixes and zone
events go; check-ins, alerts and leave requests are supervision records and stay, without their
coordinates. Each feature forgets its own copies; this module sets the clock for all of them.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..alerts.service import strip_evidence_coordinates
from ..checkins.service import blur_checkin_locations
from ..leave.service import forget_destinations
from ..locations.service import purge_locations
from ..people.models import Supervisee


def purge_location_data(session, settings, now: datetime) -> int:
    """Purge or blur location data past retention and of ended supervision; return the rows touched.

    Set-based and idempotent: a second run the same day touches nothing.
    """
    before = now - timedelta(days=settings.LOCATION_RETENTION_DAYS)
    ended_by = (now - timedelta(days=settings.ENDED_SUPERVISION_LOCATION_DAYS)).astimezone(
        ZoneInfo(settings.LOCAL_TIMEZONE)).date()
    people = sa.select(Supervisee.id).where(Supervisee.status == "ended", Supervisee.supervision_end < ended_by)
    return (blur_checkin_locations(session, before=before, people=people)
            + strip_evidence_coordinates(session, before=before, people=people)
            + forget_destinations(session, before=before, people=people)
            + purge_locations(session, before=before, people=people))
