"""Check-ins: station QR codes, every acceptance rule, refusals on the record.

The clock starts on Wednesday 2026-11-25 at 10:00 in Shanghai (02:00Z), so for a ``normal``
supervisee the weekly remote window (Mon 23rd–Sun 29th) and the monthly station window
(November) are both open. Station QR codes rotate every 30 s on steps aligned to :00 and :30.
"""
from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

import pytest

from correction.time import UTC, iso_z
from tests.assertions import alerts, checkins_of, decode_png, error_code, row_counts, timeline
from tests.factories import (API, CHECKINS, STATION_LAT, STATION_LON, Scene, local, point_at, post_checkin,
                             station_code)


@pytest.fixture
def scene(make):
    """An office with a station, its officer, and a ``normal`` supervisee logged in on their phone."""
    return make.scene(station=True)


# --- station codes ---------------------------------------------------------------------------

def test_officer_gets_the_station_code_and_when_it_expires(client, scene, auth, clock):
    headers = auth.officer(scene.officer)
    now = clock()
    response = client.get(f"{API}/stations/{scene.station.id}/qr", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    step = int(now.timestamp()) // 30
    assert body["station_id"] == scene.station.id
    assert re.fullmatch(rf"CQ1\.{scene.station.id}\.{step}\.[A-Za-z0-9_\-]{{22}}", body["token"])
    assert body["expires_at"] == iso_z(datetime.fromtimestamp((step + 1) * 30, UTC))


def test_station_code_rotates_every_30_seconds(client, scene, auth, clock):
    headers = auth.officer(scene.officer)
    clock.set(datetime(2026, 11, 25, 2, 10, 0, tzinfo=UTC))

    def current():
        body = client.get(f"{API}/stations/{scene.station.id}/qr", headers=headers).get_json()
        return body["token"], body["expires_at"]

    first, first_expiry = current()
    clock.advance(seconds=29)
    assert current() == (first, first_expiry)
    clock.advance(seconds=1)
    second, second_expiry = current()
    assert second != first
    assert first_expiry == "2026-11-25T02:10:30Z" and second_expiry == "2026-11-25T02:11:00Z"


def test_station_codes_are_for_officers_of_that_office_only(client, make, scene, auth):
    stranger = auth.officer(make.officer(make.office()))
    for path in (f"/stations/{scene.station.id}/qr", f"/stations/{scene.station.id}/qr.png"):
        response = client.get(API + path, headers=stranger)
        assert response.status_code == 404
        assert error_code(response) == "station_not_found"
        assert client.get(API + path, headers=scene.phone).status_code == 403
        assert client.get(API + path).status_code == 401
    missing = client.get(f"{API}/stations/{scene.station.id + 1000}/qr", headers=auth.officer(scene.officer))
    assert missing.status_code == 404


def test_station_png_decodes_to_the_current_token_which_checks_in(client, app, scene, auth, clock):
    headers = auth.officer(scene.officer)
    response = client.get(f"{API}/stations/{scene.station.id}/qr.png", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Expires"] == "Wed, 25 Nov 2026 02:01:00 GMT"
    decoded = decode_png(response.data)
    assert decoded == client.get(f"{API}/stations/{scene.station.id}/qr", headers=headers).get_json()["token"]

    checkin = post_checkin(client, scene.phone, "station", qr_text=decoded, recorded_at=clock())
    assert checkin.status_code == 201, checkin.get_json()
    assert checkin.get_json()["station_id"] == scene.station.id


# --- an accepted check-in --------------------------------------------------------------------

def test_station_checkin_at_the_station_is_accepted_and_stored(client, app, scene, clock):
    lat, lon = point_at(40.0, bearing=30.0)
    response = post_checkin(client, scene.phone, "station", qr_text=station_code(scene.station, clock()),
                            lat=lat, lon=lon, accuracy_m=8.0, recorded_at=clock() - timedelta(seconds=5))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["outcome"] == "accepted" and body["duplicate"] is False
    assert body["kind"] == "station" and body["station_id"] == scene.station.id
    assert body["window_key"] == "station:2026-11-01"
    assert body["window_closes_at"] == "2026-11-30T12:00:00Z"  # 20:00 in Shanghai on 30 November
    assert body["distance_m"] == pytest.approx(40.0, abs=0.1)

    [row] = checkins_of(app, scene.person_id)
    assert (row.id, row.outcome, row.refusal_code, row.kind) == (body["id"], "accepted", None, "station")
    assert row.station_id == scene.station.id and row.device_id is not None
    assert (row.lat, row.lon, row.accuracy_m) == (pytest.approx(lat), pytest.approx(lon), 8.0)
    assert row.recorded_at == clock() - timedelta(seconds=5) and row.received_at == clock()


def test_remote_checkin_needs_no_station_and_any_place_will_do(client, app, scene, clock):
    lat, lon = point_at(50_000.0)
    response = post_checkin(client, scene.phone, "remote", lat=lat, lon=lon, recorded_at=clock())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["window_key"], body["station_id"], body["distance_m"]) == ("remote:2026-11-23", None, None)
    assert [r.outcome for r in checkins_of(app, scene.person_id)] == ["accepted"]


# --- token freshness and replay --------------------------------------------------------------

def test_token_of_the_previous_step_is_still_accepted(client, scene, clock):
    token = station_code(scene.station, clock())
    clock.advance(seconds=30)  # the screen has moved on by one step
    response = post_checkin(client, scene.phone, "station", qr_text=token, recorded_at=clock())
    assert response.status_code == 201, response.get_json()


def test_token_two_steps_old_has_expired(client, app, scene, clock):
    clock.set(datetime(2026, 11, 25, 2, 10, 29, tzinfo=UTC))  # last second of its step
    token = station_code(scene.station, clock())
    clock.advance(seconds=31)  # two steps later
    response = post_checkin(client, scene.phone, "station", qr_text=token, recorded_at=clock())
    assert response.status_code == 422
    assert error_code(response) == "qr_expired"
    [row] = checkins_of(app, scene.person_id)
    assert (row.outcome, row.refusal_code, row.station_id) == ("refused", "qr_expired", scene.station.id)


def test_token_one_step_ahead_is_allowed_for_clock_skew_but_two_are_not(client, scene, clock):
    ahead_two = station_code(scene.station, clock() + timedelta(seconds=60))
    refused = post_checkin(client, scene.phone, "station", qr_text=ahead_two, recorded_at=clock())
    assert (refused.status_code, error_code(refused)) == (422, "qr_invalid")
    ahead_one = station_code(scene.station, clock() + timedelta(seconds=30))
    accepted = post_checkin(client, scene.phone, "station", qr_text=ahead_one, recorded_at=clock())
    assert accepted.status_code == 201, accepted.get_json()


def test_replayed_token_within_its_steps(client, app, make, auth, scene, clock):
    token = station_code(scene.station, clock())
    first = post_checkin(client, scene.phone, "station", qr_text=token, recorded_at=clock())
    assert first.status_code == 201
    clock.advance(seconds=30)
    # The same person replaying it gets the first check-in back, not a second one.
    again = post_checkin(client, scene.phone, "station", qr_text=token, recorded_at=clock())
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["duplicate"] is True
    # The code proves presence at the station, not identity: a neighbour in the queue may use it.
    neighbour = make.supervisee(scene.office, scene.officer.officer)
    other = post_checkin(client, auth.supervisee(neighbour), "station", qr_text=token, recorded_at=clock())
    assert other.status_code == 201
    assert [r.outcome for r in checkins_of(app, scene.person_id)] == ["accepted"]


def test_replayed_token_after_its_steps_is_refused(client, app, make, auth, scene, clock):
    token = station_code(scene.station, clock())
    assert post_checkin(client, scene.phone, "station", qr_text=token, recorded_at=clock()).status_code == 201
    clock.advance(seconds=60)
    late = make.supervisee(scene.office, scene.officer.officer)
    response = post_checkin(client, auth.supervisee(late), "station", qr_text=token, recorded_at=clock())
    assert (response.status_code, error_code(response)) == (422, "qr_expired")
    assert [(r.outcome, r.refusal_code) for r in checkins_of(app, late.supervisee.id)] == [("refused", "qr_expired")]


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="forged-signature"),
    pytest.param(lambda t: t[:-1], id="truncated"),
    pytest.param(lambda t: t.rsplit(".", 1)[0], id="signature-missing"),
    pytest.param(lambda t: t.replace("CQ1.", "CQ2.", 1), id="wrong-version"),
    pytest.param(lambda t: "https://example.com/checkin", id="not-a-station-code"),
    pytest.param(lambda t: ".".join(t.split(".")[:2] + [str(int(t.split(".")[2]) - 1)] + t.split(".")[3:]),
                 id="step-changed"),
])
def test_forged_or_damaged_tokens_are_invalid(client, app, scene, clock, tamper):
    token = tamper(station_code(scene.station, clock()))
    response = post_checkin(client, scene.phone, "station", qr_text=token, recorded_at=clock())
    assert (response.status_code, error_code(response)) == (422, "qr_invalid")
    assert [(r.outcome, r.refusal_code) for r in checkins_of(app, scene.person_id)] == [("refused", "qr_invalid")]


