"""Logs as JSON, one object a line: the request's id and caller, never a secret."""
from __future__ import annotations

import io
import json
import logging

import pytest

from correction.ops.logs import resolved_format
from correction.security import RedactingFilter
from tests.conftest import make_settings

API = "/api/v1"


@pytest.fixture
def settings_overrides():
    return {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}


@pytest.fixture
def log_lines(app):
    """What the application's log handler writes during the test, line by line."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactingFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [line for line in stream.getvalue().splitlines() if line]
    handler.setStream(previous)


def test_a_request_is_logged_as_one_json_object_with_its_id_and_caller(client, make, log_lines):
    scene = make.scene(officer_login=True)
    token = scene.headers["Authorization"].split()[1]
    response = client.get(f"{API}/supervisees/{scene.person_id}?access_token={token}",
                          headers={**scene.headers, "X-Request-ID": "req-4711"})
    assert response.status_code == 200
    records = [json.loads(line) for line in log_lines()]
    mine = [r for r in records if r.get("request_id") == "req-4711" and r["logger"] == "correction.request"]
    assert len(mine) == 1, records
    record = mine[0]
    assert record["level"] == "INFO"
    assert record["time"].endswith("Z")
    assert record["actor"] == {"kind": "officer", "id": scene.officer.officer.id}
    assert record["endpoint"] == f"{API}/supervisees/<id:supervisee_id>"
    assert (record["method"], record["status"]) == ("GET", 200)
    assert record["message"] == f"GET {API}/supervisees/{scene.person_id}?access_token=*** 200"
    text = "\n".join(log_lines())
    for private in (token, scene.officer.officer.username, scene.person.supervisee.phone,
                    scene.person.supervisee.name):
        assert private not in text


def test_a_login_is_logged_without_its_caller_and_without_the_password(client, make, auth, log_lines):
    scene = make.scene(phone=False)
    auth.supervisee_login(scene.person)
    record = next(json.loads(line) for line in log_lines() if "/auth/supervisee/login" in line)
    assert "actor" not in record and len(record["request_id"]) == 32
    assert scene.person.password not in "\n".join(log_lines())


def test_a_traceback_in_a_json_log_is_masked(app, log_lines):
    try:
        raise RuntimeError("upload failed ?id=Kq3-ingest-key-in-traceback password=Hunter-22")
    except RuntimeError:
        logging.getLogger("correction.test").exception("failed with token=tok987secret")
    record = json.loads(log_lines()[-1])
    assert record["message"] == "failed with token=***"
    assert "RuntimeError" in record["exc_info"]
    for secret in ("Kq3-ingest-key-in-traceback", "Hunter-22", "tok987secret"):
        assert secret not in log_lines()[-1]


def test_production_logs_json_and_the_suite_and_laptops_text():
    assert resolved_format(make_settings("sqlite://", ENV="production", SECRET_KEY="k" * 40)) == "json"
    assert resolved_format(make_settings("sqlite://")) == "text"
    assert resolved_format(make_settings("sqlite://", ENV="development")) == "text"
    assert resolved_format(make_settings("sqlite://", LOG_FORMAT="json")) == "json"
