"""Leave (请假外出): asked by the supervisee, approved by length, permits the destination while it
runs, and is closed by reporting back (销假).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.checkins import qr
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.locations.models import Zone
from correction.time import iso_z
from tests.assertions import alerts, error_of
from tests.factories import API, INSIDE, OUTSIDE, SQUARE, fix, upload, walk

HANGZHOU = {"type": "Circle", "center": [120.1551, 30.2741], "radius_m": 20_000}
IN_HANGZHOU = (30.2741, 120.1551)


@pytest.fixture
def scene(make):
    """An office, its officer (logged in), and a supervisee logged in on their phone whose
    permitted area is the square around Jinhua."""
    return make.scene(officer_login=True, zone=SQUARE)


def ask(client, phone, start, end, **extra):
    body = {"destination_name": "杭州", "destination_geometry": HANGZHOU, "reason": "探亲",
            "start_at": iso_z(start), "end_at": iso_z(end), **extra}
    return client.post(f"{API}/me/leave-requests", headers=phone, json=body)


def approve(client, headers, leave_id, note=None):
    return client.post(f"{API}/leave-requests/{leave_id}/approve", headers=headers, json={"note": note} if note else {})


def leave_row(app, leave_id) -> LeaveRequest:
    with app.app_context():
        row = db.session.get(LeaveRequest, leave_id)
        db.session.expunge(row)
        return row


def supervisor_of(make, auth, scene):
    return auth.officer(make.officer(role="supervisor", bureau_id=scene.office.bureau_id))


# --- asking ------------------------------------------------------------------------------------------

def test_a_supervisee_asks_for_leave_and_sees_it_pending(client, clock, scene):
    start = clock() + timedelta(days=1)
    response = ask(client, scene.phone, start, start + timedelta(days=3))
    assert response.status_code == 201
    leave = response.get_json()
    assert {k: leave[k] for k in ("supervisee_id", "office_id", "destination_name", "destination_geometry",
                                  "reason", "days", "approver_role", "status", "decided_by", "returned_at")} == {
        "supervisee_id": scene.person_id, "office_id": scene.office.id, "destination_name": "杭州",
        "destination_geometry": HANGZHOU, "reason": "探亲", "days": 3, "approver_role": "officer",
        "status": "pending", "decided_by": None, "returned_at": None}
    assert (leave["start_at"], leave["created_at"]) == (iso_z(start), iso_z(clock()))
    mine = client.get(f"{API}/me/leave-requests", headers=scene.phone).get_json()["items"]
    assert [item["id"] for item in mine] == [leave["id"]]


@pytest.mark.parametrize("length, days, approver", [
    (timedelta(hours=6), 1, "officer"),
    (timedelta(days=7), 7, "officer"),
    (timedelta(days=7, minutes=1), 8, "supervisor"),
    (timedelta(days=30), 30, "supervisor"),
])
def test_up_to_7_days_is_the_office_s_and_8_to_30_the_bureau_s(client, clock, scene, length, days, approver):
    start = clock() + timedelta(hours=1)
    leave = ask(client, scene.phone, start, start + length).get_json()
    assert (leave["days"], leave["approver_role"]) == (days, approver)


@pytest.mark.parametrize("length", [timedelta(days=30, seconds=1), timedelta(days=31), timedelta(days=365)])
def test_over_30_days_is_refused_outright(client, app, clock, scene, length):
    start = clock() + timedelta(hours=1)
    error = error_of(ask(client, scene.phone, start, start + length), 422)
    assert error["code"] == "leave_too_long"
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(LeaveRequest)).scalar_one() == 0


@pytest.mark.parametrize("change, path", [
    ({"end_at": "START"}, "end_at"),
    ({"end_at": "BEFORE"}, "end_at"),
    ({"start_at": "PAST", "end_at": "PAST_END"}, "end_at"),
    ({"destination_geometry": {"type": "Point", "coordinates": [120.1, 30.2]}}, "destination_geometry"),
    ({"destination_geometry": {"type": "Circle", "center": [120.1, 30.2], "radius_m": -1}}, "destination_geometry"),
    ({"destination_geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}},
     "destination_geometry"),
    ({"reason": ""}, "reason"),
    ({"start_at": "tomorrow"}, "start_at"),
    ({"start_at": "2026-11-26T08:00:00"}, "start_at"),
])
def test_a_leave_request_that_makes_no_sense_is_422_with_the_field(client, app, clock, scene, change, path):
    start, end = clock() + timedelta(days=1), clock() + timedelta(days=2)
    values = {"START": iso_z(start), "BEFORE": iso_z(start - timedelta(hours=1)),
              "PAST": iso_z(clock() - timedelta(days=3)), "PAST_END": iso_z(clock() - timedelta(days=1))}
    change = {k: values.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    body = {"destination_name": "杭州", "destination_geometry": HANGZHOU, "reason": "探亲",
            "start_at": iso_z(start), "end_at": iso_z(end), **change}
    error = error_of(client.post(f"{API}/me/leave-requests", headers=scene.phone, json=body), 422)
    assert path in {f["path"] for f in error["details"]["fields"]}


def test_officers_do_not_ask_for_leave_and_supervisees_do_not_decide(client, clock, scene):
    start = clock() + timedelta(hours=1)
    assert ask(client, scene.headers, start, start + timedelta(days=1)).status_code == 403
    leave = ask(client, scene.phone, start, start + timedelta(days=1)).get_json()
    assert approve(client, scene.phone, leave["id"]).status_code == 403
    assert client.get(f"{API}/leave-requests", headers=scene.phone).status_code == 403


# --- deciding ----------------------------------------------------------------------------------------

def test_the_office_approves_up_to_7_days(client, app, clock, scene):
    start = clock() + timedelta(hours=1)
    leave = ask(client, scene.phone, start, start + timedelta(days=7)).get_json()
    response = approve(client, scene.headers, leave["id"], note="注意安全")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["decided_by"], body["decided_at"], body["decision_note"]) == \
        ("approved", scene.officer.officer.id, iso_z(clock()), "注意安全")


def test_8_to_30_days_needs_a_bureau_supervisor(client, app, make, auth, clock, scene):
    start = clock() + timedelta(hours=1)
    leave = ask(client, scene.phone, start, start + timedelta(days=20)).get_json()
    error = error_of(approve(client, scene.headers, leave["id"]), 403)
    assert error["code"] == "bureau_approval_required"
    error_of(client.post(f"{API}/leave-requests/{leave['id']}/reject", headers=scene.headers, json={}), 403)
    assert leave_row(app, leave["id"]).status == "pending"
    supervisor = supervisor_of(make, auth, scene)
    assert approve(client, supervisor, leave["id"]).get_json()["status"] == "approved"


def test_deciding_twice_is_409(client, app, make, auth, clock, scene):
    start = clock() + timedelta(hours=1)
    first = ask(client, scene.phone, start, start + timedelta(days=2)).get_json()
    assert approve(client, scene.headers, first["id"]).status_code == 200
    for path in ("approve", "reject"):
        again = client.post(f"{API}/leave-requests/{first['id']}/{path}", headers=scene.headers, json={})
        assert error_of(again, 409)["code"] == "leave_already_decided"
    second = ask(client, scene.phone, start, start + timedelta(days=2), reason="复诊").get_json()
    rejected = client.post(f"{API}/leave-requests/{second['id']}/reject", headers=scene.headers,
                           json={"note": "理由不足"})
    assert (rejected.status_code, rejected.get_json()["status"]) == (200, "rejected")
    assert error_of(approve(client, scene.headers, second["id"]), 409)["code"] == "leave_already_decided"
    assert leave_row(app, second["id"]).status == "rejected"


def test_only_approval_adds_the_destination_as_a_permitted_zone(client, app, clock, scene):
    start = clock() + timedelta(hours=1)
    rejected = ask(client, scene.phone, start, start + timedelta(days=2)).get_json()
    client.post(f"{API}/leave-requests/{rejected['id']}/reject", headers=scene.headers, json={})
    approved = ask(client, scene.phone, start, start + timedelta(days=2)).get_json()
    approve(client, scene.headers, approved["id"])
    with app.app_context():
        zones = db.session.execute(sa.select(Zone.kind, Zone.leave_request_id, Zone.geometry).where(
            Zone.supervisee_id == scene.person_id, Zone.active).order_by(Zone.id)).all()
    assert [(k, lid) for k, lid, _ in zones] == [("permitted", None), ("permitted", approved["id"]),
                                                 ("permitted", approved["id"])]
    assert zones[1].geometry == HANGZHOU  # the destination; the third is the way there and back


def test_a_new_home_area_keeps_the_leave_destination(client, app, clock, scene):
    start = clock() + timedelta(hours=1)
    leave = ask(client, scene.phone, start, start + timedelta(days=2)).get_json()
    approve(client, scene.headers, leave["id"])
    client.post(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers, json={
        "kind": "permitted", "name": "新辖区", "geometry": {"type": "Circle", "center": [119.65, 29.05],
                                                         "radius_m": 8000}})
    zones = client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers).get_json()["items"]
    assert sum(1 for z in zones if z["leave_request_id"] == leave["id"]) == 2
    assert [z["name"] for z in zones if z["leave_request_id"] is None] == ["新辖区"]


def test_officers_see_leave_requests_in_their_scope(client, make, auth, clock, scene):
    start = clock() + timedelta(hours=1)
    ours = ask(client, scene.phone, start, start + timedelta(days=2)).get_json()
    neighbour = make.scene(officer_login=True)  # another bureau altogether
    sibling_office = make.office(bureau=_bureau_of(make, scene))
    sibling_phone = auth.supervisee(make.supervisee(sibling_office))
    theirs = ask(client, sibling_phone, start, start + timedelta(days=2)).get_json()
    other_bureau = ask(client, neighbour.phone, start, start + timedelta(days=2)).get_json()

    def ids(headers, query=""):
        response = client.get(f"{API}/leave-requests{query}", headers=headers)
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["items"]]

    assert ids(scene.headers) == [ours["id"]]
    assert ids(supervisor_of(make, auth, scene)) == [theirs["id"], ours["id"]]  # newest first
    assert ids(neighbour.headers) == [other_bureau["id"]]
    approve(client, scene.headers, ours["id"])
    assert ids(scene.headers, "?status=pending") == []
    assert ids(scene.headers, "?status=approved") == [ours["id"]]
    assert ids(scene.headers, f"?supervisee_id={scene.person_id}") == [ours["id"]]
    # another office cannot decide ours: it is not found
    assert error_of(approve(client, neighbour.headers, theirs["id"]), 404)["code"] == "leave_not_found"


def _bureau_of(make, scene):
    from correction.people.models import Bureau
    with make.app.app_context():
        bureau = db.session.get(Bureau, scene.office.bureau_id)
        db.session.expunge(bureau)
        return bureau


# --- the destination is permitted while the leave runs -----------------------------------------------

@pytest.fixture
def on_leave(client, clock, scene):
    """An approved 3-day leave to Hangzhou starting in an hour; returns (start, end)."""
    start, end = clock() + timedelta(hours=1), clock() + timedelta(days=3)
    leave = ask(client, scene.phone, start, end).get_json()
    assert approve(client, scene.headers, leave["id"]).status_code == 200
    return leave["id"], start, end


def test_during_the_leave_fixes_at_the_destination_are_no_exit(client, app, clock, scene, on_leave):
    _, start, _ = on_leave
    clock.set(start + timedelta(hours=6))
    upload(client, scene.phone, walk(start + timedelta(hours=4), [IN_HANGZHOU] * 6, minutes=10))
    assert alerts(app, scene.person_id, "zone_exit") == []


def test_before_the_leave_starts_the_destination_is_outside(client, app, clock, scene, on_leave):
    _, start, _ = on_leave
    upload(client, scene.phone, walk(clock() - timedelta(minutes=30), [IN_HANGZHOU] * 3, minutes=5))
    assert len(alerts(app, scene.person_id, "zone_exit")) == 1


def test_after_the_leave_ends_the_destination_is_outside_again(client, app, clock, scene, on_leave):
    _, _, end = on_leave
    clock.set(end + timedelta(hours=2))
    upload(client, scene.phone, walk(end - timedelta(minutes=30), [IN_HANGZHOU] * 3, minutes=10))
    assert alerts(app, scene.person_id, "zone_exit") == []  # until end_at: still on leave
    upload(client, scene.phone, walk(end + timedelta(minutes=10), [IN_HANGZHOU] * 2, minutes=10))
    (alert,) = alerts(app, scene.person_id, "zone_exit")
    assert alert.evidence["recorded_at"] == iso_z(end + timedelta(minutes=20))


def test_a_rejected_leave_permits_nothing(client, app, clock, scene):
    start = clock() + timedelta(hours=1)
    leave = ask(client, scene.phone, start, start + timedelta(days=2)).get_json()
    client.post(f"{API}/leave-requests/{leave['id']}/reject", headers=scene.headers, json={})
    clock.set(start + timedelta(hours=5))
    upload(client, scene.phone, walk(start + timedelta(hours=2), [IN_HANGZHOU] * 3, minutes=10))
    assert len(alerts(app, scene.person_id, "zone_exit")) == 1


def test_the_leave_permits_only_its_destination_and_route(client, app, clock, scene, on_leave):
    _, start, _ = on_leave
    clock.set(start + timedelta(hours=6))
    beijing = (39.90, 116.40)
    upload(client, scene.phone, walk(start + timedelta(hours=4), [beijing] * 3, minutes=10))
    assert len(alerts(app, scene.person_id, "zone_exit")) == 1


# --- 销假: reporting back closes the leave -------------------------------------------------------------

def checkin(client, phone, clock, kind, point, station=None):
    body = {"kind": kind, "lat": point[0], "lon": point[1], "accuracy_m": 10, "recorded_at": iso_z(clock())}
    if station is not None:
        body["qr"] = qr.station_token(station.qr_secret, station.id, clock(), 30)[0]
    return client.post(f"{API}/me/checkins", headers=phone, json=body)


@pytest.fixture
def station(make, scene):
    return make.station(scene.office, lat=29.0833, lon=119.6490)  # inside the home square


def test_a_station_check_in_after_the_leave_began_closes_it(client, app, auth, clock, scene, station, on_leave):
    leave_id, start, _ = on_leave
    clock.set(start + timedelta(days=1))
    response = checkin(client, scene.phone, clock, "station", (station.lat, station.lon), station)
    assert response.status_code == 201, response.get_json()
    row = leave_row(app, leave_id)
    returned_at = clock()
    assert (row.status, row.returned_at) == ("closed", returned_at)
    officer = auth.officer(scene.officer)  # a day later: a fresh login
    listed = client.get(f"{API}/leave-requests?status=closed", headers=officer).get_json()["items"]
    assert [(i["id"], i["returned_at"]) for i in listed] == [(leave_id, iso_z(returned_at))]


def test_a_station_check_in_before_the_leave_began_leaves_it_open(client, app, clock, scene, station, on_leave):
    leave_id, _, _ = on_leave
    response = checkin(client, scene.phone, clock, "station", (station.lat, station.lon), station)
    assert response.status_code == 201, response.get_json()
    assert leave_row(app, leave_id).status == "approved"


def test_a_remote_check_in_surely_at_home_closes_the_leave(client, app, clock, scene, on_leave):
    leave_id, start, _ = on_leave
    clock.set(start + timedelta(hours=5))
    response = checkin(client, scene.phone, clock, "remote", INSIDE)
    assert response.status_code == 201, response.get_json()
    row = leave_row(app, leave_id)
    assert (row.status, row.returned_at) == ("closed", clock())


def test_a_remote_check_in_from_the_destination_does_not_close_the_leave(client, app, clock, scene, on_leave):
    leave_id, start, _ = on_leave
    clock.set(start + timedelta(hours=5))
    response = checkin(client, scene.phone, clock, "remote", IN_HANGZHOU)
    assert response.status_code == 201, response.get_json()
    row = leave_row(app, leave_id)
    assert (row.status, row.returned_at) == ("approved", None)


def test_a_remote_check_in_outside_home_and_destination_does_not_close_the_leave(
        client, app, clock, scene, on_leave):
    leave_id, start, _ = on_leave
    clock.set(start + timedelta(hours=5))
    assert checkin(client, scene.phone, clock, "remote", OUTSIDE).status_code == 201
    assert leave_row(app, leave_id).status == "approved"


def test_after_the_return_the_destination_is_outside_again(client, app, clock, scene, station, on_leave):
    leave_id, start, end = on_leave
    clock.set(start + timedelta(hours=5))
    checkin(client, scene.phone, clock, "station", (station.lat, station.lon), station)
    assert leave_row(app, leave_id).status == "closed"
    upload(client, scene.phone, walk(clock() + timedelta(minutes=1), [IN_HANGZHOU] * 2))
    assert len(alerts(app, scene.person_id, "zone_exit")) == 1


def test_fixes_taken_on_the_leave_but_uploaded_after_the_return_are_still_permitted(
        client, app, clock, scene, station, on_leave):
    _, start, _ = on_leave
    clock.set(start + timedelta(hours=8))
    checkin(client, scene.phone, clock, "station", (station.lat, station.lon), station)
    upload(client, scene.phone, walk(start + timedelta(hours=2), [IN_HANGZHOU] * 4, minutes=10) +
           [fix(clock() + timedelta(seconds=30), INSIDE)])
    assert alerts(app, scene.person_id, "zone_exit") == []
