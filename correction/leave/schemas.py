"""Request and response bodies for leave."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..schemas import Input, Output, PageQuery, Text, UtcDateTime

LeaveStatus = Literal["pending", "approved", "rejected", "closed"]


class LeaveIn(Input):
    destination_name: Text(200)
    destination_geometry: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon/MultiPolygon or a Circle; left out, the approving officer sets it.")
    reason: Text(1000)
    start_at: UtcDateTime
    end_at: UtcDateTime


class LeaveDecisionIn(Input):
    note: Text(1000) | None = None
    destination_geometry: dict[str, Any] | None = Field(
        default=None, description="On approval: the destination area (GeoJSON Polygon/MultiPolygon or a Circle) "
                                  "when the request has none.")


class LeaveOut(Output):
    id: int
    supervisee_id: int
    office_id: int
    destination_name: str
    destination_geometry: dict[str, Any] | None  # None once past location retention
    reason: str
    start_at: UtcDateTime
    end_at: UtcDateTime
    days: int
    approver_role: Literal["officer", "supervisor"]
    status: LeaveStatus
    decided_by: int | None
    decided_at: UtcDateTime | None
    decision_note: str | None
    returned_at: UtcDateTime | None
    created_at: UtcDateTime


class LeaveQuery(PageQuery):
    status: LeaveStatus | None = None
    supervisee_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