def test_token_of_station_a_relabelled_for_station_b_of_the_same_office_fails_its_signature(
        client, app, make, scene, clock):
    station_b = make.station(scene.office, lat=STATION_LAT, lon=STATION_LON)
    _, _, step, signature = station_code(scene.station, clock()).split(".")
    relabelled = f"CQ1.{station_b.id}.{step}.{signature}"
    response = post_checkin(client, scene.phone, "station", qr_text=relabelled, recorded_at=clock())
    assert (response.status_code, error_code(response)) == (422, "qr_invalid")
    [row] = checkins_of(app, scene.person_id)
    assert (row.refusal_code, row.station_id) == ("qr_invalid", station_b.id)


def test_genuine_code_of_station_a_scanned_while_standing_at_station_b_is_too_far(client, make, scene, clock):
    b_lat, b_lon = point_at(5_000.0, bearing=180.0)
    make.station(scene.office, lat=b_lat, lon=b_lon)
    response = post_checkin(client, scene.phone, "station", qr_text=station_code(scene.station, clock()),
                            lat=b_lat, lon=b_lon, recorded_at=clock())
    assert (response.status_code, error_code(response)) == (422, "too_far_from_station")
    assert response.get_json()["error"]["details"]["distance_m"] == pytest.approx(5_000.0, abs=0.1)


