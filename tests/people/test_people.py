"""Supervisees as officers see them: scope, enrolment, changes, and the national ID number.

An officer sees their office, a supervisor their bureau; anything else is a 404, the same as a
missing object. The national ID number is stored as a keyed hash and its last four characters,
answered only masked, and never logged.
"""
from __future__ import annotations

import json
import logging
from datetime import date

import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.database import db
from correction.people.models import Supervisee
from tests.assertions import count, error_of, field_paths, rows
from tests.factories import API, enrolment, valid_national_id

SUPERVISEES = f"{API}/supervisees"


@pytest.fixture
def org(make):
    """Two offices in one bureau, one office in another bureau, with staff and people (``person`` is strict)."""
    return make.org("strict")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


# --- scope --------------------------------------------------------------------------------

def test_officer_lists_only_their_own_office(client, auth, org):
    assert ids(client.get(SUPERVISEES, headers=auth.officer(org.officer))) == [org.person.supervisee.id]


def test_supervisor_lists_every_office_of_their_bureau_and_no_other(client, auth, org):
    assert ids(client.get(SUPERVISEES, headers=auth.officer(org.supervisor))) == [
        org.person.supervisee.id, org.sister_person.supervisee.id]
    assert ids(client.get(SUPERVISEES, headers=auth.officer(org.foreign_supervisor))) == [
        org.foreign_person.supervisee.id]


def test_officer_reading_another_office_gets_the_same_404_as_a_missing_one(client, auth, org):
    headers = auth.officer(org.officer)
    other = error_of(client.get(f"{SUPERVISEES}/{org.sister_person.supervisee.id}", headers=headers), 404)
    missing = error_of(client.get(f"{SUPERVISEES}/987654", headers=headers), 404)
    assert other == missing
    assert other["code"] == "supervisee_not_found"


def test_supervisor_reads_any_office_of_the_bureau_but_not_another_bureau(client, auth, org):
    headers = auth.officer(org.supervisor)
    assert client.get(f"{SUPERVISEES}/{org.sister_person.supervisee.id}", headers=headers).status_code == 200
    response = client.get(f"{SUPERVISEES}/{org.foreign_person.supervisee.id}", headers=headers)
    assert error_of(response, 404)["code"] == "supervisee_not_found"


def test_officer_cannot_change_or_reset_someone_outside_their_office(app, client, auth, org):
    headers = auth.officer(org.officer)
    target = org.sister_person.supervisee.id
    patch = client.patch(f"{SUPERVISEES}/{target}", json={"level": "lenient"}, headers=headers)
    assert error_of(patch, 404)["code"] == "supervisee_not_found"
    reset = client.post(f"{SUPERVISEES}/{target}/device/reset", headers=headers)
    assert error_of(reset, 404)["code"] == "supervisee_not_found"
    (row,) = rows(app, Supervisee, Supervisee.id == target)
    assert row.level == "normal" and row.updated_at == org.sister_person.supervisee.updated_at


def test_national_id_lookup_stays_in_scope(client, auth, make, org):
    national_id = valid_national_id()
    person = make.supervisee(org.sister_office, org.sister_officer.officer, national_id=national_id)
    mine = client.post(f"{SUPERVISEES}/lookup", json={"national_id": national_id},
                       headers=auth.officer(org.officer))
    assert error_of(mine, 404)["code"] == "supervisee_not_found"
    theirs = client.post(f"{SUPERVISEES}/lookup", json={"national_id": national_id},
                         headers=auth.officer(org.sister_officer))
    assert theirs.status_code == 200 and theirs.get_json()["id"] == person.supervisee.id


@pytest.mark.parametrize("path", ["0", "abc", "-1", "99999999999999999999"])
def test_malformed_supervisee_ids_are_plain_404s(client, auth, org, path):
    response = client.get(f"{SUPERVISEES}/{path}", headers=auth.officer(org.officer))
    assert error_of(response, 404)["code"] == "not_found"


# --- listing --------------------------------------------------------------------------------

