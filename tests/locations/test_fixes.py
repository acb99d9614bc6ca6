"""POST /me/locations: batches of fixes, kept one by one, stored once; mock and speed alerts.

The phone buffers fixes and uploads them in batches of at most 500. Good fixes are kept, bad
ones refused with their index and a reason, and a fix already stored (same supervisee, same
instant) is skipped, so resending a batch after a timeout stores nothing twice.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.database import db
from correction.mall.models import PointEntry
from correction.time import iso_z
from tests.assertions import alerts, error_of, stored_fixes
from tests.factories import API, INSIDE, INSIDE_2, OUTSIDE, SQUARE, fix, upload, walk


@pytest.fixture
def scene(make):
    """An office, its officer (logged in), and a supervisee logged in on their phone whose
    permitted area is the square around Jinhua."""
    return make.scene(officer_login=True, zone=SQUARE)


def test_a_clean_batch_is_stored_with_every_field(client, app, clock, scene):
    t = clock() - timedelta(minutes=10)
    batch = [fix(t, INSIDE, accuracy=8.5, speed_mps=1.25, heading=270.0, altitude_m=61.5, battery=73, is_mock=False),
             fix(t + timedelta(minutes=1), INSIDE_2, accuracy=12)]
    response = upload(client, scene.phone, batch)
    assert response.status_code == 200
    assert response.get_json() == {"stored": 2, "skipped": 0, "refused": []}
    first, second = stored_fixes(app, scene.person_id)
    assert (first.recorded_at, first.lat, first.lon, first.accuracy_m) == (t, INSIDE[0], INSIDE[1], 8.5)
    assert (first.speed_mps, first.heading, first.altitude_m, first.battery) == (1.25, 270.0, 61.5, 73.0)
    assert (first.is_mock, first.source, first.received_at) == (False, "app", clock())
    assert (second.speed_mps, second.heading, second.altitude_m, second.battery, second.is_mock) == \
        (None, None, None, None, False)


def test_an_empty_batch_stores_nothing_and_says_so(client, scene):
    response = upload(client, scene.phone, [])
    assert (response.status_code, response.get_json()) == (200, {"stored": 0, "skipped": 0, "refused": []})


GOOD = {"lat": 29.05, "lon": 119.65, "accuracy_m": 10}


@pytest.mark.parametrize("bad, code, mentions", [
    ({"lat": 90.0001}, "invalid_fix", "lat"),
    ({"lat": -91}, "invalid_fix", "lat"),
    ({"lon": 180.5}, "invalid_fix", "lon"),
    ({"lon": -181}, "invalid_fix", "lon"),
    ({"lat": "north"}, "invalid_fix", "lat"),
    ({"lat": None}, "invalid_fix", "lat"),
    ({"accuracy_m": 0}, "invalid_fix", "accuracy_m"),
    ({"accuracy_m": -3}, "invalid_fix", "accuracy_m"),
    ({"accuracy_m": 2500}, "accuracy_too_poor", "accuracy_m"),
    ({"recorded_at": "yesterday"}, "invalid_fix", "recorded_at"),
    ({"recorded_at": "2026-11-25T01:00:00"}, "invalid_fix", "recorded_at"),  # no zone: ambiguous
    ({"recorded_at": "2026-13-45T01:00:00Z"}, "invalid_fix", "recorded_at"),
    ({"recorded_at": None}, "invalid_fix", "recorded_at"),
    ({"recorded_at": "FUTURE"}, "fix_in_future", "future"),
    ({"recorded_at": "ANCIENT"}, "fix_too_old", "retention"),
    ({"speed_mps": -1}, "invalid_fix", "speed_mps"),
    ({"heading": 361}, "invalid_fix", "heading"),
    ({"battery": 101}, "invalid_fix", "battery"),
    ({"altitude_m": 99999}, "invalid_fix", "altitude_m"),
    ({"is_mock": "perhaps"}, "invalid_fix", "is_mock"),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else None)
def test_a_bad_fix_is_refused_with_its_index_and_reason_and_the_good_ones_are_kept(
        client, app, clock, scene, bad, code, mentions):
    t = clock() - timedelta(minutes=10)
    wrong = {"recorded_at": iso_z(t + timedelta(minutes=1)), **GOOD, **bad}
    if wrong["recorded_at"] == "FUTURE":
        wrong["recorded_at"] = iso_z(clock() + timedelta(minutes=10))
    if wrong["recorded_at"] == "ANCIENT":
        wrong["recorded_at"] = iso_z(clock() - timedelta(days=181))
    batch = [fix(t, INSIDE), wrong, fix(t + timedelta(minutes=2), INSIDE)]
    response = upload(client, scene.phone, batch)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert (answer["stored"], answer["skipped"]) == (2, 0)
    assert [(r["index"], r["code"]) for r in answer["refused"]] == [(1, code)]
    assert mentions in answer["refused"][0]["message"]
    assert [f.recorded_at for f in stored_fixes(app, scene.person_id)] == [t, t + timedelta(minutes=2)]


def test_a_fix_a_little_ahead_of_the_server_clock_is_accepted(client, app, clock, scene):
    """Phones' clocks drift: up to FIX_FUTURE_SKEW_SECONDS (120 s) ahead is fine, beyond it is not."""
    answer = upload(client, scene.phone, [fix(clock() + timedelta(seconds=119), INSIDE),
                                          fix(clock() + timedelta(seconds=121), INSIDE)]).get_json()
    assert answer["stored"] == 1
    assert [(r["index"], r["code"]) for r in answer["refused"]] == [(1, "fix_in_future")]


