"""One row per notification and channel: its state, attempts and the provider's answer."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import db

QUEUED, SENDING, DELIVERED, FAILED, EXPIRED = "queued", "sending", "delivered", "failed", "expired"
PUSH, SMS, ROBOT = "push", "sms", "robot"


class Delivery(db.Model):
    """Sending one notification on one channel (``push`` or ``sms``), or one officers' message to their
    group robot (``robot``), at most once.

    ``queued`` → ``sending`` (claimed by one dispatcher) → ``delivered`` (the provider accepted it:
    ``provider_message_id``), ``failed`` (``last_error`` has the provider's reason), or back to
    ``queued`` for a retry at ``next_attempt_at``; ``expired`` when ``expires_at`` passed unsent.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("notification_id", "channel"),
        sa.UniqueConstraint("officer_message_id", "channel"),
        sa.CheckConstraint("(notification_id IS NULL) <> (officer_message_id IS NULL)", name="one_message"),
        sa.Index("ix_notification_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(sa.ForeignKey("notifications.id"))  # a supervisee's
    officer_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("officer_messages.id"))  # or officers'
    channel: Mapped[str] = mapped_column(sa.String(20))
    provider: Mapped[str | None] = mapped_column(sa.String(20))  # the adapter that sent it: jpush, log...
    state: Mapped[str] = mapped_column(sa.String(20))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(sa.String(100))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
