"""Fake JPush and Alibaba Cloud SMS servers on loopback that check requests as the providers document.

Each runs a werkzeug server in a thread. They know nothing of our code: the fake SMS server
computes the RPC signature itself from the documented algorithm, and both answer as the provider
does, error bodies included. ``script`` holds the answers to give next ("unavailable", "timeout",
"rate_limit", ...); ``down`` answers every request 503 until cleared.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from tests.loopback import serve

APP_KEY, MASTER_SECRET = "0a1b2c3d4e5f60718293a4b5", "f0e1d2c3b4a5968778695a4b"
ACCESS_KEY_ID, ACCESS_KEY_SECRET = "LTAI5tFakeKeyId", "FakeAccessKeySecret0123456789"
SIGN_NAME = "婺城司法局"
TEMPLATES = {"SMS_SPOT_CHECK": {"time"}, "SMS_CHECKIN_REMINDER": {"time"}}  # approved codes: variables


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers or {},
                    mimetype="application/json")


class FakeServer:
    """A werkzeug server on 127.0.0.1, a random port, in a daemon thread."""

    timeout_seconds = 1.5  # how long a "timeout" answer makes the client wait

    def __init__(self):
        self.lock = threading.Lock()
        self.script: list[str] = []
        self.down = False
        self.delay = 0.0  # seconds each answer takes (a provider far away)
        self.requests = 0
        self.generation = 0  # one per test (reset): what a request of an earlier test does must not count later
        self.server, self.thread, self.url = serve(self.wsgi, type(self).__name__)

    def close(self):
        self.server.shutdown()

    def next_answer(self) -> str | None:
        with self.lock:
            self.requests += 1
            answer = "unavailable" if self.down else self.script.pop(0) if self.script else None
        if self.delay:
            time.sleep(self.delay)
        return answer

    def time_out(self) -> bool:
        """Sleep past the client's read timeout; True if the test that asked for it ended meanwhile
        (the answer then goes out, but what it would record must not land in the next test)."""
        generation = self.generation
        time.sleep(self.timeout_seconds)
        return generation != self.generation

    def wsgi(self, environ, start_response):
        return self.handle(Request(environ))(environ, start_response)


class FakeJPush(FakeServer):
    """JPush Push API v3: POST /v3/push with Basic auth; answers {sendno, msg_id} or {error: {code, message}}."""

    def __init__(self):
        super().__init__()
        self.registered: set[str] = set()  # registration ids of installed apps
        self.pushes: list[dict] = []  # accepted pushes: what the phone would show
        self.received_at: list[float] = []  # time.monotonic() of each accepted push
        self.ids = itertools.count(54043195528453436)

    def reset(self):
        with self.lock:
            self.registered.clear(), self.pushes.clear(), self.received_at.clear(), self.script.clear()
            self.down, self.delay, self.requests = False, 0.0, 0
            self.generation += 1

    def handle(self, request: Request) -> Response:
        if request.path != "/v3/push":
            return _json(404, {"error": {"code": 1001, "message": "Not found"}})
        if request.method != "POST":
            return _json(405, {"error": {"code": 1001, "message": "Only support HTTP Post method"}})
        expected = "Basic " + base64.b64encode(f"{APP_KEY}:{MASTER_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return _json(401, {"error": {"code": 1004, "message": "Authen failed"}})
        answer = self.next_answer()
        if answer == "unavailable":
            return _json(503, {"error": {"code": 1000, "message": "Server busy"}})
        if answer == "timeout":
            self.time_out()  # sent, as far as JPush is concerned; the client gave up waiting
            return _json(200, {"sendno": "0", "msg_id": str(next(self.ids))})
        if answer == "rate_limit":
            return _json(429, {"error": {"code": 2002, "message": "Rate limit exceeded"}},
                         {"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "42"})
        if request.mimetype != "application/json":
            return _json(400, {"error": {"code": 1003, "message": "Content-Type must be application/json"}})
        try:
            body = json.loads(request.get_data())
            problem = self.problem(body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problem = f"bad body: {exc}"
        if problem:
            return _json(400, {"error": {"code": 1003, "message": problem}})
        ids = body["audience"]["registration_id"]
        with self.lock:
            if not any(i in self.registered for i in ids):
                return _json(400, {"error": {"code": 1011, "message": "cannot find user by this audience"}})
            msg_id = str(next(self.ids))
            self.pushes.append({"registration_id": ids[0], "msg_id": msg_id, "sendno": body["options"]["sendno"],
                                "title": body["notification"]["android"]["title"],
                                "alert": body["notification"]["android"]["alert"],
                                "extras": body["notification"]["android"]["extras"],
                                "time_to_live": body["options"]["time_to_live"]})
            self.received_at.append(time.monotonic())
        return _json(200, {"sendno": str(body["options"]["sendno"]), "msg_id": msg_id})

    @staticmethod
    def problem(body: dict) -> str | None:
        platform = body["platform"]
        if platform != "all" and not (isinstance(platform, list) and set(platform) <= {"android", "ios", "quickapp"}):
            return "platform invalid"
        ids = body["audience"]["registration_id"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= 1000 or not all(isinstance(i, str) for i in ids):
            return "audience.registration_id must be a list of 1..1000 strings"
        note = body["notification"]
        if not note.get("android", {}).get("alert") or not isinstance(note.get("ios", {}).get("extras", {}), dict):
            return "notification alert missing"
        options = body["options"]
        if not isinstance(options.get("time_to_live"), int) or not 0 <= options["time_to_live"] <= 864000:
            return "options.time_to_live must be 0..864000"
        if not isinstance(options.get("apns_production"), bool) or not isinstance(options.get("sendno"), int):
            return "options invalid"
        return None


def aliyun_encode(value: str) -> str:
    """Alibaba Cloud's documented encoding: RFC 3986, space %20, * %2A, ~ kept."""
    return quote(value, safe="-_.~").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


