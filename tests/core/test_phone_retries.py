"""Every POST a phone makes is safe to send twice: mobile networks lose answers, phones retry.

A retry finds the first result by a natural key (a check-in's person, kind and fix time; a
fix's time; a leave request's dates and place) or by its ``Idempotency-Key`` (orders), and
answers with it instead of refusing or doing the thing twice.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.checkins.models import Checkin
from correction.database import db
from correction.events import Breach, publish
from correction.leave.models import LeaveRequest
from correction.locations.models import LocationFix
from correction.mall import points
from correction.mall.models import MallItem, Order
from correction.time import iso_z
from tests.factories import API


@dataclass
class Scene:
    office_id: int
    person_id: int
    lat: float
    lon: float
    phone: dict[str, str]
    officer: dict[str, str]


@pytest.fixture
def scene(make, auth) -> Scene:
    office = make.office()
    station = make.station(office)
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer, level="strict")  # a remote window every day
    return Scene(office.id, person.supervisee.id, station.lat, station.lon, auth.supervisee(person),
                 auth.officer(officer))


def check_in(client, scene: Scene, kind: str, recorded_at: datetime):
    return client.post(f"{API}/me/checkins", headers=scene.phone, json={
        "kind": kind, "lat": scene.lat, "lon": scene.lon, "accuracy_m": 10, "recorded_at": iso_z(recorded_at),
        "is_mock": False})


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()


def test_a_retried_remote_check_in_answers_the_first_even_once_its_fix_is_old(client, app, clock, scene):
    taken = clock()
    first = check_in(client, scene, "remote", taken)
    assert first.status_code == 201, first.get_json()
    again = check_in(client, scene, "remote", taken)
    clock.advance(minutes=11)  # past CHECKIN_FIX_MAX_AGE_SECONDS: the same body is now "too old"
    late = check_in(client, scene, "remote", taken)
    for retry in (again, late):
        assert (retry.status_code, retry.get_json()["id"], retry.get_json()["duplicate"]) == (
            200, first.get_json()["id"], True)
    assert count(app, Checkin, Checkin.supervisee_id == scene.person_id, Checkin.outcome == "accepted") == 1


def test_a_retried_answer_to_a_spot_check_answers_the_first(client, app, clock, scene):
    asked = client.post(f"{API}/spot-checks", headers=scene.officer, json={"supervisee_id": scene.person_id})
    assert asked.status_code == 201, asked.get_json()
    clock.advance(minutes=2)
    taken = clock()
    answer = check_in(client, scene, "spot", taken)
    assert answer.status_code == 201, answer.get_json()
    clock.advance(seconds=20)  # the answer was lost on the way; the phone sends it again
    retry = check_in(client, scene, "spot", taken)
    assert (retry.status_code, retry.get_json()["id"]) == (200, answer.get_json()["id"]), retry.get_json()
    assert retry.get_json()["spot_check_id"] == asked.get_json()["id"]
    assert count(app, Checkin, Checkin.kind == "spot") == 1


def test_a_new_spot_check_answer_without_a_spot_check_is_still_refused(client, clock, scene):
    refused = check_in(client, scene, "spot", clock())
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "no_open_window")


def test_a_retried_upload_stores_nothing_twice(client, app, clock, scene):
    fixes = [{"recorded_at": iso_z(clock() - timedelta(minutes=m)), "lat": scene.lat, "lon": scene.lon,
              "accuracy_m": 10} for m in (3, 2, 1)]
    first = client.post(f"{API}/me/locations", headers=scene.phone, json={"fixes": fixes})
    again = client.post(f"{API}/me/locations", headers=scene.phone, json={"fixes": fixes})
    assert (first.status_code, first.get_json()["stored"]) == (200, 3)
    assert (again.status_code, again.get_json()["stored"], again.get_json()["skipped"]) == (200, 0, 3)
    assert count(app, LocationFix, LocationFix.supervisee_id == scene.person_id) == 3


def test_a_retried_leave_request_files_one_request(client, app, clock, scene):
    body = {"destination_name": "杭州", "reason": "探亲",
            "destination_geometry": {"type": "Circle", "center": [120.1551, 30.2741], "radius_m": 20_000},
            "start_at": iso_z(clock() + timedelta(days=1)), "end_at": iso_z(clock() + timedelta(days=3))}
    first = client.post(f"{API}/me/leave-requests", headers=scene.phone, json=body)
    again = client.post(f"{API}/me/leave-requests", headers=scene.phone, json=body)
    assert first.status_code == 201, first.get_json()
    assert (again.status_code, again.get_json()) == (200, first.get_json())
    other = client.post(f"{API}/me/leave-requests", headers=scene.phone, json={**body, "reason": "就医"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert count(app, LeaveRequest, LeaveRequest.supervisee_id == scene.person_id) == 2


def test_a_retried_explanation_answers_the_same(client, app, clock, scene):
    with app.app_context():
        publish(db.session, app.config["SETTINGS"], Breach(supervisee_id=scene.person_id, office_id=scene.office_id,
                                                          type="zone_exit", subject_key="permitted:1", at=clock()))
        db.session.commit()
        alert_id = db.session.execute(sa.select(Alert.id)).scalar_one()
    url = f"{API}/me/alerts/{alert_id}/explanation"
    first = client.post(url, headers=scene.phone, json={"explanation": "去医院 went to hospital"})
    again = client.post(url, headers=scene.phone, json={"explanation": "去医院 went to hospital"})
    assert first.status_code == 200, first.get_json()
    assert (again.status_code, again.get_json()) == (200, first.get_json())


def test_a_retried_redemption_with_its_key_makes_one_order(client, app, clock, scene):
    with app.app_context():
        points.post(db.session, supervisee_id=scene.person_id, office_id=scene.office_id, delta=50,
                    event="adjustment", event_ref="test:retry", reason="test", now=clock())
        item = MallItem(office_id=scene.office_id, name="洗衣液", description="", cost=10, stock=5,
                        monthly_limit=None, active=True, created_at=clock(), updated_at=clock())
        db.session.add(item)
        db.session.commit()
        item_id = item.id
    headers = {**scene.phone, "Idempotency-Key": uuid.uuid4().hex}
    first = client.post(f"{API}/me/orders", headers=headers, json={"item_id": item_id})
    again = client.post(f"{API}/me/orders", headers=headers, json={"item_id": item_id})
    assert first.status_code == 201, first.get_json()
    assert (again.status_code, again.get_json()["id"]) == (200, first.get_json()["id"])
    assert count(app, Order, Order.supervisee_id == scene.person_id) == 1
