"""Reporting a breach: the alert, and the points the breach costs when the alert is new."""
from __future__ import annotations

from ..alerts.models import Alert
from ..alerts.service import raise_alert
from ..events import Breach
from ..mall.points import award
from .alert_notices import tell_alert

# The point rule each kind of breach costs, posted once per alert (its ref is the alert's id).
PENALTIES = {"mock_location": "mock_location", "zone_exit": "zone_breach", "exclusion_entry": "zone_breach"}


def report_breach(session, settings, breach: Breach) -> tuple[Alert, bool]:
    """Open the breach's alert unless its twin is open; if it is new, tell the person and charge its points.

    Returns the alert and whether it was opened now. A breach seen again (a retried upload, a
    second phone) finds the open alert and charges nothing more.
    """
    alert, created = raise_alert(session, settings, supervisee_id=breach.supervisee_id,
                                 office_id=breach.office_id, type=breach.type, subject_key=breach.subject_key,
                                 now=breach.at, evidence=breach.evidence)
    if created:
        tell_alert(session, alert)
    penalty = PENALTIES.get(breach.type)
    if created and penalty is not None:
        award(session, settings, supervisee_id=breach.supervisee_id, office_id=breach.office_id, event=penalty,
              event_ref=f"alert:{alert.id}", now=breach.at)
    return alert, created
