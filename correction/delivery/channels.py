"""The one small interface every channel adapter has, the log channel, and the choice by settings."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import requests

from .models import PUSH, ROBOT, SMS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RobotTarget:
    """An officers' group robot: its provider, webhook (with its token) and signing secret."""

    provider: str  # dingtalk or wecom
    webhook_url: str
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Message:
    """What a channel needs to send one notification: the text, and where it goes."""

    delivery_id: int
    notification_id: int | None  # None for an officers' message
    kind: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    push_token: str | None = None  # the phone's push id (JPush registration id)
    phone: str | None = None  # for texts
    expires_at: datetime | None = None
    robot: RobotTarget | None = None  # for officers' messages: the robot of their office or bureau


@dataclass(frozen=True)
class Outcome:
    """A provider's answer: ``delivered`` (with its message id), ``retry`` later, or ``failed`` for good."""

    status: Literal["delivered", "retry", "failed"]
    message_id: str | None = None
    reason: str | None = None  # the provider's reason, e.g. "jpush 1011: cannot find user by this audience"
    retry_after: float | None = None  # seconds the provider asked us to wait (a rate limit)
    address_gone: bool = False  # the provider no longer knows the address (a push id): forget it

    @classmethod
    def delivered(cls, message_id: str) -> "Outcome":
        return cls("delivered", message_id=str(message_id)[:100])

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> "Outcome":
        return cls("retry", reason=reason[:500], retry_after=retry_after)

    @classmethod
    def failed(cls, reason: str, *, address_gone: bool = False) -> "Outcome":
        return cls("failed", reason=reason[:500], address_gone=address_gone)


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
        log.info("%s message %s (%s): %s — %s", self.channel, message.delivery_id, message.kind,
                 message.title, message.body)
        return Outcome.delivered(f"log-{message.delivery_id}")


def channel_for(settings, channel: str) -> Channel | None:
    """The adapter the settings choose for ``channel`` (push, sms or robot); None when it is switched off."""
    choice = {PUSH: settings.DELIVERY_PUSH_CHANNEL, SMS: settings.DELIVERY_SMS_CHANNEL,
              ROBOT: settings.DELIVERY_ROBOT_CHANNEL}[channel]
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
    if choice == "webhook":
        from .robots import RobotChannel
        return RobotChannel(settings)
    raise ValueError(f"unknown {channel} channel {choice!r}")


__all__ = ["Channel", "LogChannel", "Message", "Outcome", "RobotTarget", "channel_for", "PUSH", "ROBOT", "SMS"]


def post(http: requests.Session, label: str, url: str, timeout, **request) -> tuple[requests.Response, Any] | Outcome:
    """POST to a provider: its answer and JSON body ({} when it is not JSON), or the outcome when none came.

    A read timeout is "outcome unknown" and never resent (the provider may have sent it); a request
    that never reached the provider (refused, reset, DNS) is retried.
    """
    try:
        response = http.post(url, timeout=timeout, **request)
    except requests.exceptions.ReadTimeout:
        return Outcome.failed(f"{label}: no answer in time, outcome unknown")
    except requests.exceptions.RequestException as exc:
        return Outcome.retry(f"{label} unreachable: {type(exc).__name__}")
    try:
        return response, response.json()
    except ValueError:
        return response, {}
