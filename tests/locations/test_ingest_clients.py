"""Real location apps: Traccar Client / OsmAnd protocol and OwnTracks HTTP mode.

Every request in tests/fixtures/clients is replayed as the app sends it, with the fixture's
device id replaced by a real ingest key. The frozen clock is set just after each fixture's own
timestamp, so old recordings are neither too old (retention) nor in the future. Stored values
are read back from location_fixes, in our units (m/s, percent).
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from correction.database import db
from correction.people.models import Device
from correction.time import iso_z
from tests.assertions import alerts, error_of, stored_fixes
from tests.factories import API, SQUARE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clients"

QUERY_LINES = (FIXTURES / "osmand_query_urls.txt").read_text().splitlines()
JSON_BODIES = [json.loads(line) for line in (FIXTURES / "osmand_json_bodies.jsonl").read_text().splitlines()
               if line.strip()]
OWNTRACKS = {path.stem: json.loads(path.read_text()) for path in sorted((FIXTURES / "owntracks").glob("*.json"))}
KNOT_MPS = 0.514444
UNKNOWN_ACCURACY_M = 100.0
OSMAND = f"{API}/ingest/osmand"
OWNTRACKS_URL = f"{API}/ingest/owntracks"


def test_the_shared_fixtures_are_all_there():
    assert len(QUERY_LINES) == 11 and len(JSON_BODIES) == 4
    assert set(OWNTRACKS) == {"cmd_report_location", "location_deserialize_extended", "location_with_created_at",
                              "transition_message", "valid_location_message", "waypoint_message"}


@pytest.fixture
def phone(client, make, auth):
    """A supervisee whose phone was given an ingest key: (scene, key)."""
    scene = make.scene(officer_login=True)
    issued = client.post(f"{API}/me/ingest-key", headers=scene.phone)
    assert issued.status_code == 201
    body = issued.get_json()
    assert body["osmand_url"].endswith("/api/v1/ingest/osmand")
    assert body["owntracks_url"].endswith("/api/v1/ingest/owntracks")
    return scene, body["ingest_key"]


def params_of(line: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(line).query, keep_blank_values=True)


def with_key(params, key):
    return [(name, key if name in ("id", "deviceid") else value) for name, value in params]


def osmand_time(raw: str | None, default: datetime) -> datetime:
    if raw is None:
        return default
    if raw.isdigit():
        number = int(raw)
        return datetime.fromtimestamp(number if number < 2_147_483_647 else number / 1000, timezone.utc)
    if "T" in raw:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def send_osmand(client, mode, params):
    if mode == "get":
        return client.get(f"{OSMAND}?{urlencode(params)}")
    if mode == "form":  # Traccar Client 10: POST application/x-www-form-urlencoded
        return client.post(OSMAND, data=urlencode(params), content_type="application/x-www-form-urlencoded")
    return client.post(f"{OSMAND}?{urlencode(params)}")  # legacy apps: POST, empty body, query params


MODES = ("get", "form", "post_query")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("number", range(1, len(QUERY_LINES) + 1))
def test_every_osmand_query_line_is_taken_as_traccar_sends_it(client, app, clock, phone, number, mode):
    scene, key = phone
    params = with_key(params_of(QUERY_LINES[number - 1]), key)
    values = dict(params)
    when = osmand_time(values.get("timestamp"), clock())  # absent: the moment it arrives
    if "timestamp" in values:
        clock.set(when + timedelta(minutes=1))
    response = send_osmand(client, mode, params)
    if "id" not in values and "deviceid" not in values:  # line 2
        assert error_of(response, 400)["code"] == "device_id_missing"
        assert stored_fixes(app) == []
        return
    if "lat" not in values and "location" not in values:  # line 1: cell and wifi only
        assert error_of(response, 400)["code"] == "invalid_fix"
        assert stored_fixes(app) == []
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.data == b""
    (stored,) = stored_fixes(app, scene.person_id)
    lat, lon = (values["lat"], values["lon"]) if "lat" in values else values["location"].split(",")
    assert (stored.lat, stored.lon) == (float(lat), float(lon))
    assert stored.recorded_at == when
    assert stored.source == "osmand" and stored.is_mock is False
    accuracy = next((float(values[k]) for k in ("accuracy", "hacc", "hdop") if float(values.get(k) or 0)),
                    UNKNOWN_ACCURACY_M)
    assert stored.accuracy_m == accuracy
    if "speed" in values:
        assert stored.speed_mps == pytest.approx(float(values["speed"]) * KNOT_MPS)  # knots in
    else:
        assert stored.speed_mps is None
    heading = values.get("bearing") or values.get("heading")
    assert stored.heading == (float(heading) if heading else None)
    assert stored.altitude_m == (float(values["altitude"]) if "altitude" in values else None)
    assert stored.battery == (float(values["batt"]) if "batt" in values else None)


@pytest.mark.parametrize("mode", MODES)
def test_an_unknown_osmand_device_is_400_in_query_and_form_mode(client, app, clock, phone, mode):
    params = params_of(QUERY_LINES[6])  # id=123456: the fixture's own id, which is no key of ours
    clock.set(datetime(2013, 8, 22, 13, 15, tzinfo=timezone.utc))
    assert error_of(send_osmand(client, mode, params), 400)["code"] == "unknown_device"
    assert stored_fixes(app) == []


def json_time(body) -> datetime:
    return datetime.fromisoformat(body["location"]["timestamp"].replace("Z", "+00:00"))


@pytest.mark.parametrize("number", range(1, len(JSON_BODIES) + 1))
def test_every_osmand_json_body_is_taken(client, app, clock, phone, number):
    scene, key = phone
    body = {**JSON_BODIES[number - 1], "device_id": key}
    clock.set(json_time(body) + timedelta(minutes=1))
    response = client.post(OSMAND, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.data == b""
    coords, location = body["location"]["coords"], body["location"]
    (stored,) = stored_fixes(app, scene.person_id)
    assert (stored.lat, stored.lon, stored.accuracy_m) == (coords["latitude"], coords["longitude"], coords["accuracy"])
    assert stored.recorded_at == json_time(body)
    assert stored.speed_mps == (coords["speed"] if coords["speed"] >= 0 else None)  # m/s in, m/s stored
    assert stored.heading == (coords["heading"] if coords["heading"] >= 0 else None)
    assert stored.altitude_m == coords["altitude"]
    level = location["battery"]["level"]
    assert stored.battery == (pytest.approx(level * 100) if level >= 0 else None)  # a fraction in, percent stored
    assert stored.is_mock is bool(location.get("mock"))
    assert stored.source == "osmand"
    assert len(alerts(app, scene.person_id, "mock_location")) == (1 if location.get("mock") else 0)


def test_the_mocked_json_fixture_raises_a_mock_location_alert(client, app, clock, phone):
    scene, key = phone
    body = {**JSON_BODIES[2], "device_id": key}
    assert body["location"]["mock"] is True
    clock.set(json_time(body) + timedelta(minutes=1))
    client.post(OSMAND, json=body)
    (alert,) = alerts(app, scene.person_id, "mock_location")
    assert (alert.evidence["source"], alert.evidence["lat"]) == ("osmand", body["location"]["coords"]["latitude"])


def test_an_unknown_osmand_device_is_404_in_json_mode(client, app, clock):
    body = JSON_BODIES[0]
    clock.set(json_time(body) + timedelta(minutes=1))
    assert error_of(client.post(OSMAND, json=body), 404)["code"] == "unknown_device"
    no_id = {k: v for k, v in body.items() if k != "device_id"}
    assert error_of(client.post(OSMAND, json=no_id), 400)["code"] == "device_id_missing"
    assert stored_fixes(app) == []


def test_a_json_body_without_a_position_is_400(client, app, phone):
    _, key = phone
    for body in ({"device_id": key}, {"device_id": key, "location": {"coords": {"latitude": 30.0}}},
                 {"device_id": key, "location": "somewhere"}):
        assert error_of(client.post(OSMAND, json=body), 400)["code"] == "invalid_fix"
    assert stored_fixes(app) == []


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"a string"'])
def test_a_json_body_that_is_not_an_object_is_400(client, app, text):
    response = client.post(OSMAND, data=text, content_type="application/json")
    assert error_of(response, 400)["code"] == "invalid_json"


# --- our own variants ----------------------------------------------------------------------------------

NOW = "now"
WHEN = datetime(2026, 11, 25, 1, 50, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, expected", [
    (str(int(WHEN.timestamp())), WHEN),                                             # epoch seconds
    (str(int(WHEN.timestamp()) * 1000 + 250), WHEN + timedelta(milliseconds=250)),  # epoch milliseconds
    ("2026-11-25T01:50:00Z", WHEN),                                                 # ISO 8601, UTC
    ("2026-11-25T09:50:00+08:00", WHEN),                                            # ISO 8601, an offset
    ("2026-11-25T01:50:00.5Z", WHEN + timedelta(milliseconds=500)),
    ("2026-11-25 01:50:00", WHEN),                                                  # yyyy-MM-dd HH:mm:ss, UTC
    (None, NOW),                                                                    # absent: now
    ("", NOW),
])
@pytest.mark.parametrize("mode", MODES)
def test_every_osmand_timestamp_format(client, app, clock, phone, mode, raw, expected):
    scene, key = phone
    expected = clock() if expected == NOW else expected
    params = [("id", key), ("lat", "29.05"), ("lon", "119.65"), ("accuracy", "12")]
    if raw is not None:
        params.append(("timestamp", raw))
    assert send_osmand(client, mode, params).status_code == 200
    (stored,) = stored_fixes(app, scene.person_id)
    assert stored.recorded_at == expected


def test_the_timestamp_format_also_applies_in_json_mode(client, app, phone):
    scene, key = phone
    for n, raw in enumerate([int(WHEN.timestamp()), int(WHEN.timestamp()) * 1000, "2026-11-25 01:50:00"]):
        body = {"device_id": key, "location": {"timestamp": raw, "coords": {
            "latitude": 29.05 + n / 1000, "longitude": 119.65, "accuracy": 5}}}
        if n:  # the same instant again is a duplicate: move it a little
            body["location"]["timestamp"] = raw + n if isinstance(raw, int) else "2026-11-25 01:50:02"
        assert client.post(OSMAND, json=body).status_code == 200
    assert [f.recorded_at for f in stored_fixes(app, scene.person_id)] == [
        WHEN, WHEN + timedelta(milliseconds=1), WHEN + timedelta(seconds=2)]


@pytest.mark.parametrize("mode", MODES)
def test_an_unreadable_timestamp_is_400(client, app, phone, mode):
    _, key = phone
    response = send_osmand(client, mode, [("id", key), ("lat", "29.05"), ("lon", "119.65"), ("timestamp", "25/11/2026")])
    assert error_of(response, 400)["code"] == "invalid_fix"
    assert stored_fixes(app) == []


@pytest.mark.parametrize("mode", MODES)
def test_query_and_form_speed_is_knots_and_batt_a_percent(client, app, phone, mode):
    scene, key = phone
    params = [("id", key), ("lat", "29.05"), ("lon", "119.65"), ("timestamp", "2026-11-25T01:59:00Z"),
              ("speed", "10"), ("bearing", "90.5"), ("altitude", "55.5"), ("batt", "42"), ("accuracy", "7")]
    assert send_osmand(client, mode, params).status_code == 200
    (stored,) = stored_fixes(app, scene.person_id)
    assert stored.speed_mps == pytest.approx(5.14444)
    assert (stored.heading, stored.altitude_m, stored.battery, stored.accuracy_m) == (90.5, 55.5, 42.0, 7.0)


def test_json_speed_is_metres_per_second_and_battery_a_fraction(client, app, phone):
    scene, key = phone
    body = {"device_id": key, "location": {"timestamp": "2026-11-25T01:59:00Z", "battery": {"level": 0.42},
                                           "coords": {"latitude": 29.05, "longitude": 119.65, "accuracy": 7,
                                                      "speed": 10, "heading": 90.5, "altitude": 55.5}}}
    assert client.post(OSMAND, json=body).status_code == 200
    (stored,) = stored_fixes(app, scene.person_id)
    assert (stored.speed_mps, stored.heading, stored.altitude_m, stored.accuracy_m) == (10.0, 90.5, 55.5, 7.0)
    assert stored.battery == pytest.approx(42.0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("flag, mocked", [("true", True), ("1", True), ("false", False)])
def test_the_mock_flag_in_query_and_form_mode(client, app, phone, mode, flag, mocked):
    scene, key = phone
    params = [("id", key), ("lat", "29.05"), ("lon", "119.65"), ("timestamp", "2026-11-25T01:59:00Z"), ("mock", flag)]
    assert send_osmand(client, mode, params).status_code == 200
    (stored,) = stored_fixes(app, scene.person_id)
    assert stored.is_mock is mocked
    assert len(alerts(app, scene.person_id, "mock_location")) == int(mocked)


def test_the_device_may_be_named_deviceid_and_the_position_location(client, app, phone):
    scene, key = phone
    assert send_osmand(client, "get", [("deviceid", key), ("location", "29.05,119.65"),
                                       ("timestamp", "2026-11-25T01:59:00Z")]).status_code == 200
    (stored,) = stored_fixes(app, scene.person_id)
    assert (stored.lat, stored.lon) == (29.05, 119.65)


@pytest.mark.parametrize("given, expected", [
    ([("accuracy", "8"), ("hacc", "20"), ("hdop", "30")], 8.0),
    ([("hacc", "20"), ("hdop", "30")], 20.0),
    ([("hacc", "0"), ("hdop", "30")], 30.0),
    ([("accuracy", "0"), ("hacc", "0"), ("hdop", "0")], UNKNOWN_ACCURACY_M),
])
def test_accuracy_is_read_from_accuracy_then_hacc_then_hdop_and_zero_means_unknown(client, app, phone, given,
                                                                                   expected):
    scene, key = phone
    params = [("id", key), ("lat", "29.05"), ("lon", "119.65"), ("timestamp", "2026-11-25T01:59:00Z"), *given]
    assert send_osmand(client, "get", params).status_code == 200
    (stored,) = stored_fixes(app, scene.person_id)
    assert stored.accuracy_m == expected


def test_a_resent_osmand_report_is_stored_once_and_still_answered_200(client, app, phone):
    scene, key = phone
    params = [("id", key), ("lat", "29.05"), ("lon", "119.65"), ("timestamp", "2026-11-25T01:59:00Z")]
    for mode in MODES:
        assert send_osmand(client, mode, params).status_code == 200
    assert len(stored_fixes(app, scene.person_id)) == 1


def test_a_report_the_pipeline_refuses_is_answered_200_so_the_app_stops_retrying(client, app, phone, clock):
    scene, key = phone
    for params in ([("id", key), ("lat", "95"), ("lon", "119.65")],
                   [("id", key), ("lat", "29.05"), ("lon", "119.65"), ("timestamp", "2030-01-01T00:00:00Z")]):
        assert send_osmand(client, "get", params).status_code == 200
    assert stored_fixes(app) == []
    # ... but the phone keeps the count and the last reason, for the officer (see the signal-lost alert)
    with app.app_context():
        device = db.session.execute(sa.select(Device).where(Device.supervisee_id == scene.person_id,
                                                            Device.active)).scalar_one()
        assert (device.refused_fixes, device.last_refusal, device.last_refusal_at) == (2, "fix_in_future", clock())


def test_an_unnumeric_position_is_400(client, app, phone):
    _, key = phone
    assert error_of(send_osmand(client, "get", [("id", key), ("lat", "north"), ("lon", "119.65")]), 400)["code"] \
        == "invalid_fix"


def test_a_new_ingest_key_retires_the_old_one(client, app, phone):
    scene, old = phone
    new = client.post(f"{API}/me/ingest-key", headers=scene.phone).get_json()["ingest_key"]
    assert new != old
    params = [("lat", "29.05"), ("lon", "119.65"), ("timestamp", "2026-11-25T01:59:00Z")]
    assert error_of(send_osmand(client, "get", [("id", old), *params]), 400)["code"] == "unknown_device"
    assert send_osmand(client, "get", [("id", new), *params]).status_code == 200


def test_officers_get_no_ingest_key(client, phone):
    scene, _ = phone
    assert client.post(f"{API}/me/ingest-key", headers=scene.headers).status_code == 403


# --- OwnTracks -----------------------------------------------------------------------------------------

def basic(key: str, user: str = "phone") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}


def owntracks(client, key, message, **headers):
    data = message if isinstance(message, (str, bytes)) else json.dumps(message)
    return client.post(OWNTRACKS_URL, data=data, content_type="application/json",
                       headers={**basic(key), "X-Limit-U": "phone", "X-Limit-D": "android", **headers})


def assert_owntracks_ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json() == []


@pytest.mark.parametrize("name", sorted(OWNTRACKS))
def test_every_owntracks_message_answers_an_empty_list_and_positions_are_stored(client, app, clock, phone, name):
    scene, key = phone
    message = OWNTRACKS[name]
    if "tst" in message:
        clock.set(datetime.fromtimestamp(message["tst"], timezone.utc) + timedelta(minutes=1))
    assert_owntracks_ok(owntracks(client, key, message))
    found = stored_fixes(app, scene.person_id)
    if message["_type"] not in ("location", "transition"):  # waypoint, cmd: nothing to store
        assert found == []
        return
    (stored,) = found
    assert (stored.lat, stored.lon, stored.source) == (message["lat"], message["lon"], "owntracks")
    assert stored.recorded_at == datetime.fromtimestamp(message["tst"], timezone.utc)
    assert stored.accuracy_m == message["acc"]
    assert stored.speed_mps == (pytest.approx(message["vel"] / 3.6) if "vel" in message else None)  # km/h in
    assert stored.heading == message.get("cog")
    assert stored.altitude_m == message.get("alt")
    assert stored.battery == message.get("batt")
    assert stored.is_mock is False


def test_owntracks_numbers_may_arrive_as_strings_and_vel_is_km_h(client, app, clock, phone):
    scene, key = phone
    message = {"_type": "location", "lat": "29.05", "lon": "119.65", "tst": str(int(clock().timestamp()) - 60),
               "acc": "12", "vel": "36", "cog": "180", "alt": "40.5", "batt": "77", "bs": "1"}
    assert_owntracks_ok(owntracks(client, key, message))
    (stored,) = stored_fixes(app, scene.person_id)
    assert (stored.lat, stored.lon, stored.accuracy_m) == (29.05, 119.65, 12.0)
    assert stored.speed_mps == pytest.approx(10.0)
    assert (stored.heading, stored.altitude_m, stored.battery) == (180.0, 40.5, 77.0)
    assert stored.recorded_at == clock() - timedelta(minutes=1)


def test_an_owntracks_location_without_accuracy_gets_the_unknown_accuracy(client, app, clock, phone):
    scene, key = phone
    message = {"_type": "location", "lat": 29.05, "lon": 119.65, "tst": int(clock().timestamp())}
    assert_owntracks_ok(owntracks(client, key, message))
    assert stored_fixes(app, scene.person_id)[0].accuracy_m == UNKNOWN_ACCURACY_M


@pytest.mark.parametrize("body", [b"", b"   ", b"\n"])
def test_an_empty_owntracks_body_is_ignored_with_200(client, app, phone, body):
    _, key = phone
    assert_owntracks_ok(owntracks(client, key, body))
    assert stored_fixes(app) == []


def test_a_resent_owntracks_location_is_stored_once(client, app, clock, phone):
    scene, key = phone
    message = {"_type": "location", "lat": 29.05, "lon": 119.65, "tst": int(clock().timestamp()), "acc": 5}
    for _ in range(3):
        assert_owntracks_ok(owntracks(client, key, message))
    assert len(stored_fixes(app, scene.person_id)) == 1


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer whatever"},
    {"Authorization": "Basic !!!not-base64"},
    basic("not-the-key"),
    basic(""),
])
def test_owntracks_without_the_right_ingest_key_is_401_with_a_basic_challenge(client, app, phone, headers):
    message = OWNTRACKS["valid_location_message"]
    response = client.post(OWNTRACKS_URL, data=json.dumps(message), content_type="application/json",
                           headers=headers)
    assert error_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert stored_fixes(app) == []


def test_an_empty_body_without_a_key_is_still_401(client):
    response = client.post(OWNTRACKS_URL, data=b"", content_type="application/json")
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("text, code", [("{broken", "invalid_json"), ("[]", "invalid_json"),
                                        ('{"_type": "location", "lat": 29.05, "lon": 119.65}', "invalid_fix"),
                                        ('{"_type": "location", "lat": "x", "lon": 1, "tst": 1}', "invalid_fix")])
def test_an_owntracks_body_that_cannot_be_read_is_400(client, app, phone, text, code):
    _, key = phone
    assert error_of(owntracks(client, key, text), 400)["code"] == code
    assert stored_fixes(app) == []


def test_an_owntracks_fix_in_the_pipeline_raises_zone_alerts_like_any_other(client, app, make, auth, clock):
    scene = make.scene(officer_login=True, zone=SQUARE)  # with the permitted square
    key = client.post(f"{API}/me/ingest-key", headers=scene.phone).get_json()["ingest_key"]
    for minutes in (3, 2):
        message = {"_type": "location", "lat": 29.05, "lon": 119.75, "acc": 10,
                   "tst": int((clock() - timedelta(minutes=minutes)).timestamp())}
        assert_owntracks_ok(owntracks(client, key, message))
    (alert,) = alerts(app, scene.person_id, "zone_exit")
    assert alert.evidence["recorded_at"] == iso_z(clock() - timedelta(minutes=2))
