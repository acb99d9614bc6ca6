"""Leave asked without a destination area (the phone has no map): the approving officer sets it."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.locations.models import Zone
from correction.monitoring.retention import purge_location_data
from tests.assertions import error_of
from tests.factories import API, SQUARE

from .test_leave import HANGZHOU, leave_row


@pytest.fixture
def scene(make):
    return make.scene(officer_login=True, zone=SQUARE)


def ask_without_area(client, clock, scene, days=2):
    start = clock() + timedelta(hours=1)
    body = {"destination_name": "杭州市西湖区 某某医院", "reason": "就医",
            "start_at": (start).isoformat(), "end_at": (start + timedelta(days=days)).isoformat()}
    return client.post(f"{API}/me/leave-requests", headers=scene.phone, json=body)


def approve(client, scene, leave_id, **body):
    return client.post(f"{API}/leave-requests/{leave_id}/approve", headers=scene.headers, json=body)


def leave_zones(app, leave_id):
    with app.app_context():
        return db.session.execute(sa.select(Zone.geometry).where(Zone.leave_request_id == leave_id)
                                  .order_by(Zone.id)).scalars().all()


def approvals(app, leave_id):
    with app.app_context():
        return db.session.execute(sa.select(AuditEntry.outcome, AuditEntry.details).where(
            AuditEntry.action == "leave.approve", AuditEntry.target_id == leave_id).order_by(AuditEntry.id)).all()


def test_a_request_without_an_area_is_filed_pending_and_a_retry_finds_it(client, clock, scene):
    first = ask_without_area(client, clock, scene)
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["status"], first.get_json()["destination_geometry"]) == ("pending", None)
    again = ask_without_area(client, clock, scene)
    assert (again.status_code, again.get_json()["id"]) == (200, first.get_json()["id"])


def test_approving_without_an_area_is_422_and_writes_nothing(client, app, clock, scene):
    leave = ask_without_area(client, clock, scene).get_json()
    error = error_of(approve(client, scene, leave["id"]), 422)
    assert error["code"] == "destination_area_required"
    row = leave_row(app, leave["id"])
    assert (row.status, row.decided_by, row.destination_geometry) == ("pending", None, None)
    assert leave_zones(app, leave["id"]) == []


@pytest.mark.parametrize("area", [{"type": "Point", "coordinates": [120.1, 30.2]},
                                  {"type": "Circle", "center": [120.1, 30.2], "radius_m": -1}, "杭州"])
def test_a_bad_area_at_approval_is_422_with_the_field_and_writes_nothing(client, app, clock, scene, area):
    leave = ask_without_area(client, clock, scene).get_json()
    error = error_of(approve(client, scene, leave["id"], destination_geometry=area), 422)
    assert [field["path"] for field in error["details"]["fields"]] == ["destination_geometry"]
    row = leave_row(app, leave["id"])
    assert (row.status, row.destination_geometry) == ("pending", None)
    assert leave_zones(app, leave["id"]) == []


def test_an_area_given_at_approval_is_stored_and_permitted(client, app, clock, scene):
    leave = ask_without_area(client, clock, scene).get_json()
    answer = approve(client, scene, leave["id"], destination_geometry=HANGZHOU, note="注意安全")
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["status"], answer.get_json()["destination_geometry"]) == ("approved", HANGZHOU)
    assert leave_row(app, leave["id"]).destination_geometry == HANGZHOU
    zones = leave_zones(app, leave["id"])
    assert zones[0] == HANGZHOU and len(zones) == 2  # the destination, and the way there and back
    assert approvals(app, leave["id"])[-1].details == {"destination_area_set_at_approval": True}


def test_a_request_with_an_area_keeps_it(client, app, clock, scene):
    start = clock() + timedelta(hours=1)
    leave = client.post(f"{API}/me/leave-requests", headers=scene.phone, json={
        "destination_name": "杭州", "destination_geometry": HANGZHOU, "reason": "探亲",
        "start_at": start.isoformat(), "end_at": (start + timedelta(days=2)).isoformat()}).get_json()
    other = {"type": "Circle", "center": [121.47, 31.23], "radius_m": 5000}
    error = error_of(approve(client, scene, leave["id"], destination_geometry=other), 422)
    assert error["details"]["fields"][0]["path"] == "destination_geometry"
    assert leave_row(app, leave["id"]).status == "pending"
    assert approve(client, scene, leave["id"]).get_json()["destination_geometry"] == HANGZHOU
    assert approvals(app, leave["id"])[-1].details == {}


def test_a_purged_area_is_still_leave_destination_purged(client, app, clock, scene):
    old = clock() - timedelta(days=200)
    with app.app_context():
        leave = LeaveRequest(supervisee_id=scene.person_id, office_id=scene.office.id, destination_name="杭州",
                             destination_geometry=HANGZHOU, reason="探亲", start_at=old,
                             end_at=old + timedelta(days=2), days=2, approver_role="officer", status="pending",
                             created_at=old)
        db.session.add(leave)
        db.session.commit()
        purge_location_data(db.session, app.config["SETTINGS"], clock())
        db.session.commit()
        leave_id = leave.id
    error = error_of(approve(client, scene, leave_id, destination_geometry=HANGZHOU), 409)
    assert error["code"] == "leave_destination_purged"
    assert (leave_row(app, leave_id).status, leave_zones(app, leave_id)) == ("pending", [])
