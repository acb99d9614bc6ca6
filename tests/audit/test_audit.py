"""The audit trail: every login attempt, officer write and officer read of a supervisee is kept.

Each entry says who, when, what, on whom, with what outcome and under which request id. The
database refuses to change or delete entries. Supervisors read their bureau's trail at
``GET /audit``, filtered and paginated, newest first.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.audit import service as audit_service
from correction.audit.models import AuditEntry
from correction.database import db
from correction.time import iso_z
from tests.assertions import error_of, rows
from tests.factories import API, valid_national_id

AUDIT = f"{API}/audit"
SUPERVISEES = f"{API}/supervisees"


@pytest.fixture
def scene(make):
    """Two offices of a bureau (an officer and a supervisee each) and its supervisor, who log in,
    the officer first; another bureau with its own office, officer, supervisee and supervisor."""
    return make.org(logins=True)


def entries(app, *where) -> list[AuditEntry]:
    return rows(app, AuditEntry, *where)


def last(app, action: str) -> AuditEntry:
    found = entries(app, AuditEntry.action == action)
    assert found, f"no {action} entry"
    return found[-1]


# --- what is recorded -------------------------------------------------------------------------

def test_an_officer_write_is_recorded_with_who_when_what_whom_outcome_and_request_id(app, client, scene,
                                                                                     clock):
    response = client.patch(f"{SUPERVISEES}/{scene.person.supervisee.id}",
                            json={"level": "strict", "name": "王芳"},
                            headers=scene.headers | {"X-Request-ID": "patch-42"})
    assert response.status_code == 200
    entry = last(app, "supervisee.update")
    assert entry.at == clock()
    assert (entry.actor_type, entry.actor_id, entry.actor_label) == (
        "officer", scene.officer.officer.id, scene.officer.officer.username)
    assert entry.bureau_id == scene.bureau.id
    assert (entry.target_type, entry.target_id) == ("supervisee", scene.person.supervisee.id)
    assert entry.outcome == "ok"
    assert entry.request_id == "patch-42"
    assert entry.ip == "127.0.0.1"
    assert entry.details == {"fields": ["level", "name"]}  # which fields, never their values


def test_enrolment_and_device_reset_are_recorded(app, client, scene):
    national_id = valid_national_id()
    created = client.post(SUPERVISEES, headers=scene.headers, json={
        "name": "张伟", "national_id": national_id, "phone": "13712345678",
        "initial_password": "first-password", "sentence_type": "parole",
        "supervision_start": "2026-11-01", "supervision_end": "2027-10-31", "level": "normal"})
    assert created.status_code == 201
    new_id = created.get_json()["id"]
    assert client.post(f"{SUPERVISEES}/{new_id}/device/reset", headers=scene.headers).status_code == 200
    assert [(e.action, e.target_id, e.outcome) for e in entries(
        app, AuditEntry.action.in_(["supervisee.create", "supervisee.device_reset"]))] == [
        ("supervisee.create", new_id, "ok"), ("supervisee.device_reset", new_id, "ok")]
    assert national_id not in repr([e.details for e in entries(app)])


def test_reads_of_supervisee_records_are_recorded(app, client, scene):
    client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers)
    client.get(SUPERVISEES, query_string={"level": "normal", "limit": 5}, headers=scene.headers)
    read = last(app, "supervisee.read")
    assert (read.actor_id, read.target_id, read.outcome) == (
        scene.officer.officer.id, scene.person.supervisee.id, "ok")
    listing = last(app, "supervisee.list")
    assert listing.outcome == "ok"
    assert listing.details == {"level": "normal"}


def test_a_refused_read_outside_scope_is_recorded_too(app, client, scene):
    response = client.get(f"{SUPERVISEES}/{scene.sister_person.supervisee.id}", headers=scene.headers)
    assert response.status_code == 404
    entry = last(app, "supervisee.read")
    assert (entry.actor_id, entry.target_id, entry.outcome) == (
        scene.officer.officer.id, scene.sister_person.supervisee.id, "supervisee_not_found")


def test_a_refused_write_is_recorded_and_nothing_else_is_written(app, client, scene):
    response = client.patch(f"{SUPERVISEES}/{scene.person.supervisee.id}",
                            json={"office_id": scene.sister_office.id}, headers=scene.headers)
    assert response.status_code == 422
    entry = last(app, "supervisee.update")
    assert (entry.outcome, entry.target_id) == ("validation_error", scene.person.supervisee.id)


def test_a_lookup_by_national_id_records_whom_it_found(app, client, make, scene):
    national_id = valid_national_id()
    person = make.supervisee(scene.office, scene.officer.officer, national_id=national_id)
    client.post(f"{SUPERVISEES}/lookup", json={"national_id": national_id}, headers=scene.headers)
    entry = last(app, "supervisee.lookup")
    assert (entry.target_type, entry.target_id, entry.outcome) == ("supervisee", person.supervisee.id, "ok")


def test_logout_is_recorded(app, client, scene):
    assert client.post(f"{API}/auth/logout", headers=scene.headers).status_code == 204
    entry = last(app, "auth.logout")
    assert (entry.actor_id, entry.outcome) == (scene.officer.officer.id, "ok")


def test_a_locked_login_attempt_is_recorded_as_locked(app, auth, scene, clock):
    for _ in range(6):
        auth.officer_login(scene.officer, password="wrong-password")
    outcomes = [e.outcome for e in entries(app, AuditEntry.action == "auth.officer_login",
                                           AuditEntry.actor_id == scene.officer.officer.id)]
    assert outcomes[-6:] == ["invalid_credentials"] * 5 + ["account_locked"]


def test_a_request_id_that_is_not_safe_is_replaced_by_a_generated_one(app, client, scene):
    response = client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}",
                          headers=scene.headers | {"X-Request-ID": "<script>alert(1)</script>"})
    generated = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert last(app, "supervisee.read").request_id == generated


# --- append-only -------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET outcome = 'ok'",
    "UPDATE audit_entries SET actor_label = 'someone else' WHERE id = 1",
    "DELETE FROM audit_entries",
    "DELETE FROM audit_entries WHERE id = 1",
])
def test_the_database_refuses_to_change_or_delete_audit_entries(app, client, scene, statement):
    before = [(e.id, e.outcome, e.actor_label) for e in entries(app)]
    assert before and before[0][0] == 1
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert [(e.id, e.outcome, e.actor_label) for e in entries(app)] == before


def test_the_orm_cannot_delete_an_audit_entry_either(app, scene):
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).limit(1)).scalar_one()
        db.session.delete(entry)
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
    assert len(entries(app)) == 2  # the two officer logins of the scene


def test_new_entries_can_still_be_appended(app, scene, clock):
    with app.test_request_context():
        audit_service.record(db.session, at=clock(), action="test.append", outcome="ok",
                             bureau_id=scene.bureau.id)
        db.session.commit()
    assert last(app, "test.append").outcome == "ok"


# --- GET /audit ---------------------------------------------------------------------------------

def test_only_supervisors_read_the_audit_trail(client, auth, scene):
    assert error_of(client.get(AUDIT), 401)["code"] == "unauthorized"
    assert error_of(client.get(AUDIT, headers=scene.headers), 403)["code"] == "forbidden"
    phone = auth.supervisee(scene.person)
    assert error_of(client.get(AUDIT, headers=phone), 403)["code"] == "forbidden"
    assert client.get(AUDIT, headers=scene.supervisor_headers).status_code == 200


def test_the_audit_trail_is_newest_first_and_shows_every_field(client, scene, clock):
    client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers | {"X-Request-ID": "r-1"})
    page = client.get(AUDIT, headers=scene.supervisor_headers).get_json()
    ids = [item["id"] for item in page["items"]]
    assert ids == sorted(ids, reverse=True)
    newest = page["items"][0]
    assert newest == {
        "id": newest["id"], "at": iso_z(clock()), "actor_type": "officer",
        "actor_id": scene.officer.officer.id, "actor_label": scene.officer.officer.username,
        "action": "supervisee.read", "target_type": "supervisee",
        "target_id": scene.person.supervisee.id, "outcome": "ok", "request_id": "r-1",
        "ip": "127.0.0.1", "details": {}}


def test_supervisors_see_only_their_own_bureau(client, make, auth, scene):
    other_bureau = make.bureau()
    other_office = make.office(other_bureau)
    other_officer = make.officer(other_office)
    other_person = make.supervisee(other_office, other_officer.officer)
    client.get(f"{SUPERVISEES}/{other_person.supervisee.id}", headers=auth.officer(other_officer))
    items = client.get(AUDIT, query_string={"limit": 200}, headers=scene.supervisor_headers).get_json()["items"]
    assert items
    assert other_officer.officer.id not in {i["actor_id"] for i in items}
    assert other_person.supervisee.id not in {i["target_id"] for i in items}
    foreign_supervisor = make.officer(role="supervisor", bureau_id=other_bureau.id)
    theirs = client.get(AUDIT, query_string={"action": "supervisee.read"},
                        headers=auth.officer(foreign_supervisor)).get_json()["items"]
    assert [(i["actor_id"], i["target_id"]) for i in theirs] == [
        (other_officer.officer.id, other_person.supervisee.id)]


def test_the_audit_trail_filters_by_actor_action_target_and_outcome(client, scene):
    client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers)
    client.get(f"{SUPERVISEES}/{scene.sister_person.supervisee.id}", headers=scene.headers)  # 404
    client.get(f"{SUPERVISEES}/{scene.sister_person.supervisee.id}", headers=scene.supervisor_headers)

    def query(**params):
        response = client.get(AUDIT, query_string=params, headers=scene.supervisor_headers)
        assert response.status_code == 200, response.get_json()
        return [(i["action"], i["actor_id"], i["target_id"], i["outcome"]) for i in response.get_json()["items"]]

    officer_id, supervisor_id = scene.officer.officer.id, scene.supervisor.officer.id
    mine, sister = scene.person.supervisee.id, scene.sister_person.supervisee.id
    assert query(action="supervisee.read") == [
        ("supervisee.read", supervisor_id, sister, "ok"),
        ("supervisee.read", officer_id, sister, "supervisee_not_found"),
        ("supervisee.read", officer_id, mine, "ok")]
    assert query(action="supervisee.read", actor_id=officer_id) == [
        ("supervisee.read", officer_id, sister, "supervisee_not_found"),
        ("supervisee.read", officer_id, mine, "ok")]
    assert query(target_type="supervisee", target_id=sister, outcome="ok") == [
        ("supervisee.read", supervisor_id, sister, "ok")]
    assert query(outcome="supervisee_not_found") == [
        ("supervisee.read", officer_id, sister, "supervisee_not_found")]
    assert {a for a, *_ in query(actor_type="officer")} == {"auth.officer_login", "supervisee.read"}
    assert query(actor_type="supervisee") == []


def test_the_audit_trail_filters_by_time(client, scene, clock):
    start = clock()
    client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers)
    clock.advance(minutes=20)
    client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers)

    def times(**params):
        params = {k: iso_z(v) for k, v in params.items()} | {"action": "supervisee.read"}
        response = client.get(AUDIT, query_string=params, headers=scene.supervisor_headers)
        assert response.status_code == 200, response.get_json()
        return [i["at"] for i in response.get_json()["items"]]

    later = start + timedelta(minutes=20)
    assert times(since=start) == [iso_z(later), iso_z(start)]
    assert times(since=start + timedelta(minutes=10)) == [iso_z(later)]
    assert times(until=start + timedelta(minutes=10)) == [iso_z(start)]
    assert times(since=start, until=start) == []  # until is exclusive


def test_a_time_filter_without_a_zone_is_refused(client, scene):
    response = client.get(AUDIT, query_string={"since": "2026-11-25T10:00:00"},
                          headers=scene.supervisor_headers)
    assert {f["path"] for f in error_of(response, 422)["details"]["fields"]} == {"query.since"}


def test_the_audit_trail_pages_through_every_entry_exactly_once(app, client, scene):
    for _ in range(7):
        client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers)
    expected = sorted((e.id for e in entries(app, AuditEntry.bureau_id == scene.bureau.id)), reverse=True)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(AUDIT, query_string=params, headers=scene.supervisor_headers).get_json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == -(-len(expected) // 3)


def test_reading_the_audit_trail_does_not_change_it(app, client, scene):
    before = len(entries(app))
    client.get(AUDIT, headers=scene.supervisor_headers)
    client.get(AUDIT, headers=scene.supervisor_headers)
    assert len(entries(app)) == before
