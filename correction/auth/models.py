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
