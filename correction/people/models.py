"""Organisation and people: bureau, office, station, officer, supervisee, device."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import db

ROLES = ("officer", "supervisor", "admin")
SENTENCE_TYPES = ("probation", "parole", "control", "medical_parole")
LEVELS = ("strict", "normal", "lenient")
SUPERVISEE_STATUSES = ("active", "ended")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


class Bureau(db.Model):
    """Bureau — 区司法局: owns offices; its supervisors see all of them."""

    __tablename__ = "bureaus"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))


class Office(db.Model):
    """Office — 司法所: the unit that supervises."""

    __tablename__ = "offices"
    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("bureaus.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # A closed office keeps its records but takes no new supervisees, officers or stations.
    closed_at: Mapped[datetime | None]

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class Station(db.Model):
    """Station — 报到点: a check-in point with a rotating QR code."""

    __tablename__ = "stations"
    __table_args__ = (
        sa.CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
        sa.CheckConstraint("radius_m > 0", name="radius_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    lat: Mapped[float] = mapped_column(sa.Float)
    lon: Mapped[float] = mapped_column(sa.Float)
    radius_m: Mapped[float] = mapped_column(sa.Float)
    qr_secret: Mapped[str] = mapped_column(sa.String(64))
    secret_rotated_at: Mapped[datetime | None]  # codes signed before this are refused
    active: Mapped[bool] = mapped_column(default=True)  # a retired station's codes are refused


class Officer(db.Model):
    """Officer — 社区矫正工作人员: ``officer`` (one office), ``supervisor`` or ``admin`` (bureau)."""

    __tablename__ = "officers"
    __table_args__ = (
        sa.CheckConstraint("role <> 'officer' OR office_id IS NOT NULL", name="officer_has_office"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("bureaus.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(_enum("officer_role", ROLES))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    totp_secret: Mapped[str] = mapped_column(sa.String(64))
    # None while the secret waits to be enrolled (a new officer, a reset): the login then needs no
    # TOTP but may only enrol it, change the password or log out. Shown only until this is set.
    totp_enrolled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    failed_logins: Mapped[int] = mapped_column(default=0)  # unused since 0010: see auth.LoginFailure
    locked_until: Mapped[datetime | None]  # unused since 0010
    # Set when someone else chose the password: until it is changed, the account may only change it.
    password_change_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    @hybrid_property
    def totp_enrolment_required(self) -> bool:
        return self.totp_enrolled_at is None

    @totp_enrolment_required.inplace.expression
    @classmethod
    def _totp_enrolment_required(cls) -> sa.ColumnElement[bool]:  # the same, in a query (the token's read)
        return cls.totp_enrolled_at.is_(None)


class Supervisee(db.Model):
    """Supervisee — 矫正对象: a person under community correction.

    The national ID number is kept only as a keyed hash (to match and deduplicate) and
    its last four characters (to show, masked); the whole number is never stored.
    """

    __tablename__ = "supervisees"
    __table_args__ = (
        sa.CheckConstraint("supervision_end >= supervision_start", name="supervision_dates"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    officer_id: Mapped[int] = mapped_column(sa.ForeignKey("officers.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    national_id_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    national_id_last4: Mapped[str] = mapped_column(sa.String(4))
    sentence_type: Mapped[str] = mapped_column(_enum("sentence_type", SENTENCE_TYPES))
    supervision_start: Mapped[date]
    supervision_end: Mapped[date]
    level: Mapped[str] = mapped_column(_enum("supervision_level", LEVELS))
    status: Mapped[str] = mapped_column(_enum("supervisee_status", SUPERVISEE_STATUSES), default="active")
    failed_logins: Mapped[int] = mapped_column(default=0)  # unused since 0010: see auth.LoginFailure
    locked_until: Mapped[datetime | None]  # unused since 0010
    # Set at enrolment (the officer chose the initial password): the first login must change it.
    password_change_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    devices: Mapped[list["Device"]] = relationship(back_populates="supervisee", lazy="raise")

    @property
    def national_id_masked(self) -> str:
        """The national ID as shown anywhere: all but the last four characters hidden."""
        return "*" * 14 + self.national_id_last4


class Device(db.Model):
    """A phone bound to a supervisee; only the active one may log in."""

    __tablename__ = "devices"
    __table_args__ = (
        sa.Index("uq_devices_active_supervisee", "supervisee_id", unique=True,
                 sqlite_where=sa.text("active"), postgresql_where=sa.text("active")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"), index=True)
    device_id: Mapped[str] = mapped_column(sa.String(128))
    ingest_key_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True, index=True)
    # The key's life: it expires INGEST_KEY_TTL_DAYS after issue, and ends with a logout on this
    # phone, a device reset or an officer's revocation. Its last use stays after it ends.
    ingest_key_issued_at: Mapped[datetime | None]
    ingest_key_last_used_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    bound_at: Mapped[datetime]
    unbound_at: Mapped[datetime | None]
    # Fixes this phone sent that were refused (a wrong clock, no accuracy...): the app is told,
    # but Traccar and OwnTracks are answered 200 so they stop resending. Officers see the last one.
    # The push service's id of the app on this phone (JPush registration id), posted after login;
    # a logout on this phone or a device reset removes it.
    push_token: Mapped[str | None] = mapped_column(sa.String(200))
    refused_fixes: Mapped[int] = mapped_column(default=0, server_default="0")
    last_refusal: Mapped[str | None] = mapped_column(sa.String(40))
    last_refusal_at: Mapped[datetime | None]

    supervisee: Mapped[Supervisee] = relationship(back_populates="devices", lazy="raise")


Supervisee.device_bound = sa.orm.column_property(
    sa.exists().where(Device.supervisee_id == Supervisee.id, Device.active).correlate_except(Device),
    deferred=False,
)
