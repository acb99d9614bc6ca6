"""Alerts: what went wrong with a supervisee, for officers to work until resolved."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db

ALERT_TYPES = ("missed_checkin", "missed_spot_check", "signal_lost", "zone_exit",
               "exclusion_entry", "mock_location", "impossible_movement", "leave_overdue",
               "device_changed", "doubtful_checkin", "delivery_failed")
SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "acknowledged", "resolved")
OUTCOMES = ("false_alarm", "excused", "commendation", "admonition", "warning",
            "revocation_requested")


class Alert(db.Model):
    """Alert — 预警: one breach or suspicion about one supervisee.

    At most one unresolved alert exists per (supervisee, type, subject): the partial unique
    index makes the database, not the code path, the guard, so concurrent raisers cannot
    create a second one.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index("uq_alerts_unresolved_subject", "supervisee_id", "type", "subject_key", unique=True,
                 sqlite_where=sa.text("status <> 'resolved'"),
                 postgresql_where=sa.text("status <> 'resolved'")),
        sa.Index("ix_alerts_office_id_status_raised_at", "office_id", "status", "raised_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"), index=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    type: Mapped[str] = mapped_column(sa.Enum(*ALERT_TYPES, name="alert_type", native_enum=False,
                                              create_constraint=True, length=30))
    severity: Mapped[str] = mapped_column(sa.Enum(*SEVERITIES, name="alert_severity",
                                                  native_enum=False, create_constraint=True,
                                                  length=10))
    subject_key: Mapped[str] = mapped_column(sa.String(200))
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.Enum(*STATUSES, name="alert_status", native_enum=False,
                                                create_constraint=True, length=20), default="open")
    raised_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    outcome: Mapped[str | None] = mapped_column(sa.Enum(*OUTCOMES, name="alert_outcome",
                                                        native_enum=False, create_constraint=True,
                                                        length=30))
    note: Mapped[str | None] = mapped_column(sa.Text)
    escalated_at: Mapped[datetime | None]
    article: Mapped[str | None] = mapped_column(sa.String(200))
    explanation: Mapped[str | None] = mapped_column(sa.Text)
    explained_at: Mapped[datetime | None]


class MissedWindow(db.Model):
    """A check-in window that closed unsatisfied — recorded once, forever, whatever the alert's fate."""

    __tablename__ = "missed_windows"
    __table_args__ = (sa.UniqueConstraint("supervisee_id", "window_key", name="uq_missed_windows_window"),
                      sa.Index("ix_missed_windows_closes_at", "closes_at"),
                      sa.Index("ix_missed_windows_unalerted", "id", sqlite_where=sa.text("NOT alerted"),
                               postgresql_where=sa.text("NOT alerted")),
                      sa.Index("ix_missed_windows_unpenalized", "id", sqlite_where=sa.text("penalized_at IS NULL"),
                               postgresql_where=sa.text("penalized_at IS NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(sa.String(10))
    window_key: Mapped[str] = mapped_column(sa.String(40))
    closes_at: Mapped[datetime]
    detected_at: Mapped[datetime]
    alerted: Mapped[bool] = mapped_column(default=False)
    penalized_at: Mapped[datetime | None]
