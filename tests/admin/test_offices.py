"""Offices: an admin creates, renames, closes and lists their bureau's offices; nobody else does."""
from __future__ import annotations

import pytest

from correction.audit.models import AuditEntry
from correction.people.models import Office, Station
from tests.admin.conftest import ADMIN
from tests.assertions import count, error_of, field_paths, rows
from tests.factories import API, enrolment


def audit_of(app, action: str) -> AuditEntry:
    (entry,) = rows(app, AuditEntry, AuditEntry.action == action)
    return entry


def test_admin_creates_an_office_and_the_audit_says_what_it_became(client, app, bureau):
    response = client.post(f"{ADMIN}/offices", headers=bureau.headers, json={"code": "wc-new", "name": "新狮街道司法所"})
    assert response.status_code == 201, response.get_json()
    office = response.get_json()
    assert office == {"id": office["id"], "bureau_id": bureau.org.bureau.id, "code": "wc-new",
                      "name": "新狮街道司法所", "closed": False, "closed_at": None}
    entry = audit_of(app, "office.create")
    assert (entry.outcome, entry.target_type, entry.target_id, entry.actor_id) == (
        "ok", "office", office["id"], bureau.admin.officer.id)
    assert entry.details == {"before": {}, "after": {"code": "wc-new", "name": "新狮街道司法所", "closed_at": None}}


def test_an_office_code_is_taken_once(client, bureau):
    taken = client.post(f"{ADMIN}/offices", headers=bureau.headers,
                        json={"code": bureau.org.foreign_office.code, "name": "重复"})
    assert error_of(taken, 409)["code"] == "office_code_taken"
    bad = client.post(f"{ADMIN}/offices", headers=bureau.headers, json={"code": "has space", "name": ""})
    assert field_paths(error_of(bad, 422)) == {"code", "name"}


def test_renaming_is_audited_before_and_after(client, app, bureau):
    office = bureau.org.office
    response = client.patch(f"{ADMIN}/offices/{office.id}", headers=bureau.headers, json={"name": "城中司法所"})
    assert response.status_code == 200 and response.get_json()["name"] == "城中司法所"
    assert audit_of(app, "office.rename").details == {"before": {"name": "城中街道司法所"},
                                                       "after": {"name": "城中司法所"}}


def test_closing_an_office_with_active_supervisees_is_refused_with_their_count(client, app, make, bureau):
    office = bureau.org.office  # org.person is active there; add one more, and an ended one
    make.supervisee(office, bureau.org.officer.officer)
    make.supervisee(office, bureau.org.officer.officer, status="ended")
    response = client.post(f"{ADMIN}/offices/{office.id}/close", headers=bureau.headers)
    error = error_of(response, 409)
    assert error["code"] == "office_has_supervisees"
    assert error["details"] == {"active_supervisees": 2}
    assert "2 active supervisee" in error["message"]
    assert rows(app, Office, Office.id == office.id)[0].closed_at is None
    assert audit_of(app, "office.close").outcome == "office_has_supervisees"


def test_a_closed_office_takes_no_enrolment_officer_or_station_and_its_stations_retire(
        client, app, make, auth, bureau, clock):
    office = make.office(bureau.org.bureau, name="待撤销司法所")
    officer = make.officer(office)
    station = make.station(office)
    officer_headers = auth.officer(officer)
    closed = client.post(f"{ADMIN}/offices/{office.id}/close", headers=bureau.headers)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["closed"] is True and closed.get_json()["closed_at"] == "2026-11-25T02:01:00Z"
    assert audit_of(app, "office.close").details == {
        "before": {"closed_at": None}, "after": {"closed_at": "2026-11-25T02:01:00Z"}, "stations_retired": 1}
    assert rows(app, Station, Station.id == station.id)[0].active is False

    enrol = client.post(f"{API}/supervisees", headers=officer_headers, json=enrolment())
    assert error_of(enrol, 409)["code"] == "office_closed"
    new_officer = client.post(f"{ADMIN}/officers", headers=bureau.headers, json={
        "username": "late-officer", "name": "迟到", "role": "officer", "office_id": office.id,
        "initial_password": "a-long-first-password"})
    assert error_of(new_officer, 409)["code"] == "office_closed"
    new_station = client.post(f"{ADMIN}/stations", headers=bureau.headers, json={
        "office_id": office.id, "name": "新点", "lat": 29.08, "lon": 119.65, "radius_m": 100})
    assert error_of(new_station, 409)["code"] == "office_closed"
    # closing again is answered with the office as it is, changing nothing
    again = client.post(f"{ADMIN}/offices/{office.id}/close", headers=bureau.headers)
    assert again.status_code == 200 and again.get_json()["closed_at"] == "2026-11-25T02:01:00Z"


def test_the_office_list_pages_through_the_bureau_with_closed_ones_flagged(client, make, bureau):
    closed = make.office(bureau.org.bureau, name="已撤销")
    client.post(f"{ADMIN}/offices/{closed.id}/close", headers=bureau.headers)
    first = client.get(f"{ADMIN}/offices?limit=2", headers=bureau.headers).get_json()
    second = client.get(f"{ADMIN}/offices?limit=2&cursor={first['next_cursor']}", headers=bureau.headers).get_json()
    listed = first["items"] + second["items"]
    assert second["next_cursor"] is None
    assert [(o["id"], o["closed"]) for o in listed] == [
        (bureau.org.office.id, False), (bureau.org.sister_office.id, False), (closed.id, True)]
    only_closed = client.get(f"{ADMIN}/offices?closed=true", headers=bureau.headers).get_json()["items"]
    assert [o["id"] for o in only_closed] == [closed.id]


@pytest.mark.parametrize("method,path,body", [
    ("patch", "/admin/offices/{id}", {"name": "改名"}),
    ("post", "/admin/offices/{id}/close", None),
])
def test_another_bureaus_office_is_not_found(client, app, bureau, method, path, body):
    foreign = bureau.org.foreign_office
    response = getattr(client, method)(API + path.format(id=foreign.id), headers=bureau.headers, json=body)
    assert error_of(response, 404)["code"] == "office_not_found"
    assert rows(app, Office, Office.id == foreign.id)[0].name == "云山街道司法所"


def test_officers_and_supervisors_do_not_see_the_admin_endpoints(client, auth, bureau):
    for login in (bureau.org.officer, bureau.org.supervisor):
        headers = auth.officer(login)
        for response in (client.get(f"{ADMIN}/offices", headers=headers),
                         client.post(f"{ADMIN}/offices", headers=headers, json={"code": "x1", "name": "x"}),
                         client.get(f"{ADMIN}/officers", headers=headers),
                         client.post(f"{ADMIN}/stations/1/retire", headers=headers)):
            assert error_of(response, 404)["code"] == "not_found"
    assert error_of(client.get(f"{ADMIN}/offices"), 401)["code"] == "unauthorized"
    assert count(client.application, Office, Office.code == "x1") == 0
