"""Bearer tokens: opaque to clients, stored only as their SHA-256."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db


class AuthToken(db.Model):
    """A login session of an officer or a supervisee."""

    __tablename__ = "auth_tokens"
    __table_args__ = (
        sa.CheckConstraint("(officer_id IS NULL) <> (supervisee_id IS NULL)", name="one_holder"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officers.id"), index=True)
    supervisee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("supervisees.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginFailure(db.Model):
    """Failed logins against one account from one client, and that pair's lock.

    Counted per (account, client), so a stranger's failures lock the stranger out, not the
    owner on their own phone. The account is its kind and a keyed hash of the identifier that
    was typed (username or phone), so an identifier nobody holds is counted and locked the
    same way, and the table names no phone number.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.UniqueConstraint("account_kind", "account_key", "client", name="uq_login_failures_pair"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_kind: Mapped[str] = mapped_column(sa.String(20))  # "officer" or "supervisee"
    account_key: Mapped[str] = mapped_column(sa.String(64))
    client: Mapped[str] = mapped_column(sa.String(64))  # an IPv4 address or an IPv6 /64
    failures: Mapped[int] = mapped_column(default=0)  # consecutive, since the last lock or success
    locked_until: Mapped[datetime | None]
    last_failure_at: Mapped[datetime]
