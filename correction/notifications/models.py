"""Notification outbox for supervisees' phones."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db


class Notification(db.Model):
    """A message for one supervisee; ``dedupe_key`` makes re-sending a no-op."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_supervisee_id_id", "supervisee_id", "id"),
        sa.Index("ix_notifications_undispatched", "id", sqlite_where=sa.text("dispatched_at IS NULL"),
                 postgresql_where=sa.text("dispatched_at IS NULL")),
        sa.Index("ix_notifications_expires_at", "expires_at"),  # the notices still worth a text
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    supervisee_id: Mapped[int] = mapped_column(sa.ForeignKey("supervisees.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]  # the phone showed it: a push counts as acknowledged
    # After this the notice is pointless (a spot check past its due time): never sent later.
    expires_at: Mapped[datetime | None]
    # When the dispatcher made its delivery rows (correction.delivery); None: not yet.
    dispatched_at: Mapped[datetime | None]
