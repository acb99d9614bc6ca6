"""Text messages through Alibaba Cloud SMS (阿里云短信服务), ``SendSms`` (API version 2017-05-25).

An RPC-style call: POST to ``ALIYUN_SMS_ENDPOINT`` ("/") with form fields, the action's
(``PhoneNumbers``, ``SignName``, ``TemplateCode``, ``TemplateParam`` as JSON: an approved template
and its parameters, never free text) and the common ones (``AccessKeyId``, ``Action=SendSms``,
``Format=JSON``, ``RegionId``, ``SignatureMethod=HMAC-SHA1``, ``SignatureNonce`` (unique per
request), ``SignatureVersion=1.0``, ``Timestamp`` (UTC, ``YYYY-MM-DDThh:mm:ssZ``), ``Version``).

The signature (Alibaba Cloud, "Signature mechanism" for RPC APIs): sort the parameters by name,
percent-encode names and values (RFC 3986: unreserved characters kept, space as %20, ``*`` as
%2A, ``~`` kept), join them as ``name=value`` with ``&``; the string to sign is
``POST&%2F&`` + that query percent-encoded again; ``Signature = base64(HMAC-SHA1(secret + "&",
string to sign))``.

The answer is JSON: ``{"Code": "OK", "BizId": "...", "RequestId": "..."}``, or a ``Code`` naming
the error, with HTTP 200 for business errors and 4xx/5xx for the gateway's. Throttling and the
business rate limit (``isv.BUSINESS_LIMIT_CONTROL``), ``ServiceUnavailable``, ``InternalError`` and
5xx retry; anything else (``isv.SMS_TEMPLATE_ILLEGAL`` template not approved, ``isv.MOBILE_NUMBER_ILLEGAL``,
``SignatureDoesNotMatch``, ``InvalidAccessKeyId.NotFound``...) fails the text. A read timeout fails
it as "outcome unknown": a text is sent at most once.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests

from ..time import UTC, parse_utc_instant
from .channels import Message, Outcome, post

VERSION = "2017-05-25"
RETRY_CODES = ("Throttling", "isv.BUSINESS_LIMIT_CONTROL", "ServiceUnavailable", "InternalError")


def percent_encode(value: str) -> str:
    """Alibaba Cloud's percent encoding (RFC 3986 with ``~`` kept)."""
    return quote(value, safe="~")


def signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """The RPC signature (SignatureVersion 1.0, HMAC-SHA1) of ``params`` (without ``Signature``)."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def template_params(kind: str, data: dict, zone: ZoneInfo) -> dict[str, str]:
    """The template's parameters for a notice of ``kind``: local times only, nothing personal."""
    field = {"spot_check": "due_at", "reminder": "closes_at"}.get(kind)
    if field is None or not data.get(field):
        return {}
    return {"time": f"{parse_utc_instant(data[field]).astimezone(zone):%H:%M}"}


class AliyunSmsChannel:
    """Sends the approved template of a notice's kind to the supervisee's phone number."""

    name = "aliyun_sms"

    def __init__(self, settings, session: requests.Session | None = None):
        self.url = settings.ALIYUN_SMS_ENDPOINT.rstrip("/") + "/"
        self.key_id, self.secret = settings.ALIYUN_ACCESS_KEY_ID, settings.ALIYUN_ACCESS_KEY_SECRET
        self.region, self.sign_name = settings.ALIYUN_SMS_REGION, settings.ALIYUN_SMS_SIGN_NAME
        self.templates = settings.SMS_TEMPLATES
        self.zone = ZoneInfo(settings.LOCAL_TIMEZONE)
        self.timeout = settings.DELIVERY_HTTP_TIMEOUT_SECONDS
        self.http = session or requests.Session()

    def params(self, message: Message, now: datetime) -> dict[str, str]:
        """Every form field of the SendSms request for ``message``, signed."""
        params = {
            "AccessKeyId": self.key_id, "Action": "SendSms", "Format": "JSON", "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "Timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": VERSION,
            "PhoneNumbers": message.phone or "", "SignName": self.sign_name,
            "TemplateCode": self.templates.get(message.kind, ""),
            "TemplateParam": json.dumps(template_params(message.kind, message.data, self.zone),
                                        ensure_ascii=False, separators=(",", ":")),
        }
        return params | {"Signature": signature(params, self.secret)}

    def send(self, message: Message, now: datetime) -> Outcome:
        if not self.templates.get(message.kind):
            return Outcome.failed(f"no SMS template for {message.kind}")
        if not message.phone:
            return Outcome.failed("no phone number")
        answer = post(self.http, "aliyun sms", self.url, self.timeout, data=self.params(message, now))
        if isinstance(answer, Outcome):
            return answer
        response, body = answer
        code = body.get("Code") if isinstance(body, dict) else None
        if response.status_code == 200 and code == "OK":
            return Outcome.delivered(body.get("BizId") or body.get("RequestId") or "")
        reason = f"aliyun sms {code or response.status_code}: {body.get('Message', response.reason)}"
        if response.status_code >= 500 or (code or "").startswith(RETRY_CODES):
            return Outcome.retry(reason)
        return Outcome.failed(reason)
