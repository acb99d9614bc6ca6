"""Audit trail: who did what to whom, when, with what outcome. Append-only."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db


class AuditEntry(db.Model):
    """One audited action. The database refuses updates and deletes (see the migration)."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_bureau_id_id", "bureau_id", "id"),)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    bureau_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bureaus.id"))
    actor_type: Mapped[str | None] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None]
    actor_label: Mapped[str | None] = mapped_column(sa.String(100))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(40))
    target_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    outcome: Mapped[str] = mapped_column(sa.String(60))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
