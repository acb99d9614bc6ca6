"""No log the service writes carries a secret: ingest keys, bearer tokens, passwords, TOTP codes.

The gunicorn test serves the real ``wsgi:app`` with the repository's ``gunicorn.conf.py`` on
loopback, as ``make run`` does, and reads the access and error logs it wrote.
"""
from __future__ import annotations

import base64
import io
import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from correction.security import RedactingFilter
from tests.conftest import START

API = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]


def _formatted(logger_name: str, message: str, *args, exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        if exc is not None:
            try:
                raise exc
            except type(exc):
                logger.exception(message, *args)
        else:
            logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_the_log_filter_masks_every_kind_of_secret():
    key, token = "Kq3-ingest_key_value9", "bearer.token-value_42"
    text = _formatted("correction.test", "%s %s %s %s %s",
                      f"GET /api/v1/ingest/osmand?id={key}&lat=29.1&lon=119.6",
                      f"Authorization: Bearer {token}",
                      'login {"username": "officer1", "password": "Hunter-22", "totp": "492817"}',
                      f"owntracks Basic {base64.b64encode(f'{key}:'.encode()).decode()}",
                      "deviceid=abc123secret&token=tok987")
    for secret in (key, token, "Hunter-22", "492817", base64.b64encode(f"{key}:".encode()).decode(),
                   "abc123secret", "tok987"):
        assert secret not in text, (secret, text)
    assert "id=***&lat=29.1" in text and "officer1" in text  # only the secrets went


def test_a_logged_traceback_is_masked_too():
    text = _formatted("correction.test", "failed", exc=RuntimeError("bad request ?id=Kq3-key-in-traceback"))
    assert "RuntimeError" in text
    assert "Kq3-key-in-traceback" not in text


def _listening_port(server: subprocess.Popen, error_log: Path, seconds: float = 60) -> int:
    """The port a gunicorn started with ``--bind 127.0.0.1:0`` got, read from its error log (a fixed
    or pre-picked port could be taken by a concurrent test process in between)."""
    deadline = time.monotonic() + seconds
    while True:
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)",
                          error_log.read_text() if error_log.exists() else "")
        if found:
            return int(found.group(1))
        assert server.poll() is None and time.monotonic() < deadline, \
            error_log.read_text() if error_log.exists() else "gunicorn wrote no error log"
        time.sleep(0.1)


def _request(url: str, *, data: bytes | None = None, headers: dict | None = None, timeout: float = 10) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorn_logs_carry_no_ingest_key_token_or_credentials(make, auth, client, database_url, tmp_path):
    office = make.office()
    phone = auth.supervisee(make.supervisee(office))
    key = client.post(f"{API}/me/ingest-key", headers=phone).get_json()["ingest_key"]
    token = phone["Authorization"].split()[1]

    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "s" * 48,
           "CORRECTION_ENV": "test", "CORRECTION_LOG_LEVEL": "INFO"}
    # Every atom that could carry a secret, besides the default format's.
    log_format = ('%(h)s %(u)s "%(r)s" %(s)s q=%(q)s "%(f)s" "%({authorization}i)s" '
                  '"%({query_string}e)s" "%({raw_uri}e)s"')
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0",
         "--workers", "1", "--access-logfile", str(access), "--error-logfile", str(errors),
         "--log-level", "debug", "--access-logformat", log_format, "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{_listening_port(server, errors)}{API}"
        assert _request(f"{base}/health", timeout=60) == 200, errors.read_text()  # waits for the worker
        stamp = int(START.timestamp())
        assert _request(f"{base}/ingest/osmand?id={key}&lat=29.08&lon=119.65&timestamp={stamp}&accuracy=10",
                        data=b"", headers={"Referer": f"http://phone.example/?id={key}"}) in (200, 400)
        _request(f"{base}/ingest/osmand?deviceid={key}&lat=29.08&lon=119.65")
        basic = base64.b64encode(f"{key}:".encode()).decode()  # OwnTracks: the key as the user name
        _request(f"{base}/ingest/owntracks", data=b"{}",
                 headers={"Authorization": f"Basic {basic}", "Content-Type": "application/json"})
        _request(f"{base}/me", headers={"Authorization": f"Bearer {token}"})
        _request(f"{base}/me?access_token={token}")
    finally:
        server.terminate()
        server.wait(timeout=30)

    access_log, error_log = access.read_text(), errors.read_text()
    assert access_log.count("\n") >= 6, access_log  # every request was logged
    assert "/ingest/osmand?id=***&lat=29.08" in access_log
    for secret in (key, token, basic):
        assert secret not in access_log, (secret, access_log)
        assert secret not in error_log, (secret, error_log)
