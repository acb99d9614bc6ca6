"""Tracks for officers (bounded, audited), retention of fixes, and two phones uploading at once."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import gpxpy
import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.database import db
from correction.locations.service import purge_expired_fixes
from correction.time import iso_z
from tests.assertions import alerts, error_of, stored_fixes
from tests.factories import API, INSIDE, INSIDE_2, OUTSIDE, SQUARE, fix, upload, walk


@pytest.fixture
def scene(make):
    """An office, its officer (logged in), and a supervisee logged in on their phone whose
    permitted area is the square around Jinhua."""
    return make.scene(officer_login=True, zone=SQUARE)


def track(client, headers, person_id, start, end, fmt=None):
    query = f"from={iso_z(start)}&to={iso_z(end)}" + (f"&format={fmt}" if fmt else "")
    return client.get(f"{API}/supervisees/{person_id}/track?{query}", headers=headers)


def track_reads(app):
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry).where(AuditEntry.action == "track.read")
                                  .order_by(AuditEntry.id)).scalars().all()
        db.session.expunge_all()
        return rows


@pytest.fixture
def walked(client, clock, scene):
    """Five fixes a minute apart, an hour ago; returns their start."""
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t, [INSIDE, INSIDE_2] * 2 + [INSIDE], altitude_m=50.5, speed_mps=1.5))
    return t


def test_the_track_as_geojson(client, app, clock, scene, walked):
    response = track(client, scene.headers, scene.person_id, walked, clock())
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert (response.headers["X-Track-Points"], response.headers["X-Track-Truncated"]) == ("5", "false")
    body = json.loads(response.data)
    assert body["type"] == "FeatureCollection"
    assert body["properties"] == {"supervisee_id": scene.person_id, "from": iso_z(walked), "to": iso_z(clock()),
                                  "points": 5, "truncated": False}
    first = body["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [INSIDE[1], INSIDE[0]]}  # [lon, lat]
    assert first["properties"] == {"recorded_at": iso_z(walked), "accuracy_m": 10.0, "speed_mps": 1.5,
                                   "is_mock": False, "source": "app"}
    assert [f["properties"]["recorded_at"] for f in body["features"]] == \
        [iso_z(walked + timedelta(minutes=i)) for i in range(5)]


def test_the_track_as_gpx_reads_back(client, app, clock, scene, walked):
    response = track(client, scene.headers, scene.person_id, walked, clock(), "gpx")
    assert response.status_code == 200 and response.mimetype == "application/gpx+xml"
    parsed = gpxpy.parse(response.data.decode())
    points = parsed.tracks[0].segments[0].points
    assert [(p.latitude, p.longitude) for p in points] == [INSIDE, INSIDE_2, INSIDE, INSIDE_2, INSIDE]
    assert [p.time for p in points] == [walked + timedelta(minutes=i) for i in range(5)]
    assert {p.elevation for p in points} == {50.5}


def test_the_range_is_from_inclusive_to_exclusive_and_only_this_person(client, app, make, auth, clock, scene, walked):
    other = auth.supervisee(make.supervisee(scene.office))
    upload(client, other, walk(walked, [OUTSIDE] * 5))
    body = json.loads(track(client, scene.headers, scene.person_id, walked + timedelta(minutes=1),
                            walked + timedelta(minutes=3)).data)
    assert [f["properties"]["recorded_at"] for f in body["features"]] == \
        [iso_z(walked + timedelta(minutes=1)), iso_z(walked + timedelta(minutes=2))]
    empty = json.loads(track(client, scene.headers, scene.person_id, clock() - timedelta(days=3),
                             clock() - timedelta(days=2)).data)
    assert empty["features"] == [] and empty["properties"]["points"] == 0
    gpx = gpxpy.parse(track(client, scene.headers, scene.person_id, clock() - timedelta(days=3),
                            clock() - timedelta(days=2), "gpx").data.decode())
    assert gpx.get_points_no() == 0


def test_every_look_at_a_track_is_audited(client, app, make, auth, clock, scene, walked):
    track(client, scene.headers, scene.person_id, walked, clock())
    track(client, scene.headers, scene.person_id, walked, clock(), "gpx")
    track(client, scene.headers, scene.person_id, clock() - timedelta(days=40), clock())  # refused: still a look
    reads = track_reads(app)
    assert [(r.actor_type, r.actor_id, r.target_type, r.target_id) for r in reads] == \
        [("officer", scene.officer.officer.id, "supervisee", scene.person_id)] * 3
    assert [r.outcome for r in reads][:2] == ["ok", "ok"] and reads[2].outcome != "ok"
    assert reads[1].details["format"] == "gpx"
    listed = client.get(f"{API}/audit?action=track.read", headers=scene.headers)
    if listed.status_code == 200:  # officers may read their bureau's audit trail
        assert len(listed.get_json()["items"]) >= 3


def test_the_track_of_another_office_s_supervisee_is_not_found(client, app, make, auth, clock, scene, walked):
    stranger = auth.officer(make.officer(make.office()))
    error_of(track(client, stranger, scene.person_id, walked, clock()), 404)
    error_of(track(client, scene.headers, 999_999, walked, clock()), 404)
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=scene.office.bureau_id))
    assert track(client, supervisor, scene.person_id, walked, clock()).status_code == 200


def test_supervisees_cannot_read_tracks(client, clock, scene, walked):
    assert track(client, scene.phone, scene.person_id, walked, clock()).status_code == 403


def test_a_range_over_track_max_days_is_422(client, clock, scene):
    end = clock()
    assert track(client, scene.headers, scene.person_id, end - timedelta(days=31), end).status_code == 200
    error = error_of(track(client, scene.headers, scene.person_id, end - timedelta(days=31, seconds=1), end), 422)
    assert error["code"] == "invalid_range"
    assert error_of(track(client, scene.headers, scene.person_id, end, end - timedelta(hours=1)), 422)["code"] \
        == "invalid_range"
    assert error_of(track(client, scene.headers, scene.person_id, end, end), 422)["code"] == "invalid_range"


@pytest.mark.parametrize("query", ["", "from=2026-11-24T00:00:00Z", "from=yesterday&to=2026-11-25T00:00:00Z",
                                   "from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z&format=kml",
                                   "from=2026-11-24T00:00:00&to=2026-11-25T00:00:00"])
def test_a_track_query_that_does_not_fit_is_422(client, scene, query):
    error_of(client.get(f"{API}/supervisees/{scene.person_id}/track?{query}", headers=scene.headers), 422)


class TestTruncation:
    @pytest.fixture
    def settings_overrides(self):
        return {"TRACK_MAX_POINTS": 3}

    def test_more_points_than_track_max_points_are_cut_and_say_so(self, client, clock, scene, walked):
        response = track(client, scene.headers, scene.person_id, walked, clock())
        assert (response.headers["X-Track-Truncated"], response.headers["X-Track-Points"]) == ("true", "3")
        body = json.loads(response.data)
        assert body["properties"]["truncated"] is True
        assert [f["properties"]["recorded_at"] for f in body["features"]] == \
            [iso_z(walked + timedelta(minutes=i)) for i in range(3)]  # the earliest, in order
        gpx = track(client, scene.headers, scene.person_id, walked, clock(), "gpx")
        assert gpx.headers["X-Track-Truncated"] == "true"
        assert gpxpy.parse(gpx.data.decode()).get_points_no() == 3

    def test_exactly_track_max_points_is_not_truncated(self, client, clock, scene, walked):
        response = track(client, scene.headers, scene.person_id, walked, walked + timedelta(minutes=3))
        assert (response.headers["X-Track-Truncated"], response.headers["X-Track-Points"]) == ("false", "3")


class TestShortTracks:
    @pytest.fixture
    def settings_overrides(self):
        return {"TRACK_MAX_DAYS": 2}

    def test_track_max_days_is_a_setting(self, client, clock, scene):
        assert track(client, scene.headers, scene.person_id, clock() - timedelta(days=2), clock()).status_code == 200
        error_of(track(client, scene.headers, scene.person_id, clock() - timedelta(days=3), clock()), 422)


# --- retention ---------------------------------------------------------------------------------------

def test_purge_deletes_only_fixes_older_than_the_retention_period(client, app, make, auth, clock, scene):
    other = auth.supervisee(make.supervisee(scene.office))
    now = clock()
    upload(client, scene.phone, [fix(now - timedelta(days=179, hours=23), INSIDE), fix(now - timedelta(days=1), INSIDE),
                                 fix(now - timedelta(days=100), INSIDE)])
    upload(client, other, [fix(now - timedelta(days=170), INSIDE)])
    later = now + timedelta(days=15)  # retention is 180 days
    with app.app_context():
        assert purge_expired_fixes(db.session, app.config["SETTINGS"], later) == 2
        db.session.commit()
    assert [f.recorded_at for f in stored_fixes(app)] == [now - timedelta(days=100), now - timedelta(days=1)]
    with app.app_context():  # running it again deletes nothing more
        assert purge_expired_fixes(db.session, app.config["SETTINGS"], later) == 0


def test_a_fix_exactly_at_the_cutoff_is_kept(client, app, clock, scene):
    now = clock()
    upload(client, scene.phone, [fix(now - timedelta(days=10), INSIDE), fix(now - timedelta(days=10, seconds=1), INSIDE)])
    with app.app_context():
        assert purge_expired_fixes(db.session, app.config["SETTINGS"], now + timedelta(days=170)) == 1
        db.session.commit()
    assert [f.recorded_at for f in stored_fixes(app)] == [now - timedelta(days=10)]


class TestShortRetention:
    @pytest.fixture
    def settings_overrides(self):
        return {"LOCATION_RETENTION_DAYS": 7}

    def test_retention_is_a_setting_and_older_fixes_are_not_even_taken(self, client, app, clock, scene):
        now = clock()
        answer = upload(client, scene.phone, [fix(now - timedelta(days=6), INSIDE),
                                              fix(now - timedelta(days=8), INSIDE)]).get_json()
        assert answer["stored"] == 1 and [r["code"] for r in answer["refused"]] == ["fix_too_old"]
        with app.app_context():
            assert purge_expired_fixes(db.session, app.config["SETTINGS"], now + timedelta(days=2)) == 1
            db.session.commit()
        assert stored_fixes(app) == []


# --- two phones at once -------------------------------------------------------------------------------

def _upload_together(app, batches_and_headers):
    barrier, answers, errors = threading.Barrier(len(batches_and_headers)), [], []

    def phone(batch, headers):
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=10)
                response = client.post(f"{API}/me/locations", headers=headers, json={"fixes": batch})
                answers.append((response.status_code, response.get_json()))
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=phone, args=pair) for pair in batches_and_headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    return answers


@pytest.mark.postgresql_only
def test_two_phones_uploading_overlapping_batches_store_each_fix_once_and_alert_once(app, auth, clock, scene):
    second_phone = auth.supervisee(scene.person)  # a second session of the same supervisee
    t = clock() - timedelta(hours=1)
    points = [INSIDE] * 4 + [OUTSIDE] * 8
    fixes = walk(t, points)
    answers = _upload_together(app, [(fixes[:9], scene.phone), (fixes[3:], second_phone)])
    assert sorted(status for status, _ in answers) == [200, 200]
    assert sum(body["stored"] for _, body in answers) == 12
    assert sum(body["skipped"] for _, body in answers) == 6  # the overlap, skipped by whoever came second
    assert len(stored_fixes(app, scene.person_id)) == 12
    (alert,) = alerts(app, scene.person_id, "zone_exit")
    assert alert.subject_key == "permitted:1"


@pytest.mark.postgresql_only
@pytest.mark.parametrize("round_", range(3))
def test_the_same_batch_uploaded_twice_at_once_stores_it_once(app, auth, clock, scene, round_):
    fixes = walk(clock() - timedelta(hours=1), [INSIDE, OUTSIDE, OUTSIDE, OUTSIDE], is_mock=False)
    fixes.append(fix(clock() - timedelta(minutes=30), INSIDE, is_mock=True))
    answers = _upload_together(app, [(fixes, scene.phone), (fixes, auth.supervisee(scene.person))])
    assert sorted(body["stored"] for _, body in answers) == [0, 5]
    assert len(stored_fixes(app, scene.person_id)) == 5
    assert len(alerts(app, scene.person_id, "zone_exit")) == 1
    assert len(alerts(app, scene.person_id, "mock_location")) == 1
