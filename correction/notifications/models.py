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


ROBOT_PROVIDERS = ("dingtalk", "wecom")


class Robot(db.Model):
    """A group robot (群机器人) of an office, or of its bureau (``office_id`` None): officers' messages go there.

    ``webhook_url`` carries the robot's token and ``secret`` signs DingTalk requests: both are
    written by admins and never shown back or logged.
    """

    __tablename__ = "robots"
    __table_args__ = (
        sa.UniqueConstraint("office_id"),  # one per office (NULLs, the bureaus' robots, are distinct)
        sa.Index("uq_robots_bureau_robot", "bureau_id", unique=True, sqlite_where=sa.text("office_id IS NULL"),
                 postgresql_where=sa.text("office_id IS NULL")),  # one per bureau
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("bureaus.id"))
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id"))
    provider: Mapped[str] = mapped_column(sa.String(20))  # dingtalk (钉钉) or wecom (企业微信)
    webhook_url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime]


class OfficerMessage(db.Model):
    """A message for the officers of an office (or the bureau's, ``office_id`` None), sent to their robot."""

    __tablename__ = "officer_messages"
    __table_args__ = (
        sa.Index("ix_officer_messages_undispatched", "id", sqlite_where=sa.text("dispatched_at IS NULL"),
                 postgresql_where=sa.text("dispatched_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("bureaus.id"))
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id"))
    kind: Mapped[str] = mapped_column(sa.String(40))  # alert_raised, alert_escalated, job_failed...
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)  # markdown
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