def test_several_bad_fixes_are_each_refused_in_order(client, app, clock, scene):
    t = clock() - timedelta(minutes=30)
    batch = [{"recorded_at": "nope", **GOOD}, fix(t, INSIDE), fix(t, (95, 119.6)), fix(t + timedelta(minutes=1), INSIDE),
             fix(clock() + timedelta(hours=1), INSIDE), fix(t + timedelta(minutes=2), INSIDE, accuracy=0)]
    answer = upload(client, scene.phone, batch).get_json()
    assert answer["stored"] == 2
    assert [(r["index"], r["code"]) for r in answer["refused"]] == [
        (0, "invalid_fix"), (2, "invalid_fix"), (4, "fix_in_future"), (5, "invalid_fix")]
    assert all(set(r) == {"index", "code", "message"} and r["message"] for r in answer["refused"])


@pytest.mark.parametrize("entry", [42, None, "a fix", [29.05, 119.65], True])
def test_an_entry_that_is_not_even_an_object_is_refused_alone(client, app, clock, scene, entry):
    """Found in review: such an entry used to fail the whole batch (422) and lose the good fixes."""
    good = fix(clock() - timedelta(minutes=1), INSIDE)
    response = upload(client, scene.phone, [entry, good])
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert (answer["stored"], [(r["index"], r["code"]) for r in answer["refused"]]) == (1, [(0, "invalid_fix")])
    assert len(stored_fixes(app, scene.person_id)) == 1


@pytest.mark.parametrize("literal, field", [("NaN", "lat"), ("Infinity", "lon"), ("-Infinity", "accuracy_m"),
                                            ("1e999", "lat"), ("NaN", "speed_mps"), ("NaN", "battery")])
