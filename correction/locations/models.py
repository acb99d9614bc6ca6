"""Location fixes, zones, zone state and zone events."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db

FIX_SOURCES = ("app", "osmand", "owntracks")
ZONE_KINDS = ("permitted", "exclusion")
ZONE_STATES = ("inside", "outside")
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


class LocationLock(db.Model):
    """A person's evaluation lock, and how many times it was taken.

    Every evaluation of the person's fixes (an ingest statement, ``service.evaluate``) takes it by
    bumping ``seq`` (an upsert: the first one makes the row). An ingest that reads the zone state in
    the statement that takes the lock knows by the count that nobody evaluated while it waited
    (locations.settle). A row of its own, not a column of the wide ``supervisees`` row: writing a new
    version of that row on every fix cost the server about 40 µs more, and an officer's edit of the
    person no longer queues behind a phone's upload.
    """

    __tablename__ = "location_locks"
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")


class LocationFix(db.Model):
    """A phone's GPS fix — 信息化核查 data: kept only for LOCATION_RETENTION_DAYS."""

    __tablename__ = "location_fixes"
    __table_args__ = (
        sa.UniqueConstraint("supervisee_id", "recorded_at", name="uq_location_fixes_supervisee_time"),
        sa.Index("ix_location_fixes_recorded_at", "recorded_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    recorded_at: Mapped[datetime]
    received_at: Mapped[datetime]
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float]
    speed_mps: Mapped[float | None]
    heading: Mapped[float | None]
    altitude_m: Mapped[float | None]
    battery: Mapped[float | None]
    is_mock: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(sa.String(12), default="app")


class Zone(db.Model):
    """A permitted area or an exclusion zone (禁止令) of one supervisee, as GeoJSON.

    ``geometry`` is a GeoJSON Polygon or MultiPolygon, or ``{"type": "Circle",
    "center": [lon, lat], "radius_m": r}``. A zone with ``applies_from``/``applies_until``
    counts only in that period: a leave's destination and route, from its start until the
    return (销假) or its end.
    """

    __tablename__ = "zones"
    __table_args__ = (sa.Index("ix_zones_supervisee_id_active", "supervisee_id", "active"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(sa.Enum(*ZONE_KINDS, name="zone_kind", native_enum=False,
                                              create_constraint=True, length=10))
    name: Mapped[str] = mapped_column(sa.String(100))
    geometry: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(default=True)
    leave_request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leave_requests.id"))
    applies_from: Mapped[datetime | None]
    applies_until: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"))
    created_at: Mapped[datetime]


class ZoneState(db.Model):
    """Where a supervisee stands against one zone key, and the change being confirmed.

    ``zone_key`` is ``permitted`` (the union of active permitted zones) or
    ``exclusion:<zone id>``. ``episode`` counts confirmed breaches, so each exit gets its
    own alert subject.
    """

    __tablename__ = "zone_states"
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"), primary_key=True)
    zone_key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    state: Mapped[str | None] = mapped_column(sa.String(10))
    candidate: Mapped[str | None] = mapped_column(sa.String(10))
    candidate_since: Mapped[datetime | None]
    candidate_count: Mapped[int] = mapped_column(default=0)
    episode: Mapped[int] = mapped_column(default=0)
    last_fix_at: Mapped[datetime | None]
    changed_at: Mapped[datetime | None]


class ZoneEvent(db.Model):
    """A confirmed zone transition: exit, return, entry (exclusion) or departure from it."""

    __tablename__ = "zone_events"
    __table_args__ = (sa.Index("ix_zone_events_supervisee_id_at", "supervisee_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    zone_key: Mapped[str] = mapped_column(sa.String(40))
    event: Mapped[str] = mapped_column(sa.String(10))
    at: Mapped[datetime]
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float]
