"""The one small interface every channel adapter has, the log channel, and the choice by settings."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from .models import PUSH, SMS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """What a channel needs to send one notification: the text, and where it goes."""

    delivery_id: int
    notification_id: int
    kind: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    push_token: str | None = None  # the phone's push id (JPush registration id)
    phone: str | None = None  # for texts
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """A provider's answer: ``delivered`` (with its message id), ``retry`` later, or ``failed`` for good."""

    status: Literal["delivered", "retry", "failed"]
    message_id: str | None = None
    reason: str | None = None  # the provider's reason, e.g. "jpush 1011: cannot find user by this audience"
    retry_after: float | None = None  # seconds the provider asked us to wait (a rate limit)

    @classmethod
    def delivered(cls, message_id: str) -> "Outcome":
        return cls("delivered", message_id=str(message_id)[:100])

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> "Outcome":
        return cls("retry", reason=reason[:500], retry_after=retry_after)

    @classmethod
    def failed(cls, reason: str) -> "Outcome":
        return cls("failed", reason=reason[:500])


class Channel(Protocol):
    """An adapter that sends one message and says how it went; it never raises for a provider's error."""

    name: str

    def send(self, message: Message, now: datetime) -> Outcome: ...


class LogChannel:
    """Writes the message to the log instead of sending it: development and `make run` need no account."""

    def __init__(self, channel: str):
        self.name = "log"
        self.channel = channel

    def send(self, message: Message, now: datetime) -> Outcome:
        log.info("%s notice %s (%s): %s — %s", self.channel, message.notification_id, message.kind,
                 message.title, message.body)
        return Outcome.delivered(f"log-{message.delivery_id}")


def channel_for(settings, channel: str) -> Channel | None:
    """The adapter the settings choose for ``channel`` (push or sms); None when it is switched off."""
    choice = settings.DELIVERY_PUSH_CHANNEL if channel == PUSH else settings.DELIVERY_SMS_CHANNEL
    if choice == "none":
        return None
    if choice == "log":
        return LogChannel(channel)
    if choice == "jpush":
        from .jpush import JPushChannel
        return JPushChannel(settings)
    if choice == "aliyun_sms":
        from .aliyun_sms import AliyunSmsChannel
        return AliyunSmsChannel(settings)
    raise ValueError(f"unknown {channel} channel {choice!r}")


__all__ = ["Channel", "LogChannel", "Message", "Outcome", "channel_for", "PUSH", "SMS"]