def test_list_filters_by_level_and_name(client, auth, make, org):
    make.supervisee(org.office, org.officer.officer, level="lenient", name="李娜")
    headers = auth.officer(org.officer)
    assert ids(client.get(f"{SUPERVISEES}?level=strict", headers=headers)) == [org.person.supervisee.id]
    found = client.get(f"{SUPERVISEES}", query_string={"q": "李"}, headers=headers)
    assert [p["name"] for p in found.get_json()["items"]] == ["李娜"]
    # % and _ are literal text in a name search, not wildcards
    assert ids(client.get(SUPERVISEES, query_string={"q": "%"}, headers=headers)) == []


def test_list_pages_with_an_opaque_cursor(client, auth, make, org):
    for _ in range(4):
        make.supervisee(org.office, org.officer.officer)
    headers = auth.officer(org.officer)
    seen, cursor = [], None
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(SUPERVISEES, query_string=query, headers=headers).get_json()
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)


def test_a_forged_cursor_is_a_validation_error(client, auth, org):
    response = client.get(SUPERVISEES, query_string={"cursor": "bm90LWEtY3Vyc29y"},
                          headers=auth.officer(org.officer))
    error = error_of(response, 422)
    assert error["code"] == "invalid_cursor"
    assert field_paths(error) == {"query.cursor"}


# --- enrolment ------------------------------------------------------------------------------

def test_officer_enrols_into_their_own_office(app, client, auth, org, clock):
    response = client.post(SUPERVISEES, json=enrolment(), headers=auth.officer(org.officer))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["office_id"] == org.office.id
    assert body["officer_id"] == org.officer.officer.id
    assert body["status"] == "active" and body["device_bound"] is False
    assert body["supervision_start"] == "2026-11-01"
    (row,) = rows(app, Supervisee, Supervisee.id == body["id"])
    assert row.phone == "13712345678" and row.created_at == clock()
    assert row.password_hash.startswith("$argon2id$")
    assert "first-password" not in row.password_hash


def test_enrolled_supervisee_can_log_in_with_the_initial_password(client, auth, org):
    client.post(SUPERVISEES, json=enrolment(), headers=auth.officer(org.officer))
    response = client.post(f"{API}/auth/supervisee/login", json={
        "phone": "13712345678", "password": "first-password", "device_id": "phone-1"})
    assert response.status_code == 200


def test_officer_cannot_enrol_into_another_office(app, client, auth, org):
    response = client.post(SUPERVISEES, json=enrolment(office_id=org.sister_office.id),
                           headers=auth.officer(org.officer))
    error = error_of(response, 422)
    assert field_paths(error) == {"office_id"}
    assert count(app, Supervisee, Supervisee.phone == "13712345678") == 0


def test_supervisor_enrols_into_a_named_office_of_their_bureau_only(app, client, auth, org):
    headers = auth.officer(org.supervisor)
    missing = client.post(SUPERVISEES, json=enrolment(officer_id=org.sister_officer.officer.id),
                          headers=headers)
    assert field_paths(error_of(missing, 422)) == {"office_id"}
    foreign = client.post(SUPERVISEES, json=enrolment(office_id=org.foreign_office.id,
                                                      officer_id=org.sister_officer.officer.id),
                          headers=headers)
    assert field_paths(error_of(foreign, 422)) == {"office_id"}
    ok = client.post(SUPERVISEES, json=enrolment(office_id=org.sister_office.id,
                                                 officer_id=org.sister_officer.officer.id),
                     headers=headers)
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["office_id"] == org.sister_office.id


def test_responsible_officer_must_belong_to_the_office(app, client, auth, org):
    response = client.post(SUPERVISEES, json=enrolment(officer_id=org.sister_officer.officer.id),
                           headers=auth.officer(org.officer))
    assert field_paths(error_of(response, 422)) == {"officer_id"}
    assert count(app, Supervisee, Supervisee.phone == "13712345678") == 0


