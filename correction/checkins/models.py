"""Check-ins, spot checks and periods of stepped-up supervision."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import JSONType, db

CHECKIN_KINDS = ("remote", "station", "spot")
OUTCOMES = ("accepted", "refused")
SPOT_STATUSES = ("pending", "answered", "missed", "cancelled")


class Checkin(db.Model):
    """Check-in — 签到/报到: one attempt by a supervisee, accepted or refused with a reason.

    Refused attempts are kept (officers see them on the timeline). One accepted check-in per
    window: the partial unique index is the guard, so a retried or raced request cannot
    satisfy a window twice.
    """

    __tablename__ = "checkins"
    __table_args__ = (
        sa.Index("uq_checkins_accepted_window", "supervisee_id", "window_key", unique=True,
                 sqlite_where=sa.text("outcome = 'accepted'"),
                 postgresql_where=sa.text("outcome = 'accepted'")),
        sa.Index("ix_checkins_supervisee_id_received_at", "supervisee_id", "received_at"),
        sa.Index("ix_checkins_station_id_qr_step", "station_id", "qr_step"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.Enum(*CHECKIN_KINDS, name="checkin_kind", native_enum=False,
                                              create_constraint=True, length=10))
    window_key: Mapped[str | None] = mapped_column(sa.String(40))
    window_closes_at: Mapped[datetime | None]
    station_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stations.id"))
    qr_step: Mapped[int | None] = mapped_column(sa.BigInteger)  # the time step of the station code scanned
    spot_check_id: Mapped[int | None] = mapped_column(sa.ForeignKey("spot_checks.id"))
    outcome: Mapped[str] = mapped_column(sa.Enum(*OUTCOMES, name="checkin_outcome", native_enum=False,
                                                 create_constraint=True, length=10))
    refusal_code: Mapped[str | None] = mapped_column(sa.String(40))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    distance_m: Mapped[float | None]
    is_mock: Mapped[bool] = mapped_column(default=False)
    recorded_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))


class SpotCheck(db.Model):
    """Spot check — 点验 / 实时签到: an officer asks a supervisee to check in now."""

    __tablename__ = "spot_checks"
    __table_args__ = (sa.Index("ix_spot_checks_supervisee_id_status", "supervisee_id", "status"),
                      sa.Index("uq_spot_checks_period_slot", "period_slot", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    requested_by: Mapped[int] = mapped_column(sa.ForeignKey("officers.id"))
    requested_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.Enum(*SPOT_STATUSES, name="spot_check_status",
                                                native_enum=False, create_constraint=True,
                                                length=10), default="pending")
    note: Mapped[str | None] = mapped_column(sa.String(500))
    answered_at: Mapped[datetime | None]
    # A spot check a period's quota issued: ``period:<id>:<person>:<ISO week>:<n>``, once ever.
    period_slot: Mapped[str | None] = mapped_column(sa.String(80))


class SupervisionPeriod(db.Model):
    """Stepped-up supervision — 临时加强监管: extra daily windows and spot checks for some dates.

    A bureau declares it for some of its offices (none listed: all) and levels (empty: all).
    ``windows`` holds the extra local-time windows of every day, ``[{"opens": "08:00",
    "closes": "12:00"}, ...]``; ``spot_checks_per_week`` the spot checks each covered person gets
    in each ISO week. Dates decide when it applies; a cancellation ends it at ``cancelled_at``.
    """

    __tablename__ = "supervision_periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("bureaus.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    reason: Mapped[str] = mapped_column(sa.String(500))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    levels: Mapped[list[str]] = mapped_column(JSONType)
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    spot_checks_per_week: Mapped[int]
    declared_by: Mapped[int] = mapped_column(sa.ForeignKey("officers.id"))
    declared_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))


class SupervisionPeriodOffice(db.Model):
    """An office a period covers; a period without any covers every office of its bureau."""

    __tablename__ = "supervision_period_offices"
    period_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision_periods.id"), primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), primary_key=True, index=True)


class StationDisplay(db.Model):
    """A station screen's credential — 报到点展示屏: shows that station's code and nothing else.

    Issued by an officer of the station's office as a pairing link; the first pairing replaces the
    link's secret with the screen's own (a cookie), so a link works once. Only hashes are stored.
    """

    __tablename__ = "station_displays"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(sa.ForeignKey("stations.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_by: Mapped[int] = mapped_column(sa.ForeignKey("officers.id"))
    issued_at: Mapped[datetime]
    paired_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
