"""Phone push through JPush (极光推送), REST API v3: ``POST {JPUSH_BASE_URL}/v3/push``.

The request (docs.jiguang.cn, "Push API v3"): HTTP Basic auth with ``base64(appKey:masterSecret)``;
a JSON body with ``platform`` (["android", "ios"]), ``audience`` ({"registration_id": [id]}: the id
the JPush SDK gave the app on the phone), ``notification`` (``alert``, and per platform ``android``
{alert, title, extras} and ``ios`` {alert, sound, extras}) and ``options`` (``sendno``, our number,
echoed back; ``time_to_live``, seconds JPush keeps it for an offline phone; ``apns_production``).

The answer: 200 ``{"sendno": "...", "msg_id": "..."}``; otherwise an HTTP status per JPush's status
code page (400 bad request, 401 not verified, 403 refused, 404, 429 too many requests, 5xx: try
again later) with ``{"error": {"code": n, "message": "..."}}``. The codes we act on:
1000 system error (retry); 1003 a parameter's value is invalid; 1004 verification failed and
1008 app key invalid (our settings are wrong: failed, an operator must act); 1011 no target
matches the audience (the registration id is invalid or gone: failed, the stored push id is
cleared, the text may follow);
2002 and 2003 the API's rate limit (retry after ``X-Rate-Limit-Reset`` seconds). Any other 4xx
fails the message; 5xx and a refused connection retry. A read timeout fails it as "outcome
unknown": JPush may have sent it, and we send a message at most once per channel.
"""
from __future__ import annotations

from datetime import datetime

import requests

from .channels import Message, Outcome, post

RETRY_CODES = {1000, 2002, 2003}
NO_TARGET = 1011  # the registration id is unknown or gone: the phone's stored push id is cleared


class JPushChannel:
    """Sends a notification to the phone's registration id with JPush."""

    name = "jpush"

    def __init__(self, settings, session: requests.Session | None = None):
        self.url = settings.JPUSH_BASE_URL.rstrip("/") + "/v3/push"
        self.auth = (settings.JPUSH_APP_KEY, settings.JPUSH_MASTER_SECRET)
        self.production = settings.JPUSH_APNS_PRODUCTION
        self.ttl = settings.JPUSH_TIME_TO_LIVE_SECONDS
        self.timeout = settings.DELIVERY_HTTP_TIMEOUT_SECONDS
        self.http = session or requests.Session()

    def payload(self, message: Message, now: datetime) -> dict:
        """The v3 push body for ``message``; it lives no longer than the notice's deadline."""
        ttl = self.ttl
        if message.expires_at is not None:
            ttl = max(0, min(ttl, int((message.expires_at - now).total_seconds())))
        extras = {"notification_id": message.notification_id, "kind": message.kind, **message.data}
        return {
            "platform": ["android", "ios"],
            "audience": {"registration_id": [message.push_token]},
            "notification": {
                "alert": message.body,
                "android": {"alert": message.body, "title": message.title, "extras": extras},
                "ios": {"alert": {"title": message.title, "body": message.body}, "sound": "default",
                        "extras": extras},
            },
            "options": {"sendno": message.delivery_id % 2**31, "time_to_live": ttl,
                        "apns_production": self.production},
        }

    def send(self, message: Message, now: datetime) -> Outcome:
        if not message.push_token:
            return Outcome.failed("no push id: the phone has not registered one")
        answer = post(self.http, "jpush", self.url, self.timeout, json=self.payload(message, now), auth=self.auth)
        if isinstance(answer, Outcome):
            return answer
        response, body = answer
        if response.status_code == 200 and body.get("msg_id"):
            return Outcome.delivered(body["msg_id"])
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        reason = f"jpush {code or response.status_code}: {(error or {}).get('message', response.reason)}"
        if response.status_code == 429 or code in (2002, 2003):
            return Outcome.retry(reason, retry_after=_seconds(response.headers.get("X-Rate-Limit-Reset")))
        if response.status_code >= 500 or code in RETRY_CODES:
            return Outcome.retry(reason)
        return Outcome.failed(reason, address_gone=code == NO_TARGET)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
