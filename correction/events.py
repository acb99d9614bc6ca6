"""Facts that features report, and the handlers the app wires to them.

A feature knows what it saw (a mocked fix, a confirmed zone exit, an accepted check-in), not what
follows from it: that a breach opens an alert, costs points and may notify someone is the
monitoring layer's rule (``correction.monitoring``), which sits above the features. So a feature
publishes a fact here, and ``create_app`` subscribes the monitoring layer's handlers. Handlers run
at once, in the publisher's session and transaction: a fact and what follows it commit together
or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from flask import current_app

EXTENSION = "correction.events"


@dataclass(frozen=True)
class Breach:
    """A rule was broken, or looks broken: at most one open alert per (supervisee, type, subject)."""

    supervisee_id: int
    office_id: int
    type: str  # an alert type (alerts.models.ALERT_TYPES)
    subject_key: str
    at: datetime
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckinAccepted:
    """A check-in satisfied its window (kind: remote, station or spot)."""

    supervisee_id: int
    office_id: int
    kind: str
    checkin_id: int
    at: datetime
    window_key: str | None = None  # the window it satisfied ("period:..." for a period's extra window)


Event = Breach | CheckinAccepted
Handler = Callable[[Any, Any, Any], None]  # (session, settings, event)


def publish(session, settings, event: Event) -> None:
    """Hand ``event`` to every handler subscribed to its type; a fact nobody handles is an error."""
    handlers = current_app.extensions[EXTENSION].get(type(event), ())
    if not handlers:
        raise LookupError(f"no handler is subscribed to {type(event).__name__}")
    for handle in handlers:
        handle(session, settings, event)
