"""Approved leave permits the destination and the way there, for every fix taken during it."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.checkins import qr
from correction.database import db
from correction.tools.seed import DISTRICT
from correction.time import iso_z
from tests.factories import API

HANGZHOU = {"type": "Circle", "center": [120.1551, 30.2741], "radius_m": 30000}


def _scene(make):
    """An office with a station, its officer, and a supervisee whose permitted area is the district;
    (station, the officer's headers, the phone's, the supervisee's id)."""
    scene = make.scene(station=True, officer_login=True)
    make.zone(scene, DISTRICT, name="婺城区")
    return scene.station, scene.headers, scene.phone, scene.person_id


def _fixes(start, points):
    return [{"recorded_at": iso_z(start + timedelta(minutes=15 * i)), "lat": lat, "lon": lon, "accuracy_m": 15}
            for i, (lat, lon) in enumerate(points)]


def _zone_exits(app, person_id):
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).where(
            Alert.supervisee_id == person_id, Alert.type == "zone_exit")).scalar_one()


def test_fixes_from_the_journey_uploaded_after_the_return_are_still_permitted(client, app, make, auth, clock):
    station, officer, phone, person_id = _scene(make)
    start = clock()
    leave = client.post(f"{API}/me/leave-requests", headers=phone, json={
        "destination_name": "杭州", "destination_geometry": HANGZHOU, "reason": "就医",
        "start_at": iso_z(start + timedelta(hours=1)), "end_at": iso_z(start + timedelta(hours=12))})
    assert leave.status_code == 201
    assert client.post(f"{API}/leave-requests/{leave.get_json()['id']}/approve", headers=officer,
                       json={}).status_code == 200
    # The journey home from Hangzhou, taken during the leave: outside the district, on the route.
    journey = _fixes(start + timedelta(hours=2), [(30.27, 120.15), (29.97, 120.03), (29.67, 119.90),
                                                  (29.37, 119.77), (29.08, 119.64), (29.08, 119.64)])
    # Back home, the phone reports in at the station before it has uploaded the journey.
    clock.set(start + timedelta(hours=4))
    token, _ = qr.station_token(station.qr_secret, station.id, clock(), 30)
    back = client.post(f"{API}/me/checkins", headers=phone, json={
        "kind": "station", "qr": token, "lat": station.lat, "lon": station.lon, "accuracy_m": 10,
        "recorded_at": iso_z(clock())})
    assert back.status_code == 201, back.get_json()
    assert back.get_json()["window_key"].startswith("return:")
    uploaded = client.post(f"{API}/me/locations", headers=phone, json={"fixes": journey})
    assert uploaded.get_json()["stored"] == len(journey)
    assert _zone_exits(app, person_id) == 0


def test_the_same_journey_without_leave_is_a_zone_exit(client, app, make, auth, clock):
    _station, _officer, phone, person_id = _scene(make)
    journey = _fixes(clock() - timedelta(hours=2), [(29.08, 119.64), (29.37, 119.77), (29.67, 119.90),
                                                    (29.97, 120.03)])
    assert client.post(f"{API}/me/locations", headers=phone, json={"fixes": journey}).status_code == 200
    assert _zone_exits(app, person_id) == 1


def test_approval_adds_the_destination_and_the_route_only_for_the_leave(client, app, make, auth, clock):
    _station, officer, phone, person_id = _scene(make)
    start = clock()
    leave = client.post(f"{API}/me/leave-requests", headers=phone, json={
        "destination_name": "杭州", "destination_geometry": HANGZHOU, "reason": "探亲",
        "start_at": iso_z(start + timedelta(days=1)), "end_at": iso_z(start + timedelta(days=2))}).get_json()
    client.post(f"{API}/leave-requests/{leave['id']}/approve", headers=officer, json={})
    zones = client.get(f"{API}/supervisees/{person_id}/zones", headers=officer).get_json()["items"]
    assert sorted((z["kind"], z["leave_request_id"] is not None) for z in zones) == [
        ("permitted", False), ("permitted", True), ("permitted", True)]
    # A trip to Hangzhou before the leave starts is still a zone exit.
    trip = _fixes(start - timedelta(hours=1), [(30.27, 120.15), (30.27, 120.15), (30.27, 120.15)])
    client.post(f"{API}/me/locations", headers=phone, json={"fixes": trip})
    assert _zone_exits(app, person_id) == 1
