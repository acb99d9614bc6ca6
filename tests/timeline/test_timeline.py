"""A supervisee's timeline as officers read it: every event newest first, paged by an exact cursor.

The clock starts on Wednesday 2026-11-25 at 10:00 in Shanghai (02:00Z): a ``normal`` supervisee's
weekly remote window and monthly station window are open.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from correction.time import iso_z
from tests.assertions import checkins_of, timeline
from tests.factories import API, point_at, post_checkin, station_code


@pytest.fixture
def scene(make):
    """An office with a station, its officer, and a ``normal`` supervisee logged in on their phone."""
    return make.scene(station=True)


# --- check-ins on the timeline --------------------------------------------------------------------------------

def test_timeline_shows_checkins_with_fix_distance_and_outcome(client, auth, scene, clock):
    officer = auth.officer(scene.officer)
    lat, lon = point_at(60.0)
    far_lat, far_lon = point_at(900.0)
    token = station_code(scene.station, clock())
    refused = post_checkin(client, scene.phone, "station", qr_text=token, lat=far_lat, lon=far_lon,
                           accuracy_m=12.0, recorded_at=clock())
    clock.advance(seconds=10)
    accepted = post_checkin(client, scene.phone, "station", qr_text=token, lat=lat, lon=lon, accuracy_m=7.0,
                            recorded_at=clock() - timedelta(seconds=2))
    assert (refused.status_code, accepted.status_code) == (422, 201)

    items = [i for i in timeline(client, officer, scene.person_id)["items"] if i["type"] == "checkin"]
    assert [i["data"]["outcome"] for i in items] == ["accepted", "refused"]
    newest, oldest = items
    assert newest["id"] == accepted.get_json()["id"] and newest["at"] == iso_z(clock())
    assert newest["data"] == {
        "kind": "station", "outcome": "accepted", "refusal_code": None, "window_key": "station:2026-11-01",
        "station_id": scene.station.id, "spot_check_id": None, "lat": pytest.approx(lat),
        "lon": pytest.approx(lon), "accuracy_m": 7.0, "distance_m": pytest.approx(60.0, abs=0.1),
        "is_mock": False, "recorded_at": iso_z(clock() - timedelta(seconds=2))}
    assert oldest["data"]["refusal_code"] == "too_far_from_station"
    assert oldest["data"]["distance_m"] == pytest.approx(900.0, abs=0.1)
    assert (oldest["data"]["lat"], oldest["data"]["accuracy_m"]) == (pytest.approx(far_lat), 12.0)


def test_timeline_is_for_the_office_only(client, make, auth, scene):
    stranger = auth.officer(make.officer(make.office()))
    response = client.get(f"{API}/supervisees/{scene.person_id}/timeline", headers=stranger)
    assert response.status_code == 404


@pytest.mark.parametrize("tick", [timedelta(seconds=1), timedelta(microseconds=1)], ids=["seconds", "microseconds"])
def test_timeline_pages_by_cursor_without_duplicates_or_gaps(client, app, auth, scene, clock, tick):
    officer = auth.officer(scene.officer)
    clock.advance(microseconds=250)  # moments that are not whole seconds survive the cursor
    # Several events at the very same instant (the clock stands still), of different types.
    for _ in range(4):
        assert post_checkin(client, scene.phone, "station", recorded_at=clock()).status_code == 422
    assert client.post(f"{API}/spot-checks", json={"supervisee_id": scene.person_id},
                       headers=officer).status_code == 201
    assert post_checkin(client, scene.phone, "spot", recorded_at=clock()).status_code == 201
    clock.advance(seconds=tick.total_seconds())
    assert post_checkin(client, scene.phone, "remote", recorded_at=clock()).status_code == 201
    assert post_checkin(client, scene.phone, "remote", recorded_at=clock()).status_code == 200  # no new row
    clock.advance(seconds=tick.total_seconds())
    assert post_checkin(client, scene.phone, "remote", is_mock=True, recorded_at=clock()).status_code == 422
    for _ in range(3):
        clock.advance(seconds=tick.total_seconds())
        far = point_at(700.0)
        assert post_checkin(client, scene.phone, "station", qr_text=station_code(scene.station, clock()),
                            lat=far[0], lon=far[1], recorded_at=clock()).status_code == 422

    everything = timeline(client, officer, scene.person_id, limit=200)
    assert everything["next_cursor"] is None
    events = [(i["type"], i["id"]) for i in everything["items"]]
    # 10 check-ins, 1 spot check, 1 alert, and 3 ledger lines (spot +3, remote +2, mocked -20)
    assert len(events) == 15 and len(set(events)) == 15
    assert sorted(e for e in events if e[0] == "checkin") == [
        ("checkin", r.id) for r in checkins_of(app, scene.person_id)]
    moments = [i["at"] for i in everything["items"]]
    assert moments == sorted(moments, reverse=True)

    for limit in (1, 2, 5, 14, 15):
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            page = timeline(client, officer, scene.person_id, **params)
            assert 0 < len(page["items"]) <= limit
            seen += [(i["type"], i["id"]) for i in page["items"]]
            cursor, pages = page["next_cursor"], pages + 1
            if cursor is None:
                break
        assert seen == events, f"limit={limit}"
        assert pages == -(-15 // limit)
