"""Rate limits on every endpoint that costs: per client address, per caller, in a shared store."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from correction.app import create_app
from correction.config import Settings, SettingsError
from correction.database import db
from correction.ratelimit import RUN_REDIS_URL, refuse_shared_workers_on_memory, store_for_run
from correction.time import iso_z
from tests.conftest import make_settings
from tests.factories import API
from tests.assertions import error_of

ROOT = Path(__file__).resolve().parents[2]
PER_CALLER = ("INGEST", "UPLOAD", "CHECKIN", "STATUS_CODE", "CODE_VERIFY", "STATION_QR", "TRACK", "REPORT",
              "REPORT_FILE")


@pytest.fixture
def settings_overrides():
    """Two requests per caller, plenty per address: the per-caller limits are what is tested."""
    return {f"{name}_RATE_LIMIT": "2 per minute" for name in PER_CALLER}


class World:
    def __init__(self, client, make, auth, clock):
        self.client, self.clock = client, clock
        office = make.office()
        self.office = office
        self.officer_login = make.officer(office, role="supervisor")
        self.person = make.supervisee(office, self.officer_login.officer)
        self.other = make.supervisee(office, self.officer_login.officer)
        self.station = make.station(office)
        self.officer = auth.officer(self.officer_login)
        self.phone = auth.supervisee(self.person)
        self.other_phone = auth.supervisee(self.other)
        issued = client.post(f"{API}/me/ingest-key", headers=self.phone)
        assert issued.status_code == 201, issued.get_json()
        self.key = issued.get_json()["ingest_key"]

    def fix(self) -> dict:
        return {"recorded_at": iso_z(self.clock()), "lat": 29.0833, "lon": 119.6490, "accuracy_m": 10.0}

    def calls(self, name, addr="127.0.0.1"):
        """A request to the endpoint ``name``, from ``addr``: its first answer is a normal one."""
        c, env = self.client, {"REMOTE_ADDR": addr}
        pid = self.person.supervisee.id
        owntracks_auth = "Basic " + base64.b64encode(f"phone:{self.key}".encode()).decode()
        return {
            "osmand_get": lambda: c.get(f"{API}/ingest/osmand?id={self.key}&lat=29.08&lon=119.65"
                                        f"&timestamp={int(self.clock().timestamp())}", environ_base=env),
            "osmand_post": lambda: c.post(f"{API}/ingest/osmand", json={"device_id": self.key, "location": {
                "timestamp": iso_z(self.clock()), "coords": {"latitude": 29.08, "longitude": 119.65,
                                                              "accuracy": 10}}}, environ_base=env),
            "owntracks": lambda: c.post(f"{API}/ingest/owntracks", headers={"Authorization": owntracks_auth},
                                        json={"_type": "location", "lat": 29.08, "lon": 119.65, "acc": 10,
                                              "tst": int(self.clock().timestamp())}, environ_base=env),
            "upload": lambda: c.post(f"{API}/me/locations", headers=self.phone, json={"fixes": [self.fix()]},
                                     environ_base=env),
            "checkin": lambda: c.post(f"{API}/me/checkins", headers=self.phone,
                                      json={"kind": "remote", **self.fix()}, environ_base=env),
            "status_code": lambda: c.get(f"{API}/me/code.png", headers=self.phone, environ_base=env),
            "code_verify": lambda: c.post(f"{API}/codes/verify", headers=self.officer, json={"token": "x" * 20},
                                          environ_base=env),
            "station_qr": lambda: c.get(f"{API}/stations/{self.station.id}/qr", headers=self.officer,
                                        environ_base=env),
            "station_qr_png": lambda: c.get(f"{API}/stations/{self.station.id}/qr.png", headers=self.officer,
                                            environ_base=env),
            "track": lambda: c.get(f"{API}/supervisees/{pid}/track?from=2026-11-24T00:00:00Z"
                                   f"&to=2026-11-25T00:00:00Z", headers=self.officer, environ_base=env),
            "report": lambda: c.get(f"{API}/reports/weekly?week=2026-W47", headers=self.officer, environ_base=env),
            "report_pdf": lambda: c.get(f"{API}/reports/weekly?week=2026-W47&format=pdf", headers=self.officer,
                                        environ_base=env),
            "report_xlsx": lambda: c.get(f"{API}/reports/weekly?week=2026-W47&format=xlsx", headers=self.officer,
                                         environ_base=env),
        }[name]


@pytest.fixture
def world(client, make, auth, clock):
    return World(client, make, auth, clock)


def assert_rate_limited(response, limit: str) -> None:
    error = error_of(response, 429)
    assert error["code"] == "rate_limited"
    assert error["details"]["limit"] == limit
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert error["details"]["retry_after_seconds"] == retry


ENDPOINTS = ["osmand_get", "osmand_post", "owntracks", "upload", "checkin", "status_code", "code_verify",
             "station_qr", "station_qr_png", "track", "report", "report_pdf", "report_xlsx"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_each_costly_endpoint_answers_429_past_its_limit_per_caller(world, endpoint):
    call = world.calls(endpoint)
    for _ in range(2):
        response = call()
        assert response.status_code < 500 and response.status_code != 429, response.get_data(as_text=True)
    assert_rate_limited(call(), "caller")


@pytest.mark.parametrize("endpoint", ["osmand_get", "owntracks", "upload", "checkin", "status_code", "track",
                                      "report_pdf"])
def test_a_caller_is_limited_across_client_addresses(world, endpoint):
    assert world.calls(endpoint, "198.51.100.1")().status_code != 429
    assert world.calls(endpoint, "198.51.100.2")().status_code != 429
    assert_rate_limited(world.calls(endpoint, "203.0.113.9")(), "caller")


def test_the_ingest_limit_counts_the_key_whichever_protocol_sends_it(world):
    assert world.calls("osmand_get")().status_code == 200
    assert world.calls("owntracks")().status_code == 200
    assert_rate_limited(world.calls("osmand_post")(), "caller")


def test_the_station_code_and_its_picture_share_one_limit(world):
    assert world.calls("station_qr")().status_code == 200
    assert world.calls("station_qr_png")().status_code == 200
    assert_rate_limited(world.calls("station_qr")(), "caller")


def test_one_caller_past_the_limit_does_not_hold_back_another(world, client):
    for _ in range(2):
        world.calls("upload")()
    assert_rate_limited(world.calls("upload")(), "caller")
    other = client.post(f"{API}/me/locations", headers=world.other_phone, json={"fixes": [world.fix()]})
    assert other.status_code == 200, other.get_json()


def test_rendered_reports_have_their_own_tighter_limit(world):
    for _ in range(2):
        assert world.calls("report_pdf")().status_code == 200
    assert_rate_limited(world.calls("report_xlsx")(), "caller")


class TestPerClientAddress:
    @pytest.fixture
    def settings_overrides(self):
        return {"UPLOAD_CLIENT_RATE_LIMIT": "3 per minute", "INGEST_CLIENT_RATE_LIMIT": "2 per minute",
                "REPORT_FILE_CLIENT_RATE_LIMIT": "1 per minute"}

    def test_an_address_is_limited_whoever_calls_from_it(self, world, client):
        for phone in (world.phone, world.other_phone, world.phone):
            response = client.post(f"{API}/me/locations", headers=phone, json={"fixes": [world.fix()]})
            assert response.status_code == 200, response.get_json()
        refused = client.post(f"{API}/me/locations", headers=world.other_phone, json={"fixes": [world.fix()]})
        assert_rate_limited(refused, "client")
        elsewhere = client.post(f"{API}/me/locations", headers=world.other_phone, json={"fixes": [world.fix()]},
                                environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert elsewhere.status_code == 200

    def test_guessing_ingest_keys_is_limited_per_address(self, world, client):
        for n in range(2):
            answer = client.get(f"{API}/ingest/osmand?id=guess-{n}&lat=29.08&lon=119.65")
            assert answer.status_code == 400  # unknown device
        assert_rate_limited(client.get(f"{API}/ingest/osmand?id={world.key}&lat=29.08&lon=119.65"), "client")

    def test_the_address_is_counted_before_the_token_is_looked_at(self, world, client):
        first = client.get(f"{API}/reports/weekly?format=pdf", headers={"Authorization": "Bearer nonsense"})
        assert error_of(first, 401)
        assert_rate_limited(client.get(f"{API}/reports/weekly?format=pdf", headers=world.officer), "client")


@pytest.fixture
def apps():
    """Build more apps for a test (workers); their database connections are closed after it."""
    built = []

    def build(settings, clock):
        built.append(create_app(settings, clock=clock))
        return built[-1]

    yield build
    for app in built:
        with app.app_context():
            db.engine.dispose()


# --- the store ------------------------------------------------------------------------------

@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the machine's Redis; every key under it is removed after."""
    prefix = f"correction-test-{uuid.uuid4().hex}"
    server = redis.Redis.from_url(RUN_REDIS_URL)
    yield prefix
    keys = list(server.scan_iter(f"{prefix}*"))
    if keys:
        server.delete(*keys)
    assert not list(server.scan_iter(f"{prefix}*"))


