"""Stored weekly compliance reports."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db


class WeeklyReport(db.Model):
    """One week's report for one office (``office:<id>``) or a whole bureau (``bureau:<id>``).

    Re-building replaces the stored one: (scope, week) is unique.
    """

    __tablename__ = "weekly_reports"
    __table_args__ = (sa.UniqueConstraint("scope", "week", name="uq_weekly_reports_scope_week"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(40))
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("bureaus.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id"))
    week: Mapped[str] = mapped_column(sa.String(8))
    provisional: Mapped[bool]
    built_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
