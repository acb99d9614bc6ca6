"""Spot checks (点验): an officer asks, the supervisee answers with a ``spot`` check-in in time."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.checkins.models import SpotCheck
from correction.database import db
from correction.time import iso_z
from tests.assertions import checkins_of, error_code
from tests.factories import API, point_at, post_checkin, station_code

SPOT_CHECKS = f"{API}/spot-checks"


@pytest.fixture
def scene(make):
    """An office with a station, its officer, and a ``normal`` supervisee logged in on their phone."""
    return make.scene(station=True)


def spot_checks_of(app, supervisee_id: int) -> list[SpotCheck]:
    with app.app_context():
        rows = db.session.execute(sa.select(SpotCheck).where(SpotCheck.supervisee_id == supervisee_id)
                                  .order_by(SpotCheck.id)).scalars().all()
        db.session.expunge_all()
    return list(rows)


@pytest.fixture
def officer(auth, scene):
    return auth.officer(scene.officer)


@pytest.fixture
def spot(client, scene, officer, clock):
    """A spot check asked for now, with the default answer time."""
    response = client.post(SPOT_CHECKS, json={"supervisee_id": scene.person_id, "note": "请立即签到"},
                           headers=officer)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_officer_asks_for_a_spot_check_with_15_minutes_by_default(app, scene, spot, clock):
    assert spot["supervisee_id"] == scene.person_id
    assert (spot["status"], spot["note"], spot["answered_at"]) == ("pending", "请立即签到", None)
    assert spot["requested_at"] == iso_z(clock())
    assert spot["due_at"] == iso_z(clock() + timedelta(minutes=15))
    [row] = spot_checks_of(app, scene.person_id)
    assert (row.id, row.status, row.office_id, row.requested_by) == (
        spot["id"], "pending", scene.office.id, scene.officer.officer.id)


def test_supervisee_sees_the_spot_check_in_schedule_and_notifications(client, scene, spot):
    schedule = client.get(f"{API}/me/schedule", headers=scene.phone).get_json()
    assert [(s["id"], s["due_at"], s["status"]) for s in schedule["spot_checks"]] == [
        (spot["id"], spot["due_at"], "pending")]
    notifications = client.get(f"{API}/me/notifications", headers=scene.phone).get_json()["items"]
    [notice] = [n for n in notifications if n["kind"] == "spot_check"]
    assert notice["data"] == {"spot_check_id": spot["id"], "due_at": spot["due_at"]}
    assert "15" in notice["body"]


def test_answering_in_time_satisfies_the_spot_check(client, app, scene, spot, clock):
    clock.advance(minutes=14, seconds=59)
    response = post_checkin(client, scene.phone, "spot", recorded_at=clock())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["spot_check_id"], body["window_key"]) == ("spot", spot["id"], f"spot:{spot['id']}")
    assert body["window_closes_at"] == spot["due_at"]
    [row] = spot_checks_of(app, scene.person_id)
    assert (row.status, row.answered_at) == ("answered", clock())
    schedule = client.get(f"{API}/me/schedule", headers=scene.phone).get_json()
    assert schedule["spot_checks"] == []

    clock.advance(seconds=30)  # a new answer, with a fresh fix (a retry of the first answers the first)
    again = post_checkin(client, scene.phone, "spot", recorded_at=clock())
    assert again.status_code == 409  # answered: nothing is pending any more
    assert error_code(again) == "no_open_window"
    assert [(r.kind, r.outcome) for r in checkins_of(app, scene.person_id)] == [
        ("spot", "accepted"), ("spot", "refused")]


def test_a_repeated_answer_while_still_pending_returns_the_first(client, app, scene, spot, clock):
    first = post_checkin(client, scene.phone, "spot", recorded_at=clock())
    assert first.status_code == 201
    # Mark it pending again, as if the first answer's status update had been lost: the check-in still counts once.
    with app.app_context():
        db.session.execute(sa.update(SpotCheck).values(status="pending", answered_at=None))
        db.session.commit()
    clock.advance(minutes=1)
    again = post_checkin(client, scene.phone, "spot", recorded_at=clock())
    assert (again.status_code, again.get_json()["id"], again.get_json()["duplicate"]) == (
        200, first.get_json()["id"], True)


@pytest.mark.parametrize("late_by", [timedelta(0), timedelta(seconds=1), timedelta(hours=2)])
def test_after_expiry_a_spot_checkin_has_no_open_window(client, app, scene, spot, clock, late_by):
    clock.advance(minutes=15)
    clock.advance(seconds=late_by.total_seconds())
    response = post_checkin(client, scene.phone, "spot", recorded_at=clock())
    assert (response.status_code, error_code(response)) == (409, "no_open_window")
    [row] = checkins_of(app, scene.person_id)
    assert (row.kind, row.outcome, row.refusal_code, row.spot_check_id) == ("spot", "refused", "no_open_window", None)
    assert [s.status for s in spot_checks_of(app, scene.person_id)] == ["pending"]  # the sweep marks it missed
    schedule = client.get(f"{API}/me/schedule", headers=scene.phone).get_json()
    assert schedule["spot_checks"] == []


def test_officer_may_set_the_answer_time(client, app, scene, officer, clock):
    response = client.post(SPOT_CHECKS, json={"supervisee_id": scene.person_id, "minutes": 5}, headers=officer)
    assert response.status_code == 201
    assert response.get_json()["due_at"] == iso_z(clock() + timedelta(minutes=5))
    clock.advance(minutes=5, seconds=1)
    assert error_code(post_checkin(client, scene.phone, "spot", recorded_at=clock())) == "no_open_window"


def test_answer_time_is_bounded_by_a_setting(client, scene, officer):
    response = client.post(SPOT_CHECKS, json={"supervisee_id": scene.person_id, "minutes": 121}, headers=officer)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"][0]["path"] == "minutes"


def test_spot_check_needs_a_fresh_and_genuine_fix(client, app, scene, spot, clock):
    stale = post_checkin(client, scene.phone, "spot", recorded_at=clock() - timedelta(seconds=601))
    assert error_code(stale) == "fix_too_old"
    mocked = post_checkin(client, scene.phone, "spot", is_mock=True, recorded_at=clock())
    assert error_code(mocked) == "mock_location"
    # A fix taken before the officer asked does not answer the request.
    earlier = post_checkin(client, scene.phone, "spot", recorded_at=clock() - timedelta(seconds=30))
    assert error_code(earlier) == "fix_too_old"
    assert post_checkin(client, scene.phone, "spot", recorded_at=clock()).status_code == 201


def test_spot_check_answered_at_a_station_checks_the_code_and_distance(client, scene, spot, clock):
    far = point_at(2_000.0)
    refused = post_checkin(client, scene.phone, "spot", qr_text=station_code(scene.station, clock()),
                           lat=far[0], lon=far[1], recorded_at=clock())
    assert error_code(refused) == "too_far_from_station"
    accepted = post_checkin(client, scene.phone, "spot", qr_text=station_code(scene.station, clock()),
                            recorded_at=clock())
    assert accepted.status_code == 201 and accepted.get_json()["station_id"] == scene.station.id


def test_a_spot_checkin_does_not_satisfy_the_regular_remote_window(client, scene, spot, clock):
    assert post_checkin(client, scene.phone, "spot", recorded_at=clock()).status_code == 201
    remote = post_checkin(client, scene.phone, "remote", recorded_at=clock())
    assert (remote.status_code, remote.get_json()["window_key"]) == (201, "remote:2026-11-23")


def test_spot_checkin_without_a_spot_check_has_no_open_window(client, scene, clock):
    response = post_checkin(client, scene.phone, "spot", recorded_at=clock())
    assert (response.status_code, error_code(response)) == (409, "no_open_window")


def test_only_one_spot_check_waits_at_a_time(client, app, scene, spot, officer, clock):
    second = client.post(SPOT_CHECKS, json={"supervisee_id": scene.person_id}, headers=officer)
    assert (second.status_code, error_code(second)) == (409, "spot_check_pending")
    clock.advance(minutes=16)
    third = client.post(SPOT_CHECKS, json={"supervisee_id": scene.person_id}, headers=officer)
    assert third.status_code == 201
    assert len(spot_checks_of(app, scene.person_id)) == 2


def test_supervisee_outside_the_officers_scope_is_not_found(client, app, make, auth, scene):
    stranger = auth.officer(make.officer(make.office()))
    for supervisee_id in (scene.person_id, scene.person_id + 1000):
        response = client.post(SPOT_CHECKS, json={"supervisee_id": supervisee_id}, headers=stranger)
        assert (response.status_code, error_code(response)) == (404, "supervisee_not_found")
    assert spot_checks_of(app, scene.person_id) == []
    notifications = client.get(f"{API}/me/notifications", headers=scene.phone).get_json()["items"]
    assert notifications == []


def test_supervisees_cannot_ask_for_spot_checks(client, scene):
    response = client.post(SPOT_CHECKS, json={"supervisee_id": scene.person_id}, headers=scene.phone)
    assert response.status_code == 403


@pytest.mark.postgresql_only  # SQLite runs one writer at a time: no race to lose
def test_two_officers_asking_at_once_make_one_spot_check(app, scene, officer, auth, make):
    from tests.admin.test_concurrency import at_once

    colleague = auth.officer(make.officer(scene.office))
    body = {"supervisee_id": scene.person_id}
    for _ in range(3):  # a race lost once in three tries would still show
        answers = at_once(app, ("post", SPOT_CHECKS, officer, body), ("post", SPOT_CHECKS, colleague, body))
        assert sorted(status for status, _ in answers) == [201, 409], answers
        assert next(body for status, body in answers if status == 409)["error"]["code"] == "spot_check_pending"
        with app.app_context():
            db.session.execute(sa.update(SpotCheck).values(status="cancelled"))
            db.session.commit()
    assert len(spot_checks_of(app, scene.person_id)) == 3
