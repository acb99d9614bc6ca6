"""Officers' group robots: DingTalk (钉钉自定义机器人) or WeCom (企业微信群机器人), behind one adapter.

DingTalk ("自定义机器人安全设置", "加签"): ``POST {webhook}&timestamp={ms}&sign={sign}`` where
``sign = urlencode(base64(HMAC-SHA256(key=secret, "{timestamp}\\n{secret}")))`` and the timestamp is
the sender's wall clock in milliseconds (DingTalk refuses one more than an hour off). The JSON body
is ``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {"atMobiles", "isAtAll"}}``.
The answer is HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``, or an ``errcode``: 310000 (sign
mismatch, keyword or IP not allowed), 300001 (token invalid), 130101 (sent too fast: 20 messages a
minute per robot), -1 (system busy).

WeCom: ``POST {webhook}`` (``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY``) with
``{"msgtype": "markdown", "markdown": {"content"}}``; the same ``errcode``/``errmsg`` answer:
93000 (invalid webhook url), 45009 (api freq out of limit: 20 a minute), -1 (system busy).

A rate limit waits ROBOT_RATE_LIMIT_WAIT_SECONDS; busy, 5xx and a refused connection retry with
backoff; a read timeout fails "outcome unknown" (sent at most once); any other errcode fails.
The webhook (its token) and the secret are never logged: reasons name only the provider's code.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from typing import Callable
from urllib.parse import quote_plus

import requests

from .channels import Message, Outcome, post

RATE_LIMITED = {"dingtalk": 130101, "wecom": 45009}
BUSY = -1


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature of ``timestamp_ms``, urlencoded as the query wants it."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


class RobotChannel:
    """Posts an officers' message to the DingTalk or WeCom robot of its office or bureau."""

    name = "webhook"

    def __init__(self, settings, session: requests.Session | None = None,
                 wall_clock: Callable[[], float] = time.time):
        self.timeout = settings.DELIVERY_HTTP_TIMEOUT_SECONDS
        self.rate_limit_wait = settings.ROBOT_RATE_LIMIT_WAIT_SECONDS
        self.http = session or requests.Session()
        self.wall_clock = wall_clock  # the signature is about this request's real time, not the domain clock

    def request(self, message: Message) -> tuple[str, dict]:
        """The URL and JSON body of the robot's request for ``message``."""
        robot = message.robot
        if robot.provider == "wecom":
            return robot.webhook_url, {"msgtype": "markdown",
                                       "markdown": {"content": f"**{message.title}**\n{message.body}"}}
        url = robot.webhook_url
        if robot.secret:
            stamp = int(self.wall_clock() * 1000)
            url += f"{'&' if '?' in url else '?'}timestamp={stamp}&sign={dingtalk_sign(robot.secret, stamp)}"
        return url, {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.body},
                     "at": {"atMobiles": [], "isAtAll": False}}

    def send(self, message: Message, now: datetime) -> Outcome:
        if message.robot is None:
            return Outcome.failed("no robot set for the office or its bureau")
        provider = message.robot.provider
        url, body = self.request(message)
        sent = post(self.http, provider, url, self.timeout, json=body)
        if isinstance(sent, Outcome):
            return sent
        response, answer = sent
        code = answer.get("errcode") if isinstance(answer, dict) else None
        if response.status_code == 200 and code == 0:
            return Outcome.delivered(f"{provider}-{message.delivery_id}")  # robots answer no message id
        reason = f"{provider} {code if code is not None else response.status_code}: " \
                 f"{(answer or {}).get('errmsg', response.reason)}"
        if code == RATE_LIMITED.get(provider) or response.status_code == 429:
            return Outcome.retry(reason, retry_after=self.rate_limit_wait)
        if code == BUSY or response.status_code >= 500:
            return Outcome.retry(reason)
        return Outcome.failed(reason)
