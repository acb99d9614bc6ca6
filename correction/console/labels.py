"""The words the console shows for the domain's codes (alert types, severities, states, outcomes, levels...)."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _


def label(value: str | None) -> str:
    """The reader's word for a code; the code itself when it has none."""
    if value is None:
        return ""
    words = g.get("console_labels")
    if words is None:  # translated once per request: a page of alerts asks for hundreds
        words = g.console_labels = _words()
    return words.get(value, value)


def _words() -> dict[str, str]:
    return {
        "missed_checkin": _("Missed check-in"), "missed_spot_check": _("Missed spot check"),
        "signal_lost": _("Signal lost"), "zone_exit": _("Left the permitted area"),
        "exclusion_entry": _("Entered an exclusion zone"), "mock_location": _("Mocked location"),
        "impossible_movement": _("Impossible movement"), "leave_overdue": _("Not back from leave"),
        "device_changed": _("Another phone"), "doubtful_checkin": _("Doubtful check-in"),
        "delivery_failed": _("Notice not delivered"),
        "low": _("Low"), "medium": _("Medium"), "high": _("High"), "critical": _("Critical"),
        "pending": _("Pending"), "approved": _("Approved"), "rejected": _("Rejected"), "closed": _("Closed"),
        "open": _("Open"), "acknowledged": _("Acknowledged"), "resolved": _("Resolved"),
        "false_alarm": _("False alarm"), "excused": _("Excused"), "commendation": _("Commendation"),
        "permitted": _("Permitted area"), "exclusion": _("Exclusion zone"),
        "zone_return": _("Back in the permitted area"), "zone_entry": _("Entered an exclusion zone"),
        "zone_departure": _("Left the exclusion zone"),
        "admonition": _("Admonition"), "warning": _("Warning"), "revocation_requested": _("Revocation requested"),
        # supervisees: status code, level, supervision, windows, check-ins, spot checks, leave, timeline
        "green": _("Green"), "yellow": _("Yellow"), "red": _("Red"),
        "strict": _("Strict"), "normal": _("Normal"), "lenient": _("Lenient"),
        "active": _("Under supervision"), "ended": _("Ended"),
        "remote": _("Remote check-in"), "station": _("Station check-in"), "spot": _("Spot check answer"),
        "period": _("Stepped-up supervision check-in"),
        "satisfied": _("Met"), "missed": _("Missed"), "upcoming": _("Upcoming"),
        "accepted": _("Accepted"), "refused": _("Refused"),
        "answered": _("Answered"), "cancelled": _("Cancelled"), "fulfilled": _("Fulfilled"),
        "ok": _("OK"), "error": _("Error"),
        "checkin": _("Check-in"), "spot_check": _("Spot check"), "alert": _("Alert"),
        "zone_event": _("Zone"), "points": _("Points"), "leave": _("Leave"),
        "exit": _("Left the permitted area"), "return": _("Came back to the permitted area"),
        "entry": _("Entered an exclusion zone"), "departure": _("Left an exclusion zone"),
        "adjustment": _("Adjustment by an officer"), "redemption": _("Redemption"), "refund": _("Refund"),
    }