def test_code_of_another_offices_station_is_not_ours(client, app, make, scene, clock):
    elsewhere = make.station(make.office(), lat=STATION_LAT, lon=STATION_LON)
    response = post_checkin(client, scene.phone, "station", qr_text=station_code(elsewhere, clock()),
                            recorded_at=clock())
    assert (response.status_code, error_code(response)) == (422, "qr_invalid")
    [row] = checkins_of(app, scene.person_id)
    assert (row.refusal_code, row.station_id) == ("qr_invalid", None)  # no trace of the other office


def test_forwarded_screenshot_scanned_far_from_the_station_is_refused(client, app, scene, clock):
    token = station_code(scene.station, clock())  # a friend photographs the screen and sends it
    lat, lon = point_at(3_000.0, bearing=45.0)
    response = post_checkin(client, scene.phone, "station", qr_text=token, lat=lat, lon=lon,
                            accuracy_m=10.0, recorded_at=clock())
    assert (response.status_code, error_code(response)) == (422, "too_far_from_station")
    details = response.get_json()["error"]["details"]
    assert details["distance_m"] == pytest.approx(3_000.0, abs=0.1) and details["allowed_m"] == 110.0
    [row] = checkins_of(app, scene.person_id)
    assert (row.outcome, row.refusal_code, row.station_id) == ("refused", "too_far_from_station", scene.station.id)
    assert row.distance_m == pytest.approx(3_000.0, abs=0.1)


# --- distance: radius + min(accuracy, cap) ---------------------------------------------------

