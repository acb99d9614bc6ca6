"""Request and response bodies of the alert queue."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..schemas import Input, Output, Query, Text, UtcDateTime

AlertType = Literal["missed_checkin", "missed_spot_check", "signal_lost", "zone_exit", "exclusion_entry",
                    "mock_location", "impossible_movement", "leave_overdue", "device_changed", "doubtful_checkin",
                    "delivery_failed"]
Severity = Literal["low", "medium", "high", "critical"]
Status = Literal["open", "acknowledged", "resolved"]
Outcome = Literal["false_alarm", "excused", "commendation", "admonition", "warning", "revocation_requested"]


class AlertQuery(Query):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_\-=]*$")
    status: Status | None = None
    type: AlertType | None = None
    severity: Severity | None = None
    supervisee_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    office_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    escalated: bool | None = None
    since: UtcDateTime | None = None
    until: UtcDateTime | None = None


class ResolveIn(Input):
    outcome: Outcome
    note: Text(2000)


class ExplainIn(Input):
    explanation: Text(2000)


class OutOfContact(Output):
    since: UtcDateTime
    days: float
    suggested_outcome: Literal["admonition", "warning", "revocation_requested"]
    article: str
    note: str


class AlertOut(Output):
    id: int
    supervisee_id: int
    office_id: int
    type: AlertType
    severity: Severity
    subject_key: str
    evidence: dict[str, Any]
    status: Status
    raised_at: UtcDateTime
    acknowledged_at: UtcDateTime | None
    acknowledged_by: int | None
    resolved_at: UtcDateTime | None
    resolved_by: int | None
    outcome: Outcome | None
    article: str | None
    note: str | None
    escalated_at: UtcDateTime | None
    explanation: str | None
    explained_at: UtcDateTime | None
    out_of_contact: OutOfContact | None = None


class AlertPage(Output):
    items: list[AlertOut]
    next_cursor: str | None


class MyAlertOut(Output):
    """An alert as the supervisee sees it: what it is about, and their explanation."""

    id: int
    type: AlertType
    raised_at: UtcDateTime
    status: Status
    explanation: str | None
    explained_at: UtcDateTime | None


class MyAlertList(Output):
    items: list[MyAlertOut]