def test_nan_and_infinities_in_raw_json_are_refused_per_fix_never_a_500(client, app, clock, scene, literal, field):
    """JSON has no NaN, but phones' serializers write it. The fix is refused; the others stay."""
    t = clock() - timedelta(minutes=5)
    good, bad = fix(t, INSIDE), fix(t + timedelta(minutes=1), INSIDE, speed_mps=1.0, battery=50)
    text = json.dumps({"fixes": [good, {**bad, field: "PLACEHOLDER"}]}).replace('"PLACEHOLDER"', literal)
    response = client.post(f"{API}/me/locations", headers=scene.phone, data=text, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["stored"] == 1
    assert [(r["index"], r["code"]) for r in answer["refused"]] == [(1, "invalid_fix")]
    assert field in answer["refused"][0]["message"] and "finite" in answer["refused"][0]["message"]
    assert [f.recorded_at for f in stored_fixes(app, scene.person_id)] == [t]


def test_nan_outside_the_fixes_is_a_clear_4xx(client, app, scene):
    for text in ('{"fixes": NaN}', "NaN", '{"fixes": [], "extra": NaN}'):
        response = client.post(f"{API}/me/locations", headers=scene.phone, data=text,
                               content_type="application/json")
        assert 400 <= response.status_code < 500, (text, response.status_code)
        error_of(response, response.status_code)
    assert stored_fixes(app) == []


def test_resending_a_batch_after_a_timeout_stores_nothing_twice(client, app, clock, scene):
    t = clock() - timedelta(minutes=30)
    batch = walk(t, [INSIDE, INSIDE_2, INSIDE, INSIDE_2]) + [fix(t, (95, 1))]
    first = upload(client, scene.phone, batch).get_json()
    assert (first["stored"], first["skipped"], len(first["refused"])) == (4, 0, 1)
    again = upload(client, scene.phone, batch).get_json()
    assert (again["stored"], again["skipped"], [r["index"] for r in again["refused"]]) == (0, 4, [4])
    # a batch that overlaps the last one stores only what is new
    more = upload(client, scene.phone, batch[2:4] + walk(t + timedelta(minutes=4), [INSIDE, INSIDE_2])).get_json()
    assert (more["stored"], more["skipped"]) == (2, 2)
    assert len(stored_fixes(app, scene.person_id)) == 6


def test_a_duplicate_keeps_the_first_fix_stored_and_is_not_an_error(client, app, clock, scene):
    t = clock() - timedelta(minutes=5)
    upload(client, scene.phone, [fix(t, INSIDE, accuracy=5)])
    answer = upload(client, scene.phone, [fix(t, INSIDE_2, accuracy=50)]).get_json()
    assert answer == {"stored": 0, "skipped": 1, "refused": []}
    (kept,) = stored_fixes(app, scene.person_id)
    assert (kept.lat, kept.lon, kept.accuracy_m) == (INSIDE[0], INSIDE[1], 5)


def test_the_same_instant_twice_in_one_batch_is_stored_once(client, app, clock, scene):
    t = clock() - timedelta(minutes=5)
    answer = upload(client, scene.phone, [fix(t, INSIDE), fix(t, INSIDE_2), fix(t + timedelta(seconds=1), INSIDE)])
    assert answer.get_json() == {"stored": 2, "skipped": 1, "refused": []}
    assert len(stored_fixes(app, scene.person_id)) == 2


def test_the_same_instant_written_in_another_time_zone_is_a_duplicate(client, app, clock, scene):
    utc = {"recorded_at": "2026-11-25T01:30:00Z", **GOOD}
    shanghai = {"recorded_at": "2026-11-25T09:30:00+08:00", **GOOD}
    assert upload(client, scene.phone, [utc]).get_json()["stored"] == 1
    assert upload(client, scene.phone, [shanghai]).get_json() == {"stored": 0, "skipped": 1, "refused": []}
    (kept,) = stored_fixes(app, scene.person_id)
    assert iso_z(kept.recorded_at) == "2026-11-25T01:30:00Z"


def test_duplicates_are_per_supervisee(client, app, make, auth, clock, scene):
    other = auth.supervisee(make.supervisee(scene.office))
    batch = [fix(clock() - timedelta(minutes=1), INSIDE)]
    assert upload(client, scene.phone, batch).get_json()["stored"] == 1
    assert upload(client, other, batch).get_json()["stored"] == 1
    assert len(stored_fixes(app)) == 2


def test_a_batch_of_500_is_taken_and_501_is_refused_whole(client, app, clock, scene):
    start = clock() - timedelta(hours=2)
    batch = [fix(start + timedelta(seconds=10 * i), INSIDE) for i in range(501)]
    too_many = upload(client, scene.phone, batch)
    error = error_of(too_many, 422)
    assert "fixes" in json.dumps(error["details"])
    assert stored_fixes(app) == []
    assert upload(client, scene.phone, batch[:500]).get_json() == {"stored": 500, "skipped": 0, "refused": []}
    assert len(stored_fixes(app, scene.person_id)) == 500


@pytest.mark.parametrize("body", [{}, {"fixes": {"lat": 1}}, {"fixes": [], "extra": 1}, {"fix": []}])
def test_a_body_that_is_not_a_batch_is_422_and_stores_nothing(client, app, scene, body):
    error_of(client.post(f"{API}/me/locations", headers=scene.phone, json=body), 422)
    assert stored_fixes(app) == []


def test_only_a_logged_in_supervisee_uploads(client, app, clock, scene):
    batch = {"fixes": [fix(clock(), INSIDE)]}
    assert client.post(f"{API}/me/locations", json=batch).status_code == 401
    assert client.post(f"{API}/me/locations", headers=scene.headers, json=batch).status_code == 403
    assert stored_fixes(app) == []


# --- alerts the fixes themselves raise ---------------------------------------------------------

def test_a_mocked_fix_is_stored_as_such_and_raises_one_mock_location_alert_a_day(client, app, clock, scene):
    t = clock() - timedelta(minutes=30)
    answer = upload(client, scene.phone, [fix(t, INSIDE), fix(t + timedelta(minutes=1), INSIDE, is_mock=True),
                                          fix(t + timedelta(minutes=2), INSIDE, is_mock=True)]).get_json()
    assert answer["stored"] == 3
    assert [f.is_mock for f in stored_fixes(app, scene.person_id)] == [False, True, True]
    (alert,) = alerts(app, scene.person_id, "mock_location")
    assert (alert.subject_key, alert.status, alert.evidence["source"]) == ("mock:2026-11-25", "open", "app")
    assert alert.evidence["recorded_at"] == iso_z(t + timedelta(minutes=1))
    # resending never duplicates
    upload(client, scene.phone, [fix(t + timedelta(minutes=1), INSIDE, is_mock=True)])
    assert len(alerts(app, scene.person_id, "mock_location")) == 1
    # the next local day (Shanghai) is a new subject
    clock.advance(days=1)
    upload(client, scene.phone, [fix(clock() - timedelta(minutes=1), INSIDE, is_mock=True)])
    assert [a.subject_key for a in alerts(app, scene.person_id, "mock_location")] == \
        ["mock:2026-11-25", "mock:2026-11-26"]
    with app.app_context():
        deductions = db.session.execute(sa.select(PointEntry.delta).where(
            PointEntry.supervisee_id == scene.person_id, PointEntry.event == "mock_location")).scalars().all()
    assert len(deductions) == 2 and all(delta < 0 for delta in deductions)


def test_mocked_fixes_outside_the_area_are_not_taken_as_an_exit(client, app, clock, scene):
    t = clock() - timedelta(minutes=30)
    upload(client, scene.phone, walk(t, [OUTSIDE] * 4, is_mock=True))
    assert len(alerts(app, scene.person_id, "mock_location")) == 1
    assert alerts(app, scene.person_id, "zone_exit") == []


HANGZHOU = (30.27, 120.15)  # ~150 km from Jinhua


def test_impossible_movement_raises_one_alert_and_a_resend_none_more(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    batch = [fix(t, INSIDE), fix(t + timedelta(minutes=10), HANGZHOU)]  # ~900 km/h
    upload(client, scene.phone, batch)
    (alert,) = alerts(app, scene.person_id, "impossible_movement")
    assert alert.subject_key == "speed:2026-11-25"
    assert alert.evidence["implied_kmh"] > 300 and alert.evidence["seconds"] == 600.0
    upload(client, scene.phone, batch)
    assert len(alerts(app, scene.person_id, "impossible_movement")) == 1


def test_impossible_movement_is_seen_across_batches(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t, INSIDE)])
    assert alerts(app, scene.person_id, "impossible_movement") == []
    upload(client, scene.phone, [fix(t + timedelta(minutes=5), HANGZHOU)])
    assert len(alerts(app, scene.person_id, "impossible_movement")) == 1