@pytest.mark.parametrize("accuracy_m, allowed_m", [
    pytest.param(0.01, 100.01, id="accuracy-negligible"),
    pytest.param(30.0, 130.0, id="accuracy-added"),
    pytest.param(50.0, 150.0, id="accuracy-at-cap"),
    pytest.param(400.0, 150.0, id="accuracy-capped"),
])
@pytest.mark.parametrize("bearing", [0.0, 135.0, 270.0])
def test_distance_just_inside_and_just_outside_the_allowance(client, app, make, auth, scene, clock,
                                                             accuracy_m, allowed_m, bearing):
    token = station_code(scene.station, clock())
    lat, lon = point_at(allowed_m + 0.1, bearing)
    outside = post_checkin(client, scene.phone, "station", qr_text=token, lat=lat, lon=lon,
                           accuracy_m=accuracy_m, recorded_at=clock())
    assert (outside.status_code, error_code(outside)) == (422, "too_far_from_station")
    assert outside.get_json()["error"]["details"]["allowed_m"] == round(allowed_m, 1)

    lat, lon = point_at(allowed_m - 0.1, bearing)
    inside = post_checkin(client, scene.phone, "station", qr_text=token, lat=lat, lon=lon,
                          accuracy_m=accuracy_m, recorded_at=clock())
    assert inside.status_code == 201, inside.get_json()
    assert inside.get_json()["distance_m"] == pytest.approx(allowed_m - 0.1, abs=0.06)
    assert [(r.outcome, r.refusal_code) for r in checkins_of(app, scene.person_id)] == [
        ("refused", "too_far_from_station"), ("accepted", None)]


class TestAccuracyCapSetting:
    @pytest.fixture
    def settings_overrides(self):
        return {"ACCURACY_CAP_M": 10.0}

    def test_a_smaller_cap_shrinks_the_allowance(self, client, scene, clock):
        token = station_code(scene.station, clock())
        lat, lon = point_at(115.0)
        far = post_checkin(client, scene.phone, "station", qr_text=token, lat=lat, lon=lon,
                           accuracy_m=30.0, recorded_at=clock())
        assert (far.status_code, error_code(far)) == (422, "too_far_from_station")
        assert far.get_json()["error"]["details"]["allowed_m"] == 110.0
        lat, lon = point_at(109.9)
        assert post_checkin(client, scene.phone, "station", qr_text=token, lat=lat, lon=lon,
                            accuracy_m=30.0, recorded_at=clock()).status_code == 201


# --- the other rules: device, mock, window, repeats, each refusal on the record ---------------

def test_after_a_device_reset_the_old_phone_can_no_longer_check_in(client, app, auth, scene, clock):
    officer = auth.officer(scene.officer)
    reset = client.post(f"{API}/supervisees/{scene.person_id}/device/reset", headers=officer)
    assert reset.status_code == 200
    old_phone = post_checkin(client, scene.phone, "remote", recorded_at=clock())
    # the reset ends the old phone's login outright: it cannot act as the supervisee at all
    assert (old_phone.status_code, error_code(old_phone)) == (401, "token_invalid")
    assert client.get(f"{API}/me", headers=scene.phone).status_code == 401
    assert checkins_of(app, scene.person_id) == []

    login = auth.supervisee_login(scene.person, device_id="new-phone")
    assert login.status_code == 200
    new_phone = {"Authorization": f"Bearer {login.get_json()['token']}"}
    accepted = post_checkin(client, new_phone, "remote", recorded_at=clock())
    assert accepted.status_code == 201, accepted.get_json()
    assert [r.outcome for r in checkins_of(app, scene.person_id)] == ["accepted"]
    assert post_checkin(client, scene.phone, "remote", recorded_at=clock()).status_code == 401


def test_mocked_location_is_refused_and_raises_one_alert_for_the_officer(client, app, auth, scene, clock):
    for _ in range(2):
        response = post_checkin(client, scene.phone, "station", qr_text=station_code(scene.station, clock()),
                                is_mock=True, recorded_at=clock())
        assert (response.status_code, error_code(response)) == (422, "mock_location")
        clock.advance(minutes=1)
    rows = checkins_of(app, scene.person_id)
    assert [(r.outcome, r.refusal_code, r.is_mock) for r in rows] == [("refused", "mock_location", True)] * 2
    [alert] = alerts(app, scene.person_id)  # the second attempt the same day adds no alert
    assert (alert.type, alert.status, alert.severity, alert.office_id) == (
        "mock_location", "open", "high", scene.office.id)
    assert alert.evidence["source"] == "checkin"

    items = timeline(client, auth.officer(scene.officer), scene.person_id)["items"]
    assert ("alert", alert.id) in [(i["type"], i["id"]) for i in items]