def test_enrolling_the_same_national_id_twice_is_a_conflict(app, client, auth, org):
    headers = auth.officer(org.officer)
    national_id = valid_national_id()
    assert client.post(SUPERVISEES, json=enrolment(national_id=national_id), headers=headers).status_code == 201
    again = client.post(SUPERVISEES, json=enrolment(national_id=national_id.lower(), phone="13700000000"),
                        headers=headers)
    assert error_of(again, 409)["code"] == "duplicate_national_id"
    assert count(app, Supervisee, Supervisee.phone == "13700000000") == 0


def test_enrolling_a_phone_in_use_is_a_conflict(client, auth, org):
    response = client.post(SUPERVISEES, json=enrolment(phone=org.person.supervisee.phone),
                           headers=auth.officer(org.officer))
    assert error_of(response, 409)["code"] == "phone_taken"


def test_an_id_number_with_a_wrong_check_character_is_refused(client, auth, org):
    good = valid_national_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = client.post(SUPERVISEES, json=enrolment(national_id=bad), headers=auth.officer(org.officer))
    error = error_of(response, 422)
    assert field_paths(error) == {"national_id"}
    assert bad not in response.get_data(as_text=True)


def test_supervision_cannot_end_before_it_starts(client, auth, org):
    response = client.post(SUPERVISEES, json=enrolment(supervision_end="2026-10-01"),
                           headers=auth.officer(org.officer))
    assert error_of(response, 422)["code"] == "validation_error"


# --- changes ------------------------------------------------------------------------------

