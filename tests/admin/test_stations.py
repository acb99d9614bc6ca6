"""Stations: an admin creates, moves, re-keys and retires them; old codes stop working at once."""
from __future__ import annotations

from correction.audit.models import AuditEntry
from correction.people.models import Station
from tests.admin.conftest import ADMIN
from tests.assertions import checkins_of, error_code, error_of, rows
from tests.factories import API, STATION_LAT, post_checkin, station_code


def test_admin_creates_a_station_without_ever_seeing_its_secret(client, app, bureau):
    response = client.post(f"{ADMIN}/stations", headers=bureau.headers, json={
        "office_id": bureau.org.office.id, "name": "城中报到点", "lat": 29.08, "lon": 119.65, "radius_m": 120})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {"id": body["id"], "office_id": bureau.org.office.id, "name": "城中报到点", "lat": 29.08,
                    "lon": 119.65, "radius_m": 120.0, "active": True, "secret_rotated_at": None}
    (station,) = rows(app, Station, Station.id == body["id"])
    assert len(station.qr_secret) == 64
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "station.create")
    assert entry.target_id == body["id"] and station.qr_secret not in str(entry.details)
    assert entry.details["after"]["radius_m"] == 120.0


def test_moving_a_station_is_audited_and_judges_check_ins_at_the_new_place(client, app, make, bureau):
    station = make.station(bureau.org.office)
    response = client.patch(f"{ADMIN}/stations/{station.id}", headers=bureau.headers,
                            json={"lat": 29.1, "radius_m": 50})
    assert response.status_code == 200, response.get_json()
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "station.update")
    assert entry.details == {"before": {"lat": STATION_LAT, "radius_m": 100.0}, "after": {"lat": 29.1, "radius_m": 50.0}}
    bad = client.patch(f"{ADMIN}/stations/{station.id}", headers=bureau.headers, json={"lat": 91, "radius_m": 0})
    assert {f["path"] for f in error_of(bad, 422)["details"]["fields"]} == {"lat", "radius_m"}


def test_a_rotated_secret_makes_the_old_code_fail_and_the_new_one_work(client, app, make, auth, clock):
    scene = make.scene(station=True)
    admin = auth.officer(make.officer(role="admin", bureau_id=scene.office.bureau_id))
    old_code = station_code(scene.station, clock())
    response = client.post(f"{ADMIN}/stations/{scene.station.id}/rotate-secret", headers=admin)
    assert response.status_code == 200 and response.get_json()["secret_rotated_at"] == "2026-11-25T02:00:30Z"
    refused = post_checkin(client, scene.phone, "station", recorded_at=clock(), qr_text=old_code)
    assert (refused.status_code, error_code(refused)) == (422, "qr_invalid")
    (station,) = rows(app, Station, Station.id == scene.station.id)
    assert station.qr_secret != scene.station.qr_secret
    accepted = post_checkin(client, scene.phone, "station", recorded_at=clock(), qr_text=station_code(station, clock()))
    assert accepted.status_code == 201, accepted.get_json()
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "station.rotate_secret")
    assert entry.details == {"before": {"secret_rotated_at": None}, "after": {"secret_rotated_at": "2026-11-25T02:00:30Z"},
                             "secret_rotated": True}
    assert station.qr_secret not in str(entry.details) and scene.station.qr_secret not in str(entry.details)


def test_a_retired_station_refuses_its_codes_and_shows_none(client, app, make, auth, clock):
    scene = make.scene(station=True, officer_login=True)
    admin = auth.officer(make.officer(role="admin", bureau_id=scene.office.bureau_id))
    code = station_code(scene.station, clock())
    response = client.post(f"{ADMIN}/stations/{scene.station.id}/retire", headers=admin)
    assert response.status_code == 200 and response.get_json()["active"] is False
    refused = post_checkin(client, scene.phone, "station", recorded_at=clock(), qr_text=code)
    assert refused.status_code == 422 and checkins_of(app, scene.person_id)[-1].outcome == "refused"
    assert error_of(client.get(f"{API}/stations/{scene.station.id}/qr", headers=scene.headers), 404)["code"] \
        == "station_not_found"
    active = client.get(f"{ADMIN}/stations?active=true", headers=admin).get_json()["items"]
    assert active == []
    listed = client.get(f"{ADMIN}/stations", headers=admin).get_json()["items"]
    assert [(s["id"], s["active"]) for s in listed] == [(scene.station.id, False)]
    rotate = client.post(f"{ADMIN}/stations/{scene.station.id}/rotate-secret", headers=admin)
    assert error_of(rotate, 409)["code"] == "station_retired"


def test_another_bureaus_station_is_not_found(client, app, make, bureau):
    foreign = make.station(bureau.org.foreign_office)
    for response in (client.patch(f"{ADMIN}/stations/{foreign.id}", headers=bureau.headers, json={"name": "x"}),
                     client.post(f"{ADMIN}/stations/{foreign.id}/rotate-secret", headers=bureau.headers),
                     client.post(f"{ADMIN}/stations/{foreign.id}/retire", headers=bureau.headers)):
        assert error_of(response, 404)["code"] == "station_not_found"
    (row,) = rows(app, Station, Station.id == foreign.id)
    assert (row.name, row.active, row.qr_secret) == ("报到点", True, foreign.qr_secret)
    assert client.get(f"{ADMIN}/stations", headers=bureau.headers).get_json()["items"] == []
    into_foreign = client.post(f"{ADMIN}/stations", headers=bureau.headers, json={
        "office_id": bureau.org.foreign_office.id, "name": "x", "lat": 29.0, "lon": 119.0, "radius_m": 10})
    assert [f["path"] for f in error_of(into_foreign, 422)["details"]["fields"]] == ["office_id"]