def test_no_open_window_is_a_conflict(client, app, scene, clock):
    clock.set(local(2026, 11, 30, 7, 59, 59))  # Monday before 08:00: last week closed, this one not open
    response = post_checkin(client, scene.phone, "remote", recorded_at=clock())
    assert (response.status_code, error_code(response)) == (409, "no_open_window")
    [row] = checkins_of(app, scene.person_id)
    assert (row.outcome, row.refusal_code, row.window_key) == ("refused", "no_open_window", None)


def test_second_checkin_in_a_satisfied_window_returns_the_first(client, app, scene, clock):
    first = post_checkin(client, scene.phone, "remote", recorded_at=clock())
    assert first.status_code == 201 and first.get_json()["duplicate"] is False
    clock.advance(hours=3)
    lat, lon = point_at(2_000.0)
    again = post_checkin(client, scene.phone, "remote", lat=lat, lon=lon, recorded_at=clock())
    assert again.status_code == 200
    body = again.get_json()
    assert body["duplicate"] is True
    assert {k: v for k, v in body.items() if k != "duplicate"} == {
        k: v for k, v in first.get_json().items() if k != "duplicate"}  # the FIRST check-in, as it was
    assert [r.id for r in checkins_of(app, scene.person_id)] == [first.get_json()["id"]]


@pytest.mark.parametrize("case", ["expired code", "far from the station"])
def test_a_repeat_that_would_be_refused_in_a_satisfied_window_returns_the_first(client, app, scene, clock, case):
    code = station_code(scene.station, clock())
    first = post_checkin(client, scene.phone, "station", qr_text=code, recorded_at=clock())
    assert first.status_code == 201, first.get_json()
    clock.advance(minutes=10)
    if case == "expired code":  # the phone retries with the code it scanned ten minutes ago
        again = post_checkin(client, scene.phone, "station", qr_text=code, recorded_at=clock())
    else:
        lat, lon = point_at(5_000.0)
        again = post_checkin(client, scene.phone, "station", qr_text=station_code(scene.station, clock()),
                             lat=lat, lon=lon, recorded_at=clock())
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["duplicate"] is True and again.get_json()["id"] == first.get_json()["id"]
    assert [(r.id, r.outcome) for r in checkins_of(app, scene.person_id)] == [(first.get_json()["id"], "accepted")]


def test_the_same_refusal_outside_a_satisfied_window_is_recorded(client, app, scene, clock):
    stale = station_code(scene.station, clock())
    clock.advance(minutes=10)
    refused = post_checkin(client, scene.phone, "station", qr_text=stale, recorded_at=clock())
    assert (refused.status_code, error_code(refused)) == (422, "qr_expired")
    [row] = checkins_of(app, scene.person_id)
    assert (row.outcome, row.refusal_code) == ("refused", "qr_expired")


@pytest.mark.postgresql_only
@pytest.mark.parametrize("kind", ["station", "remote"])
def test_two_concurrent_identical_checkins_count_once(app, make, auth, scene, clock, kind):
    for _ in range(3):  # a few rounds: the threads do not collide every time
        person = make.supervisee(scene.office, scene.officer.officer)
        phone = auth.supervisee(person)
        body = {"kind": kind, "lat": STATION_LAT, "lon": STATION_LON, "accuracy_m": 10.0,
                "recorded_at": iso_z(clock()), "is_mock": False}
        if kind == "station":
            body["qr"] = station_code(scene.station, clock())
        barrier = threading.Barrier(2)
        answers: list = [None, None]

        def send(index: int) -> None:
            with app.app_context():
                client = app.test_client()
                barrier.wait(timeout=10)
                response = client.post(CHECKINS, json=body, headers=phone)
                answers[index] = (response.status_code, response.get_json())

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert all(a is not None for a in answers), answers
        assert sorted(status for status, _ in answers) == [200, 201], answers
        assert answers[0][1]["id"] == answers[1][1]["id"]
        assert sorted(b["duplicate"] for _, b in answers) == [False, True]
        rows = checkins_of(app, person.supervisee.id)
        assert [(r.id, r.outcome) for r in rows] == [(answers[0][1]["id"], "accepted")]


