"""A forwarded station code is flagged, not refused: one code read from two places, or a phone elsewhere."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from geopy.distance import geodesic

from correction.alerts.models import Alert
from correction.checkins import qr
from correction.database import db
from correction.people.models import Station
from correction.time import iso_z
from tests.factories import API


@dataclass
class Phone:
    person_id: int
    headers: dict[str, str]


@dataclass
class Scene:
    station: Station
    a: Phone
    b: Phone


@pytest.fixture
def scene(make, auth) -> Scene:
    office = make.office()
    station = make.station(office, radius_m=100.0)
    officer = make.officer(office).officer

    def phone() -> Phone:
        login = make.supervisee(office, officer, level="strict")
        return Phone(login.supervisee.id, auth.supervisee(login))
    return Scene(station, phone(), phone())


def point(station: Station, metres: float, bearing: float = 90.0) -> tuple[float, float]:
    there = geodesic(meters=metres).destination((station.lat, station.lon), bearing)
    return there.latitude, there.longitude


def station_check_in(client, scene: Scene, phone: Phone, at, where, accuracy_m=5.0, code_at=None):
    code = qr.station_token(scene.station.qr_secret, scene.station.id, code_at or at, 30)[0]
    response = client.post(f"{API}/me/checkins", headers=phone.headers, json={
        "kind": "station", "qr": code, "lat": where[0], "lon": where[1], "accuracy_m": accuracy_m,
        "recorded_at": iso_z(at), "is_mock": False})
    assert response.status_code == 201, response.get_json()  # flagged, never refused
    return response.get_json()


def doubts(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        return [(a.supervisee_id, a.subject_key.split(":")[0], a.evidence["reason"]) for a in db.session.execute(
            sa.select(Alert).where(Alert.type == "doubtful_checkin").order_by(Alert.id)).scalars()]


def test_one_code_read_from_two_places_too_far_apart_flags_both_phones(client, app, clock, scene):
    station_check_in(client, scene, scene.a, clock(), point(scene.station, 0))
    second = station_check_in(client, scene, scene.b, clock() + timedelta(seconds=10), point(scene.station, 105),
                              accuracy_m=10, code_at=clock())
    assert sorted(doubts(app)) == sorted([(scene.a.person_id, "shared_code", "shared_code"),
                                          (scene.b.person_id, "shared_code", "shared_code")])
    with app.app_context():
        evidence = db.session.execute(sa.select(Alert.evidence).where(Alert.supervisee_id == scene.b.person_id)
                                      ).scalar_one()
    assert (evidence["checkin_id"], evidence["metres_apart"]) == (second["id"], 105)


def test_two_people_reading_one_screen_side_by_side_are_not_flagged(client, app, clock, scene):
    # Indoors both fixes scatter: 35 m apart, within their accuracies (15 + 20 m) and the slack (30 m).
    station_check_in(client, scene, scene.a, clock(), point(scene.station, 20), accuracy_m=15)
    station_check_in(client, scene, scene.b, clock() + timedelta(seconds=5), point(scene.station, 15, 270),
                     accuracy_m=20, code_at=clock())
    assert doubts(app) == []


def test_codes_of_different_steps_are_not_one_code(client, app, clock, scene):
    station_check_in(client, scene, scene.a, clock(), point(scene.station, 0))
    later = clock() + timedelta(seconds=31)
    station_check_in(client, scene, scene.b, later, point(scene.station, 105), accuracy_m=10)
    assert doubts(app) == []


def upload(client, phone: Phone, at, where, accuracy_m=10.0):
    response = client.post(f"{API}/me/locations", headers=phone.headers, json={"fixes": [
        {"recorded_at": iso_z(at), "lat": where[0], "lon": where[1], "accuracy_m": accuracy_m}]})
    assert response.get_json()["stored"] == 1, response.get_json()


def test_a_phone_whose_own_fix_a_minute_before_was_3_km_away_is_flagged(client, app, clock, scene):
    upload(client, scene.a, clock() - timedelta(minutes=1), point(scene.station, 3000))
    checkin = station_check_in(client, scene, scene.a, clock(), point(scene.station, 0))
    assert doubts(app) == [(scene.a.person_id, "presence", "elsewhere")]
    with app.app_context():
        evidence = db.session.execute(sa.select(Alert.evidence)).scalar_one()
    assert (evidence["checkin_id"], evidence["minutes_apart"]) == (checkin["id"], 1.0)
    assert 2800 < evidence["metres_from_station"] < 3000
    assert "lat" not in evidence and "lon" not in evidence


def test_a_phone_that_was_3_km_away_half_an_hour_before_had_time_to_come(client, app, clock, scene):
    upload(client, scene.a, clock() - timedelta(minutes=29), point(scene.station, 3000))
    upload(client, scene.a, clock() - timedelta(minutes=2), point(scene.station, 50))
    station_check_in(client, scene, scene.a, clock(), point(scene.station, 0))
    assert doubts(app) == []
