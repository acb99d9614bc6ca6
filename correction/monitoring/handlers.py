"""Which handler follows which fact: the subscriptions ``create_app`` installs."""
from __future__ import annotations

from ..events import Breach, CheckinAccepted, Handler
from .breaches import report_breach
from .scoring import award_checkin


def subscriptions() -> dict[type, list[Handler]]:
    """Return the handlers of every event the features publish."""
    return {Breach: [report_breach], CheckinAccepted: [award_checkin]}
