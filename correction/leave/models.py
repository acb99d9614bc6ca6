"""Leave requests (请假外出)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db

LEAVE_STATUSES = ("pending", "approved", "rejected", "closed")


class LeaveRequest(db.Model):
    """A request to leave the city or county: approved by the office or the bureau by length.

    ``returned_at`` is set by the first station or remote check-in after the leave began (销假).
    """

    __tablename__ = "leave_requests"
    __table_args__ = (
        sa.CheckConstraint("end_at > start_at", name="ends_after_start"),
        sa.Index("ix_leave_requests_supervisee_id_status", "supervisee_id", "status"),
        sa.Index("ix_leave_requests_office_id_status", "office_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    destination_name: Mapped[str] = mapped_column(sa.String(200))
    destination_geometry: Mapped[dict[str, Any] | None]  # dropped past retention (location data)
    reason: Mapped[str] = mapped_column(sa.String(1000))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    days: Mapped[int]
    approver_role: Mapped[str] = mapped_column(sa.String(12))
    status: Mapped[str] = mapped_column(sa.Enum(*LEAVE_STATUSES, name="leave_status", native_enum=False,
                                                create_constraint=True, length=10), default="pending")
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(sa.String(1000))
    returned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