def test_officer_changes_level_and_phone(app, client, auth, org, clock):
    headers = auth.officer(org.officer)
    response = client.patch(f"{SUPERVISEES}/{org.person.supervisee.id}",
                            json={"level": "lenient", "phone": "13611112222"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["level"] == "lenient"
    (row,) = rows(app, Supervisee, Supervisee.id == org.person.supervisee.id)
    assert (row.level, row.phone, row.updated_at) == ("lenient", "13611112222", clock())


def test_a_patch_with_one_bad_field_changes_nothing(app, client, auth, org):
    response = client.patch(f"{SUPERVISEES}/{org.person.supervisee.id}",
                            json={"level": "lenient", "supervision_end": "yesterday"},
                            headers=auth.officer(org.officer))
    assert field_paths(error_of(response, 422)) == {"supervision_end"}
    (row,) = rows(app, Supervisee, Supervisee.id == org.person.supervisee.id)
    assert row.level == "strict"


def test_supervision_end_cannot_move_before_the_start(app, client, auth, org):
    response = client.patch(f"{SUPERVISEES}/{org.person.supervisee.id}",
                            json={"supervision_end": "2025-01-01"}, headers=auth.officer(org.officer))
    assert field_paths(error_of(response, 422)) == {"supervision_end"}
    (row,) = rows(app, Supervisee, Supervisee.id == org.person.supervisee.id)
    assert row.supervision_end == date(2027, 12, 31)


def test_changing_to_a_phone_in_use_is_a_conflict_and_changes_nothing(app, client, auth, make, org):
    other = make.supervisee(org.office, org.officer.officer)
    response = client.patch(f"{SUPERVISEES}/{org.person.supervisee.id}",
                            json={"phone": other.supervisee.phone, "level": "lenient"},
                            headers=auth.officer(org.officer))
    assert error_of(response, 409)["code"] == "phone_taken"
    (row,) = rows(app, Supervisee, Supervisee.id == org.person.supervisee.id)
    assert (row.phone, row.level) == (org.person.supervisee.phone, "strict")


def test_ending_supervision_ends_the_phone_session(client, auth, org):
    phone = auth.supervisee(org.person)
    response = client.patch(f"{SUPERVISEES}/{org.person.supervisee.id}", json={"status": "ended"},
                            headers=auth.officer(org.officer))
    assert response.status_code == 200 and response.get_json()["status"] == "ended"
    assert client.get(f"{API}/me", headers=phone).status_code == 401


# --- the national ID number -----------------------------------------------------------------

def test_national_id_is_stored_only_as_a_keyed_hash_and_the_last_four(app, client, auth, org):
    national_id = valid_national_id()
    body = client.post(SUPERVISEES, json=enrolment(national_id=national_id),
                       headers=auth.officer(org.officer)).get_json()
    assert body["national_id_masked"] == "*" * 14 + national_id[-4:]
    assert "national_id" not in body
    with app.app_context():
        row = db.session.execute(sa.text("SELECT * FROM supervisees WHERE id = :id"),
                                 {"id": body["id"]}).mappings().one()
    assert row["national_id_last4"] == national_id[-4:]
    assert not any(national_id in str(value) for value in row.values())


class RawMessages(logging.Handler):
    """Keeps each record's message as it was emitted, before the redacting filter masks it.

    The filter rewrites records in place, so what caplog holds afterwards is already masked;
    this handler runs first and copies the text, to show the code itself logs no ID number.
    """

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()} {record.exc_text or ''}")


def test_no_response_and_no_log_record_ever_holds_a_full_national_id(app, client, auth, org, caplog,
                                                                     monkeypatch):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQL and its parameters too
    raw = RawMessages()
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [raw, *root.handlers])
    national_id = valid_national_id()
    headers = auth.officer(org.officer)
    supervisor = auth.officer(org.supervisor)
    bodies = []

    created = client.post(SUPERVISEES, json=enrolment(national_id=national_id), headers=headers)
    assert created.status_code == 201
    person_id = created.get_json()["id"]
    looked_up = client.post(f"{SUPERVISEES}/lookup", json={"national_id": national_id}, headers=headers)
    assert looked_up.status_code == 200 and looked_up.get_json()["id"] == person_id
    lower_x = client.post(f"{SUPERVISEES}/lookup", json={"national_id": national_id.lower()},
                          headers=headers)
    assert lower_x.status_code == 200
    for response in (
        created, looked_up, lower_x,
        client.post(SUPERVISEES, json=enrolment(national_id=national_id, phone="13700000001"),
                    headers=headers),  # the duplicate
        client.post(SUPERVISEES, json=enrolment(national_id=national_id[:17] + "Z"), headers=headers),
        client.post(f"{SUPERVISEES}/lookup", json={"national_id": national_id, "extra": 1}, headers=headers),
        client.get(f"{SUPERVISEES}/{person_id}", headers=headers),
        client.get(SUPERVISEES, headers=headers),
        client.get(f"{API}/audit", query_string={"limit": 200}, headers=supervisor),
    ):
        assert response.status_code < 500
        bodies.append(response.get_data(as_text=True))

    assert caplog.records and raw.messages, "the capture saw nothing: the test would prove nothing"
    for text in bodies:
        assert national_id not in text and national_id.lower() not in text
    for message in raw.messages + [r.getMessage() for r in caplog.records]:
        assert national_id not in message and national_id.lower() not in message, message
    for entry in rows(app, AuditEntry):
        assert national_id not in json.dumps(entry.details) + str(entry.actor_label)


def test_an_id_number_that_slips_into_a_log_message_is_masked(app, caplog):
    national_id = valid_national_id()
    caplog.set_level(logging.INFO)
    logging.getLogger("correction.somewhere").warning("looked up %s for %s", national_id, "x")
    (record,) = [r for r in caplog.records if r.name == "correction.somewhere"]
    assert record.getMessage() == f"looked up {'*' * 14}{national_id[-4:]} for x"


# --- reads are on the record ---------------------------------------------------------------

def test_reading_a_supervisee_is_audited_with_the_request_id(app, client, auth, org):
    headers = auth.officer(org.officer) | {"X-Request-ID": "req-read-1"}
    response = client.get(f"{SUPERVISEES}/{org.person.supervisee.id}", headers=headers)
    assert response.headers["X-Request-ID"] == "req-read-1"
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "supervisee.read")
    assert (entry.actor_type, entry.actor_id, entry.target_type, entry.target_id, entry.outcome,
            entry.request_id) == ("officer", org.officer.officer.id, "supervisee",
                                  org.person.supervisee.id, "ok", "req-read-1")