def _request(case: str, scene: Scene, now: datetime) -> dict:
    base = dict(recorded_at=now, qr_text=None, lat=STATION_LAT, lon=STATION_LON, accuracy_m=10.0,
                is_mock=False)
    code = station_code(scene.station, now)
    return {
        "qr_invalid": dict(base, kind="station", qr_text="CQ1.1.1.not-a-signature"),
        "qr_expired": dict(base, kind="station", qr_text=station_code(scene.station, now - timedelta(seconds=60))),
        "too_far_from_station": dict(base, kind="station", qr_text=code, lat=point_at(1_000.0)[0],
                                     lon=point_at(1_000.0)[1]),
        "mock_location": dict(base, kind="remote", is_mock=True),
        "no_open_window": dict(base, kind="spot"),  # no spot check was asked for
        "fix_in_future": dict(base, kind="remote", recorded_at=now + timedelta(seconds=121)),
        "fix_too_old": dict(base, kind="remote", recorded_at=now - timedelta(seconds=601)),
        "accuracy_too_poor": dict(base, kind="remote", accuracy_m=2000.5),
        "qr_required": dict(base, kind="station"),
        "qr_not_expected": dict(base, kind="remote", qr_text=code),
    }[case]


@pytest.mark.parametrize("case, status", [
    ("qr_invalid", 422), ("qr_expired", 422), ("too_far_from_station", 422), ("mock_location", 422),
    ("no_open_window", 409), ("fix_in_future", 422), ("fix_too_old", 422), ("accuracy_too_poor", 422),
    ("qr_required", 422), ("qr_not_expected", 422),
])
def test_each_refusal_has_its_code_is_recorded_and_nothing_else_is_written(
        client, app, auth, scene, clock, case, status):
    officer = auth.officer(scene.officer)
    before = row_counts(app)
    request = _request(case, scene, clock())
    kind = request.pop("kind")
    response = post_checkin(client, scene.phone, kind, **request)
    assert response.status_code == status
    assert error_code(response) == case

    [row] = checkins_of(app, scene.person_id)
    assert (row.kind, row.outcome, row.refusal_code) == (kind, "refused", case)
    assert row.received_at == clock() and row.recorded_at == request["recorded_at"]
    expected = dict(before, checkins=before["checkins"] + 1)
    if case == "mock_location":  # the officer's alert, the mocked-location deduction, the notice asking why
        expected.update(alerts=before["alerts"] + 1, point_entries=before["point_entries"] + 1,
                        point_balances=before["point_balances"] + 1, notifications=before["notifications"] + 1)
    assert row_counts(app) == expected

    [event] = [i for i in timeline(client, officer, scene.person_id)["items"] if i["type"] == "checkin"]
    assert event["id"] == row.id
    assert (event["data"]["outcome"], event["data"]["refusal_code"]) == ("refused", case)


@pytest.mark.parametrize("field, value", [
    ("recorded_at", +120), ("recorded_at", -600), ("accuracy_m", 2000.0)])
def test_freshness_and_accuracy_limits_are_inclusive(client, scene, clock, field, value):
    request = dict(recorded_at=clock(), accuracy_m=10.0)
    request[field] = clock() + timedelta(seconds=value) if field == "recorded_at" else value
    response = post_checkin(client, scene.phone, "remote", **request)
    assert response.status_code == 201, response.get_json()


def test_an_accepted_checkin_writes_the_checkin_and_its_points_only(client, app, scene, clock):
    before = row_counts(app)
    response = post_checkin(client, scene.phone, "station", qr_text=station_code(scene.station, clock()),
                            recorded_at=clock())
    assert response.status_code == 201
    after = row_counts(app)
    assert after == dict(before, checkins=before["checkins"] + 1, point_entries=before["point_entries"] + 1,
                         point_balances=before["point_balances"] + 1)
