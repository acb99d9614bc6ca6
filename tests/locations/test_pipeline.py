"""Location reports, zones, leave and tracks: the pipeline behind every client."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import gpxpy
import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.audit.models import AuditEntry
from correction.database import db
from correction.locations.models import LocationFix, ZoneEvent
from correction.locations.service import purge_expired_fixes
from correction.time import iso_z
from tests.factories import API, INSIDE, OUTSIDE, SQUARE, fix, upload

EDGE_OUT_BY_30M = (29.05, 119.70 + 30 / (111_320 * 0.8739))  # cos(29.05°) ≈ 0.8739


@pytest.fixture
def scene(make):
    """An office, its officer (logged in), and a supervisee logged in on their phone whose
    permitted area is the square around Jinhua."""
    return make.scene(officer_login=True, zone=SQUARE)


def count(app, model, **where):
    with app.app_context():
        stmt = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return db.session.execute(stmt).scalar_one()


def events(app, person_id):
    with app.app_context():
        return [e for (e,) in db.session.execute(sa.select(ZoneEvent.event).where(
            ZoneEvent.supervisee_id == person_id).order_by(ZoneEvent.at)).all()]


# --- batch upload ---------------------------------------------------------------------------

def test_good_fixes_are_kept_bad_ones_refused_one_by_one_and_a_resend_skips(client, app, clock, scene):
    t = clock() - timedelta(minutes=30)
    batch = [fix(t, INSIDE), fix(t + timedelta(minutes=1), (95.0, 119.6)),
             {"recorded_at": "yesterday", "lat": 29.0, "lon": 119.6, "accuracy_m": 5},
             fix(t + timedelta(minutes=2), INSIDE, accuracy=0),
             fix(clock() + timedelta(hours=1), INSIDE), fix(t + timedelta(minutes=3), INSIDE, speed_mps=1.5)]
    answer = upload(client, scene.phone, batch).get_json()
    assert (answer["stored"], answer["skipped"]) == (2, 0)
    assert [(r["index"], r["code"]) for r in answer["refused"]] == [
        (1, "invalid_fix"), (2, "invalid_fix"), (3, "invalid_fix"), (4, "fix_in_future")]
    again = upload(client, scene.phone, batch).get_json()
    assert (again["stored"], again["skipped"], len(again["refused"])) == (0, 2, 4)
    assert count(app, LocationFix, supervisee_id=scene.person_id) == 2


def test_nan_in_a_batch_is_refused_without_losing_anything_else(client, app, clock, scene):
    good = fix(clock() - timedelta(minutes=1), INSIDE)
    raw = json.dumps({"fixes": [fix(clock(), INSIDE), good]}).replace('"lat": 29.05', '"lat": NaN', 1)
    response = client.post(f"{API}/me/locations", headers=scene.phone, data=raw, content_type="application/json")
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["stored"], [(r["index"], r["code"]) for r in answer["refused"]]) == (1, [(0, "invalid_fix")])
    assert "finite" in answer["refused"][0]["message"]


def test_a_batch_over_the_limit_is_refused_whole(client, app, clock, scene):
    batch = [fix(clock() - timedelta(minutes=i), INSIDE) for i in range(501)]
    response = upload(client, scene.phone, batch)
    assert response.status_code == 422
    assert count(app, LocationFix) == 0


# --- zones ------------------------------------------------------------------------------------

def test_an_exit_a_return_and_a_new_exit_are_three_events_and_two_alerts(client, app, clock, scene):
    t = clock() - timedelta(hours=2)
    points = [INSIDE, INSIDE, OUTSIDE, OUTSIDE, INSIDE, INSIDE, OUTSIDE, OUTSIDE]
    upload(client, scene.phone, [fix(t + timedelta(minutes=5 * i), p) for i, p in enumerate(points)])
    assert events(app, scene.person_id) == ["exit", "return", "exit"]
    with app.app_context():
        subjects = db.session.execute(sa.select(Alert.subject_key).where(
            Alert.supervisee_id == scene.person_id, Alert.type == "zone_exit").order_by(Alert.id)).scalars().all()
    assert subjects == ["permitted:1", "permitted:2"]


def test_a_single_stray_fix_outside_is_not_an_exit(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t, INSIDE), fix(t + timedelta(minutes=1), OUTSIDE),
                                    fix(t + timedelta(minutes=2), INSIDE)])
    assert count(app, Alert, type="zone_exit") == 0


def test_outside_by_less_than_the_accuracy_is_not_outside(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t + timedelta(minutes=i), EDGE_OUT_BY_30M, accuracy=50) for i in range(6)])
    assert count(app, Alert, type="zone_exit") == 0
    upload(client, scene.phone, [fix(t + timedelta(minutes=10 + i), EDGE_OUT_BY_30M, accuracy=10)
                                    for i in range(2)])
    assert count(app, Alert, type="zone_exit") == 1


def test_five_minutes_outside_confirms_even_with_one_fix_between(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    # one fix outside, then one six minutes later: two fixes anyway, but the time rule is what fires first
    upload(client, scene.phone, [fix(t, INSIDE), fix(t + timedelta(minutes=1), OUTSIDE)])
    assert count(app, Alert, type="zone_exit") == 0
    upload(client, scene.phone, [fix(t + timedelta(minutes=7), OUTSIDE)])
    assert count(app, Alert, type="zone_exit") == 1


def test_someone_already_outside_when_evaluation_starts_is_caught(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t, OUTSIDE), fix(t + timedelta(minutes=2), OUTSIDE)])
    assert count(app, Alert, type="zone_exit") == 1


def test_entering_an_exclusion_zone_raises_one_alert(client, app, clock, scene):
    school = {"type": "Circle", "center": [119.65, 29.05], "radius_m": 200}
    created = client.post(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers,
                          json={"kind": "exclusion", "name": "学校", "geometry": school})
    assert created.status_code == 201
    t = clock() - timedelta(hours=1)
    far = (29.06, 119.65)
    upload(client, scene.phone, [fix(t, far), fix(t + timedelta(minutes=1), INSIDE),
                                    fix(t + timedelta(minutes=2), INSIDE), fix(t + timedelta(minutes=3), INSIDE)])
    assert count(app, Alert, type="exclusion_entry") == 1
    upload(client, scene.phone, [fix(t + timedelta(minutes=3), INSIDE)])  # resent: nothing new
    assert count(app, Alert, type="exclusion_entry") == 1


def test_mocked_fixes_and_impossible_movement_raise_their_own_alerts(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t, INSIDE), fix(t + timedelta(minutes=1), INSIDE, is_mock=True)])
    assert count(app, Alert, type="mock_location") == 1
    hangzhou = (30.27, 120.15)
    upload(client, scene.phone, [fix(t + timedelta(minutes=10), INSIDE), fix(t + timedelta(minutes=20), hangzhou)])
    assert count(app, Alert, type="impossible_movement") == 1


@pytest.mark.parametrize("geometry, reason", [
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}, "at least 4"),
    ({"type": "Point", "coordinates": [119.6, 29.0]}, "Polygon, MultiPolygon or Circle"),
    ({"type": "Circle", "center": [119.6, 99], "radius_m": 100}, "latitude"),
    ({"type": "Circle", "center": [119.6, 29], "radius_m": -5}, "radius_m"),
])
def test_a_zone_that_is_not_usable_geojson_is_refused(client, app, scene, geometry, reason):
    response = client.post(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers,
                           json={"kind": "exclusion", "name": "x", "geometry": geometry})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_geometry"
    assert reason in response.get_json()["error"]["message"]


def test_zones_of_another_office_are_not_found(client, make, auth, scene):
    stranger = auth.officer(make.officer(make.office()))
    assert client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=stranger).status_code == 404
    assert client.post(f"{API}/supervisees/{scene.person_id}/zones", headers=stranger,
                       json={"kind": "permitted", "name": "x", "geometry": SQUARE}).status_code == 404


def test_a_new_permitted_area_replaces_the_old_one(client, scene):
    bigger = {"type": "Circle", "center": [119.65, 29.05], "radius_m": 50_000}
    client.post(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers,
                json={"kind": "permitted", "name": "大", "geometry": bigger})
    zones = client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers).get_json()["items"]
    assert [z["name"] for z in zones if z["kind"] == "permitted"] == ["大"]


# --- leave approvals --------------------------------------------------------------------------

def ask_leave(client, phone, clock, days):
    return client.post(f"{API}/me/leave-requests", headers=phone, json={
        "destination_name": "杭州", "reason": "探亲",
        "destination_geometry": {"type": "Circle", "center": [120.15, 30.27], "radius_m": 20000},
        "start_at": iso_z(clock() + timedelta(hours=1)), "end_at": iso_z(clock() + timedelta(hours=1, days=days))})


def test_leave_of_up_to_7_days_is_the_office_s_8_to_30_the_bureau_s_longer_refused(client, make, auth, clock, scene):
    short = ask_leave(client, scene.phone, clock, 7).get_json()
    assert short["approver_role"] == "officer"
    assert client.post(f"{API}/leave-requests/{short['id']}/approve", headers=scene.headers,
                       json={}).status_code == 200
    long = ask_leave(client, scene.phone, clock, 8).get_json()
    refused = client.post(f"{API}/leave-requests/{long['id']}/approve", headers=scene.headers, json={})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "bureau_approval_required")
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=scene.office.bureau_id))
    assert client.post(f"{API}/leave-requests/{long['id']}/approve", headers=supervisor, json={}).status_code == 200
    twice = client.post(f"{API}/leave-requests/{long['id']}/reject", headers=supervisor, json={"note": "x"})
    assert twice.status_code == 409
    too_long = ask_leave(client, scene.phone, clock, 31)
    assert (too_long.status_code, too_long.get_json()["error"]["code"]) == (422, "leave_too_long")


# --- tracks and retention ----------------------------------------------------------------------

def test_the_track_comes_as_geojson_or_gpx_and_every_look_is_audited(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t + timedelta(minutes=i), INSIDE) for i in range(5)])
    window = f"from={iso_z(t - timedelta(minutes=1))}&to={iso_z(clock())}"
    geo = client.get(f"{API}/supervisees/{scene.person_id}/track?{window}", headers=scene.headers)
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    assert len(json.loads(geo.data)["features"]) == 5
    gpx = client.get(f"{API}/supervisees/{scene.person_id}/track?{window}&format=gpx", headers=scene.headers)
    assert len(gpxpy.parse(gpx.data.decode()).tracks[0].segments[0].points) == 5
    with app.app_context():
        looks = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "track.read")).scalars().all()
        assert [(a.target_id, a.outcome) for a in looks] == [(scene.person_id, "ok")] * 2


class TestTrackBounds:
    @pytest.fixture
    def settings_overrides(self):
        return {"TRACK_MAX_POINTS": 3}

    def test_the_track_is_bounded_in_points_and_in_time(self, client, clock, scene):
        t = clock() - timedelta(hours=1)
        upload(client, scene.phone, [fix(t + timedelta(minutes=i), INSIDE) for i in range(5)])
        response = client.get(f"{API}/supervisees/{scene.person_id}/track?from={iso_z(t)}&to={iso_z(clock())}",
                              headers=scene.headers)
        assert response.headers["X-Track-Truncated"] == "true" and len(json.loads(response.data)["features"]) == 3
        too_long = client.get(f"{API}/supervisees/{scene.person_id}/track?from={iso_z(t - timedelta(days=40))}"
                              f"&to={iso_z(clock())}", headers=scene.headers)
        assert too_long.status_code == 422


def test_purge_deletes_only_fixes_past_retention(client, app, clock, scene):
    upload(client, scene.phone, [fix(clock() - timedelta(days=1), INSIDE), fix(clock() - timedelta(days=170), INSIDE)])
    clock.advance(days=15)  # the older fix is now 185 days old; retention is 180
    with app.app_context():
        assert purge_expired_fixes(db.session, app.config["SETTINGS"], clock()) == 1
        db.session.commit()
    assert count(app, LocationFix) == 1


@pytest.mark.postgresql_only
def test_two_phones_uploading_overlapping_batches_store_each_fix_once_and_alert_once(app, clock, scene):
    t = clock() - timedelta(hours=1)
    batch = [fix(t + timedelta(minutes=i), INSIDE if i < 3 else OUTSIDE) for i in range(8)]
    barrier, answers = threading.Barrier(2), []

    def phone():
        with app.app_context():
            client = app.test_client()
            barrier.wait(timeout=10)
            answers.append(client.post(f"{API}/me/locations", headers=scene.phone, json={"fixes": batch}))

    threads = [threading.Thread(target=phone) for _ in range(2)]
    for t_ in threads:
        t_.start()
    for t_ in threads:
        t_.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [200, 200]
    assert sum(a.get_json()["stored"] for a in answers) == 8
    assert count(app, LocationFix) == 8
    assert count(app, Alert, type="zone_exit") == 1