class FakeAliyunSms(FakeServer):
    """dysmsapi SendSms over RPC: checks the common parameters and the HMAC-SHA1 signature."""

    COMMON = {"AccessKeyId", "Action", "Format", "RegionId", "SignatureMethod", "SignatureNonce",
              "SignatureVersion", "Timestamp", "Version", "Signature"}

    def __init__(self):
        super().__init__()
        self.texts: list[dict] = []
        self.nonces: set[str] = set()
        self.ids = itertools.count(900619767358000)

    def reset(self):
        with self.lock:
            self.texts.clear(), self.nonces.clear(), self.script.clear()
            self.down, self.delay, self.requests = False, 0.0, 0
            self.generation += 1

    def handle(self, request: Request) -> Response:
        params = request.args.to_dict() | request.form.to_dict()
        if request.path != "/" or request.method not in ("GET", "POST"):
            return _json(404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found"})
        missing = self.COMMON - params.keys()
        if missing:
            return _json(400, {"Code": "MissingParameter", "Message": f"missing {sorted(missing)[0]}"})
        if params["AccessKeyId"] != ACCESS_KEY_ID:
            return _json(404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."})
        if (params["SignatureMethod"], params["SignatureVersion"], params["Version"], params["Format"]) != (
                "HMAC-SHA1", "1.0", "2017-05-25", "JSON"):
            return _json(400, {"Code": "InvalidParameter", "Message": "signature method, version or format"})
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", params["Timestamp"]):
            return _json(400, {"Code": "InvalidTimeStamp.Format", "Message": "Specified time stamp is not valid."})
        unsigned = {k: v for k, v in params.items() if k != "Signature"}
        query = "&".join(f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in sorted(unsigned.items()))
        to_sign = f"{request.method}&%2F&{aliyun_encode(query)}"
        expected = base64.b64encode(hmac.new(f"{ACCESS_KEY_SECRET}&".encode(), to_sign.encode(),
                                             hashlib.sha1).digest()).decode()
        if params["Signature"] != expected:
            return _json(400, {"Code": "SignatureDoesNotMatch",
                               "Message": "Specified signature is not matched with our calculation."})
        with self.lock:
            if params["SignatureNonce"] in self.nonces:
                return _json(400, {"Code": "SignatureNonceUsed", "Message": "Specified signature nonce was used already."})
            self.nonces.add(params["SignatureNonce"])
        answer = self.next_answer()
        if answer == "unavailable":
            return _json(503, {"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary failure of the server."})
        if answer == "timeout" and self.time_out():
            return _json(200, {"Code": "OK", "Message": "OK", "BizId": "0", "RequestId": "late"})
        if answer == "rate_limit":
            return _json(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"})
        if params["Action"] != "SendSms":
            return _json(404, {"Code": "InvalidAction.NotFound", "Message": "Specified api is not found"})
        if params.get("SignName") != SIGN_NAME:
            return _json(200, {"Code": "isv.SMS_SIGNATURE_ILLEGAL", "Message": "该账号下找不到对应签名"})
        variables = TEMPLATES.get(params.get("TemplateCode", ""))
        if variables is None:
            return _json(200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板"})
        try:
            template_param = json.loads(params.get("TemplateParam", "{}"))
        except ValueError:
            return _json(200, {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法，只接受字符串值"})
        if set(template_param) != variables or not all(isinstance(v, str) for v in template_param.values()):
            return _json(200, {"Code": "isv.TEMPLATE_MISSING_PARAMETERS", "Message": "模板变量缺少对应参数值"})
        if not re.fullmatch(r"1\d{10}", params.get("PhoneNumbers", "")):
            return _json(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})
        biz_id = f"{next(self.ids)}^0"
        with self.lock:
            self.texts.append({"phone": params["PhoneNumbers"], "template": params["TemplateCode"],
                               "params": template_param, "biz_id": biz_id})
        return _json(200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "F655A8D5-B967-440B-8683"})


DINGTALK_TOKEN = "7f3c9a0e1b2d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6"
DINGTALK_SECRET = "SEC0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


class RobotServer(FakeServer):
    """A group robot's webhook: one JSON POST per message, ``{"errcode": 0, "errmsg": "ok"}`` or an error code."""

    per_minute = 20  # both providers' documented limit per robot
    busy = {"errcode": -1, "errmsg": "系统繁忙"}

    def __init__(self):
        super().__init__()
        self.messages: list[dict] = []
        self.sent_at: list[float] = []
        self.minutes_passed = 0  # a test moves the rate limit's minute on without waiting for it

    def reset(self):
        with self.lock:
            self.messages.clear(), self.sent_at.clear(), self.script.clear()
            self.down, self.delay, self.requests, self.minutes_passed = False, 0.0, 0, 0
            self.generation += 1

    def accept(self, message: dict, limited: dict) -> Response:
        """Take a checked message unless 20 came within the last minute (the robot's limit)."""
        with self.lock:
            now = time.time() + 60 * self.minutes_passed
            if sum(t > now - 60 for t in self.sent_at) >= self.per_minute:
                return _json(200, limited)
            self.sent_at.append(now)
            self.messages.append(message)
        return _json(200, {"errcode": 0, "errmsg": "ok"})

    def scripted(self) -> Response | None:
        answer = self.next_answer()
        if answer == "unavailable":
            return _json(200, self.busy)
        if answer == "timeout" and self.time_out():
            return _json(200, {"errcode": 0, "errmsg": "ok"})
        return None


class FakeDingTalk(RobotServer):
    """DingTalk's custom robot (自定义机器人) with 加签: POST /robot/send?access_token=&timestamp=&sign=.

    The signature is recomputed here from the documented recipe (HMAC-SHA256 of "timestamp\\nsecret"
    keyed with the secret, base64, urlencoded); a timestamp more than an hour from now is refused.
    """

    limited = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}

    def handle(self, request: Request) -> Response:
        if request.path != "/robot/send" or request.method != "POST":
            return _json(404, {"errcode": 404, "errmsg": "not found"})
        if request.args.get("access_token") != DINGTALK_TOKEN:
            return _json(200, {"errcode": 300001, "errmsg": "token is not exist"})
        stamp, sign = request.args.get("timestamp", ""), request.args.get("sign", "")
        if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > 3600 * 1000:
            return _json(200, {"errcode": 310000, "errmsg": "timestamp is invalid"})
        digest = hmac.new(DINGTALK_SECRET.encode(), f"{stamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256).digest()
        # request.args has decoded the sign once, as DingTalk does
        if sign != base64.b64encode(digest).decode():
            return _json(200, {"errcode": 310000, "errmsg": "sign not match"})
        answer = self.scripted()
        if answer is not None:
            return answer
        try:
            body = json.loads(request.get_data())
            kind = body["msgtype"]
            if kind == "markdown":
                message = {"title": body["markdown"]["title"], "text": body["markdown"]["text"]}
            elif kind == "text":
                message = {"title": None, "text": body["text"]["content"]}
            else:
                raise ValueError(kind)
            message["at_mobiles"] = body.get("at", {}).get("atMobiles", [])
        except (ValueError, TypeError, KeyError, AttributeError):
            return _json(200, {"errcode": 40035, "errmsg": "缺少参数 json"})
        return self.accept(message, self.limited)


class FakeWeCom(RobotServer):
    """WeCom's group robot (群机器人): POST /cgi-bin/webhook/send?key=KEY with a text or markdown body."""

    limited = {"errcode": 45009, "errmsg": "api freq out of limit"}

    def handle(self, request: Request) -> Response:
        if request.path != "/cgi-bin/webhook/send" or request.method != "POST":
            return _json(404, {"errcode": 404, "errmsg": "not found"})
        if request.args.get("key") != WECOM_KEY:
            return _json(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
        answer = self.scripted()
        if answer is not None:
            return answer
        try:
            body = json.loads(request.get_data())
            kind = body["msgtype"]
            content = body[kind]["content"]
            if kind not in ("text", "markdown") or not isinstance(content, str) or len(content.encode()) > 4096:
                raise ValueError(kind)
        except (ValueError, TypeError, KeyError):
            return _json(200, {"errcode": 40008, "errmsg": "invalid message type"})
        return self.accept({"msgtype": kind, "text": content}, self.limited)
