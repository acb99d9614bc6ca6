"""The words the console shows for the domain's codes (alert types, severities, states, outcomes)."""
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
        "open": _("Open"), "acknowledged": _("Acknowledged"), "resolved": _("Resolved"),
        "false_alarm": _("False alarm"), "excused": _("Excused"), "commendation": _("Commendation"),
        "admonition": _("Admonition"), "warning": _("Warning"), "revocation_requested": _("Revocation requested"),
    }