def test_workers_sharing_redis_share_one_count(database_url, clock, make, auth, redis_prefix, apps):
    def worker():
        return apps(make_settings(database_url, RATELIMIT_STORAGE_URI=RUN_REDIS_URL,
                                  RATELIMIT_KEY_PREFIX=redis_prefix, UPLOAD_RATE_LIMIT="3 per minute"), clock)

    first, second = worker(), worker()
    office = make.office()
    phone = auth.supervisee(make.supervisee(office))
    body = {"fixes": [{"recorded_at": iso_z(clock()), "lat": 29.08, "lon": 119.65, "accuracy_m": 10.0}]}
    answers = [app.test_client().post(f"{API}/me/locations", headers=phone, json=body).status_code
               for app in (first, second, first)]
    assert answers == [200, 200, 200]
    assert_rate_limited(second.test_client().post(f"{API}/me/locations", headers=phone, json=body), "caller")
    assert list(redis.Redis.from_url(RUN_REDIS_URL).scan_iter(f"{redis_prefix}*"))


def test_a_store_that_is_down_does_not_turn_reports_away(database_url, clock, make, auth, caplog, apps):
    app = apps(make_settings(database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1"), clock)
    office = make.office()
    phone = auth.supervisee(make.supervisee(office))
    body = {"fixes": [{"recorded_at": iso_z(clock()), "lat": 29.08, "lon": 119.65, "accuracy_m": 10.0}]}
    response = app.test_client().post(f"{API}/me/locations", headers=phone, json=body)
    assert response.status_code == 200, response.get_json()
    assert "rate-limit store unavailable" in caplog.text


def test_make_run_uses_redis_when_it_answers_and_memory_otherwise():
    assert store_for_run({}) == RUN_REDIS_URL
    assert store_for_run({}, "redis://127.0.0.1:1") == "memory://"
    assert store_for_run({"CORRECTION_RATELIMIT_STORAGE_URI": "redis://cache:6379"}) == "redis://cache:6379"


def test_several_workers_on_a_per_process_store_are_refused():
    with pytest.raises(SystemExit, match="2 times the configured one"):
        refuse_shared_workers_on_memory(2, "memory://")
    refuse_shared_workers_on_memory(1, "memory://")
    refuse_shared_workers_on_memory(4, RUN_REDIS_URL)


def test_gunicorn_with_two_workers_on_memory_does_not_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORRECTION_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", CORRECTION_RATELIMIT_STORAGE_URI="memory://")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    done = subprocess.run([str(gunicorn), "--workers", "2", "--bind", "127.0.0.1:0", "wsgi:app"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "refusing to start 2 workers" in done.stderr


# --- settings -------------------------------------------------------------------------------

def test_a_limit_that_does_not_parse_stops_the_start():
    with pytest.raises(SettingsError, match="CORRECTION_UPLOAD_RATE_LIMIT"):
        Settings.from_env(environ={"CORRECTION_UPLOAD_RATE_LIMIT": "lots"})


def test_limits_cannot_be_switched_off_in_production():
    with pytest.raises(SettingsError, match="RATELIMIT_ENABLED"):
        Settings.from_env(environ={"CORRECTION_ENV": "production", "SECRET_KEY": "s" * 32,
                                   "CORRECTION_RATELIMIT_ENABLED": "false"})


def test_the_api_document_names_429_on_every_limited_operation(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    for path, method in [("/ingest/osmand", "get"), ("/ingest/owntracks", "post"), ("/me/locations", "post"),
                         ("/me/checkins", "post"), ("/reports/weekly", "get"), ("/me/code.png", "get"),
                         ("/stations/{station_id}/qr.png", "get"), ("/supervisees/{supervisee_id}/track", "get")]:
        assert "429" in paths[f"{API}{path}"][method]["responses"], path
