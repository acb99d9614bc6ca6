"""Real location apps as clients: every shared fixture of Traccar Client (OsmAnd) and OwnTracks.

Fixtures are read from tests/fixtures/clients; the device id in each is replaced by a real
ingest key. The frozen clock is set just after each fixture's own timestamp, so old fixtures are
neither too old nor in the future.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.database import db
from correction.locations.models import LocationFix
from tests.factories import API

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clients"
QUERY_LINES = (FIXTURES / "osmand_query_urls.txt").read_text().split()
JSON_BODIES = [json.loads(line) for line in (FIXTURES / "osmand_json_bodies.jsonl").read_text().splitlines() if line]
KNOT = 0.514444


@pytest.fixture
def phone(client, make, auth):
    """A supervisee whose phone has an ingest key; returns (supervisee id, key)."""
    office = make.office()
    person = make.supervisee(office, make.officer(office).officer)
    key = client.post(f"{API}/me/ingest-key", headers=auth.supervisee(person)).get_json()["ingest_key"]
    return person.supervisee.id, key


def fixes_of(app, person_id):
    with app.app_context():
        rows = db.session.execute(sa.select(LocationFix).where(LocationFix.supervisee_id == person_id)
                                  .order_by(LocationFix.id)).scalars().all()
        db.session.expunge_all()
        return rows


def with_key(params: list[tuple[str, str]], key: str) -> list[tuple[str, str]]:
    return [(name, key if name in ("id", "deviceid") else value) for name, value in params]


def expected_time(params: dict, clock) -> datetime:
    raw = params.get("timestamp")
    if raw is None:
        return clock()
    if raw.isdigit():
        number = int(raw)
        return datetime.fromtimestamp(number if number < 2_147_483_647 else number / 1000, timezone.utc)
    if "T" in raw:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("mode", ["get", "form", "post-query"])
@pytest.mark.parametrize("line", range(len(QUERY_LINES)), ids=lambda i: f"line{i + 1}")
def test_every_osmand_query_line_is_taken_as_traccar_sends_it(client, app, clock, phone, line, mode):
    person_id, key = phone
    params = parse_qsl(urlsplit(QUERY_LINES[line]).query)
    as_dict = dict(params)
    clock.set(expected_time(as_dict, clock) + timedelta(seconds=60) if "timestamp" in as_dict else clock())
    sent = with_key(params, key)
    if mode == "get":
        response = client.get(f"{API}/ingest/osmand?{urlencode(sent)}")
    elif mode == "form":
        response = client.post(f"{API}/ingest/osmand", data=urlencode(sent),
                               content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(f"{API}/ingest/osmand?{urlencode(sent)}", data=b"")
    has_id = "id" in as_dict or "deviceid" in as_dict
    has_position = ("lat" in as_dict and "lon" in as_dict) or "location" in as_dict
    if not has_id:
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "device_id_missing"
        return
    if not has_position:
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_fix"
        assert fixes_of(app, person_id) == []
        return
    assert response.status_code == 200 and response.data == b""
    [fix] = fixes_of(app, person_id)
    lat, lon = (as_dict["location"].split(",") if "location" in as_dict else (as_dict["lat"], as_dict["lon"]))
    assert (fix.lat, fix.lon) == (float(lat), float(lon))
    assert fix.recorded_at == expected_time(as_dict, clock)
    assert fix.source == "osmand" and fix.is_mock is False
    if "speed" in as_dict:
        assert fix.speed_mps == pytest.approx(float(as_dict["speed"]) * KNOT)  # knots on the wire
    if "batt" in as_dict:
        assert fix.battery == float(as_dict["batt"])  # a percent in query and form mode
    if "altitude" in as_dict:
        assert fix.altitude_m == pytest.approx(float(as_dict["altitude"]))
    assert fix.accuracy_m > 0  # hdop 0 or none: the configured unknown accuracy, never zero


def test_an_unknown_osmand_device_is_400_in_query_mode(client):
    response = client.get(f"{API}/ingest/osmand?id=not-a-key&lat=29.08&lon=119.65")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "unknown_device"


@pytest.mark.parametrize("index", range(len(JSON_BODIES)), ids=lambda i: f"body{i + 1}")
def test_every_osmand_json_body_is_taken(client, app, clock, phone, index):
    person_id, key = phone
    body = json.loads(json.dumps(JSON_BODIES[index]))
    body["device_id"] = key
    location = body["location"]
    recorded = datetime.fromisoformat(location["timestamp"].replace("Z", "+00:00"))
    clock.set(recorded + timedelta(seconds=60))
    response = client.post(f"{API}/ingest/osmand", json=body)
    assert response.status_code == 200
    [fix] = fixes_of(app, person_id)
    coords = location["coords"]
    assert (fix.lat, fix.lon, fix.recorded_at) == (coords["latitude"], coords["longitude"], recorded)
    assert fix.accuracy_m == coords["accuracy"]
    assert fix.speed_mps == (coords["speed"] if coords["speed"] >= 0 else None)  # m/s in JSON, -1 unknown
    assert fix.heading == (coords["heading"] if coords["heading"] >= 0 else None)
    level = location["battery"]["level"]
    assert fix.battery == (round(level * 100, 1) if level >= 0 else None)  # a 0..1 fraction in JSON
    mocked = bool(location.get("mock"))
    assert fix.is_mock is mocked
    with app.app_context():
        alerts = db.session.execute(sa.select(Alert.type).where(Alert.supervisee_id == person_id)).scalars().all()
    assert alerts == (["mock_location"] if mocked else [])


def test_an_unknown_osmand_device_is_404_in_json_mode(client):
    body = json.loads(json.dumps(JSON_BODIES[0]))
    body["device_id"] = "not-a-key"
    assert client.post(f"{API}/ingest/osmand", json=body).status_code == 404


def test_a_resent_osmand_fix_is_stored_once(client, app, clock, phone):
    person_id, key = phone
    query = f"id={key}&lat=29.08&lon=119.65&timestamp={int(clock().timestamp()) - 30}&accuracy=8"
    for _ in range(3):
        assert client.get(f"{API}/ingest/osmand?{query}").status_code == 200
    assert len(fixes_of(app, person_id)) == 1


# --- OwnTracks ---------------------------------------------------------------------------------

def owntracks(client, key, payload, raw: bytes | None = None):
    headers = {"Authorization": "Basic " + base64.b64encode(f"phone:{key}".encode()).decode()}
    if raw is not None:
        return client.post(f"{API}/ingest/owntracks", data=raw, headers=headers, content_type="application/json")
    return client.post(f"{API}/ingest/owntracks", json=payload, headers=headers)


OWNTRACKS = sorted(p.name for p in (FIXTURES / "owntracks").glob("*.json"))


@pytest.mark.parametrize("name", OWNTRACKS)
def test_every_owntracks_message_answers_an_empty_list_and_stores_positions_only(client, app, clock, phone, name):
    person_id, key = phone
    message = json.loads((FIXTURES / "owntracks" / name).read_text())
    if "tst" in message:
        clock.set(datetime.fromtimestamp(message["tst"], timezone.utc) + timedelta(seconds=60))
    response = owntracks(client, key, message)
    assert response.status_code == 200 and response.get_json() == []
    stored = fixes_of(app, person_id)
    if message["_type"] in ("location", "transition"):
        [fix] = stored
        assert (fix.lat, fix.lon, fix.source) == (message["lat"], message["lon"], "owntracks")
        assert fix.recorded_at == datetime.fromtimestamp(message["tst"], timezone.utc)
        assert fix.accuracy_m == message["acc"]
        if "vel" in message:
            assert fix.speed_mps == pytest.approx(message["vel"] / 3.6)  # km/h on the wire
        if "batt" in message:
            assert fix.battery == message["batt"]
    else:
        assert stored == []  # waypoints and commands carry no position of the phone


def test_owntracks_numbers_may_arrive_as_strings(client, app, clock, phone):
    person_id, key = phone
    tst = int(clock().timestamp()) - 10
    message = {"_type": "location", "lat": "29.0812", "lon": "119.6521", "tst": str(tst), "acc": "12",
               "vel": "36", "batt": "55"}
    assert owntracks(client, key, message).get_json() == []
    [fix] = fixes_of(app, person_id)
    assert (fix.lat, fix.lon, fix.accuracy_m, fix.speed_mps, fix.battery) == (29.0812, 119.6521, 12.0, 10.0, 55.0)


def test_an_empty_owntracks_body_is_ignored_with_200(client, phone):
    _person_id, key = phone
    response = owntracks(client, key, None, raw=b"")
    assert response.status_code == 200 and response.get_json() == []


@pytest.mark.parametrize("authorization", [None, "Basic " + base64.b64encode(b"phone:wrong").decode(), "Bearer x"])
def test_owntracks_without_the_ingest_key_is_401_with_a_basic_challenge(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(f"{API}/ingest/owntracks", json={"_type": "location"}, headers=headers)
    assert response.status_code == 401
    assert re.match(r'Basic realm="', response.headers["WWW-Authenticate"])


def test_a_new_ingest_key_retires_the_old_one(client, make, auth):
    office = make.office()
    person = make.supervisee(office, make.officer(office).officer)
    headers = auth.supervisee(person)
    old = client.post(f"{API}/me/ingest-key", headers=headers).get_json()["ingest_key"]
    new = client.post(f"{API}/me/ingest-key", headers=headers).get_json()["ingest_key"]
    assert client.get(f"{API}/ingest/osmand?id={old}&lat=29.08&lon=119.65").status_code == 400
    assert client.get(f"{API}/ingest/osmand?id={new}&lat=29.08&lon=119.65").status_code == 200