@pytest.mark.parametrize("kmh, alerted", [(290, False), (310, True)])
def test_the_speed_limit_is_300_kmh(client, app, clock, scene, kmh, alerted):
    t = clock() - timedelta(hours=1)
    metres = kmh / 3.6 * 60 + 2 * 5  # one minute at that speed, plus both fixes' accuracy
    upload(client, scene.phone, [fix(t, INSIDE, accuracy=5),
                                 fix(t + timedelta(minutes=1), (INSIDE[0] + metres / 110_574, INSIDE[1]), accuracy=5)])
    assert bool(alerts(app, scene.person_id, "impossible_movement")) is alerted


def test_a_jump_within_both_fixes_accuracy_is_not_impossible_movement(client, app, clock, scene):
    """1.2 km in 5 s is 860 km/h, but with 700 m accuracy on each fix the phone may not have moved."""
    t = clock() - timedelta(hours=1)
    jump = (INSIDE[0] + 1200 / 110_574, INSIDE[1])
    upload(client, scene.phone, [fix(t, INSIDE, accuracy=700), fix(t + timedelta(seconds=5), jump, accuracy=700)])
    assert alerts(app, scene.person_id, "impossible_movement") == []
    upload(client, scene.phone, [fix(t + timedelta(seconds=10), INSIDE, accuracy=10),
                                 fix(t + timedelta(seconds=15), jump, accuracy=10)])
    assert len(alerts(app, scene.person_id, "impossible_movement")) == 1


def test_a_mocked_fix_far_away_is_not_also_impossible_movement(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t, INSIDE), fix(t + timedelta(minutes=1), HANGZHOU, is_mock=True),
                                 fix(t + timedelta(minutes=2), INSIDE)])
    assert len(alerts(app, scene.person_id, "mock_location")) == 1
    assert alerts(app, scene.person_id, "impossible_movement") == []
