"""Passwords: changed by their holder, forced to change when someone else chose them, never common.

``POST /auth/password`` takes the current and the new password and ends the account's other
sessions. A supervisee enrolled with an officer's initial password may, until they change it, only
change it or log out. A new password is at least 8 characters, not among the 30,000 most common,
and does not contain the phone number or username.
"""
from __future__ import annotations

import pytest

from correction.audit.models import AuditEntry
from correction.auth.models import AuthToken, LoginFailure
from correction.passwords import common_passwords
from correction.people.models import Supervisee
from tests.factories import API, valid_national_id
from tests.assertions import count, error_of, rows

PASSWORD = f"{API}/auth/password"
NEW = "correct-horse-battery"


@pytest.fixture
def person(make, office, officer):
    return make.supervisee(office, officer.officer, phone="13812345678")


def change(client, headers, current, new):
    return client.post(PASSWORD, json={"current_password": current, "new_password": new}, headers=headers)


def refusal(response) -> tuple[str, str]:
    (field,) = error_of(response, 422)["details"]["fields"]
    return field["path"], field["code"]


def test_a_supervisee_changes_their_password_and_their_other_sessions_end(app, client, auth, person):
    other_session = auth.supervisee(person)
    this_session = auth.supervisee(person)
    assert change(client, this_session, person.password, NEW).status_code == 204
    assert client.get(f"{API}/me", headers=this_session).status_code == 200
    assert error_of(client.get(f"{API}/me", headers=other_session), 401)["code"] == "token_invalid"
    assert error_of(auth.supervisee_login(person), 401)["code"] == "invalid_credentials"
    assert auth.supervisee_login(person, password=NEW).status_code == 200
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "auth.password_change")
    assert (entry.actor_id, entry.outcome) == (person.supervisee.id, "ok")


def test_an_officer_changes_their_password(client, auth, officer, clock):
    headers = auth.officer(officer)
    assert change(client, headers, officer.password, NEW).status_code == 204
    assert auth.officer_login(officer).status_code == 401
    clock.advance(seconds=30)
    assert auth.officer_login(officer, password=NEW).status_code == 200


def test_a_wrong_current_password_changes_nothing_and_counts_towards_the_lock(app, client, auth, person):
    headers = auth.supervisee(person)
    before = rows(app, Supervisee, Supervisee.id == person.supervisee.id)[0].password_hash
    for _ in range(5):
        assert refusal(change(client, headers, "not-my-password", NEW)) == ("current_password", "incorrect")
    assert error_of(change(client, headers, person.password, NEW), 423)["code"] == "account_locked"
    assert rows(app, Supervisee, Supervisee.id == person.supervisee.id)[0].password_hash == before
    assert count(app, LoginFailure, LoginFailure.locked_until.is_not(None)) == 1
    assert count(app, AuthToken, AuthToken.revoked_at.is_not(None)) == 0


@pytest.mark.parametrize("new, code", [
    ("short1!", "too_short"),
    ("password1", "too_common"),
    ("Iloveyou1", "too_common"),  # compared without regard to case
    ("qwertyuiop", "too_common"),
    ("my13812345678pw", "contains_identifier"),
    ("x+8613812345678", "contains_identifier"),
])
def test_weak_new_passwords_are_refused(app, client, auth, person, new, code):
    headers = auth.supervisee(person)
    before = rows(app, Supervisee, Supervisee.id == person.supervisee.id)[0].password_hash
    assert refusal(change(client, headers, person.password, new)) == ("new_password", code)
    assert rows(app, Supervisee, Supervisee.id == person.supervisee.id)[0].password_hash == before


def test_an_officers_new_password_may_not_contain_the_username(client, auth, officer):
    new = f"{officer.officer.username.upper()}-2026!"
    response = change(client, auth.officer(officer), officer.password, new)
    assert refusal(response) == ("new_password", "contains_identifier")


def test_the_new_password_must_differ_from_the_current_one(client, auth, person):
    response = change(client, auth.supervisee(person), person.password, person.password)
    assert refusal(response) == ("new_password", "same_as_current")


def test_the_common_password_list_ships_with_the_code():
    common = common_passwords()
    assert len(common) == 30_000
    assert {"123456", "password", "iloveyou", "1qaz2wsx"} <= common


# --- a password someone else chose -------------------------------------------------------------

def enrol(client, headers, **overrides):
    body = {"name": "张三", "phone": "13712345678", "national_id": valid_national_id(),
            "initial_password": "first-password", "sentence_type": "probation",
            "supervision_start": "2026-11-01", "supervision_end": "2027-10-31", "level": "normal"}
    body.update(overrides)
    return client.post(f"{API}/supervisees", json=body, headers=headers)


def login_enrolled(client, password="first-password"):
    return client.post(f"{API}/auth/supervisee/login", json={
        "phone": "13712345678", "password": password, "device_id": "phone-1"})


def test_an_enrolled_supervisee_must_change_the_initial_password_first(client, auth, officer):
    assert enrol(client, auth.officer(officer)).status_code == 201
    login = login_enrolled(client)
    assert login.status_code == 200
    assert login.get_json()["supervisee"]["password_change_required"] is True
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    for method, path in (("GET", "/me"), ("GET", "/me/schedule"), ("GET", "/me/points"),
                         ("POST", "/me/ingest-key"), ("GET", "/me/notifications")):
        response = client.open(f"{API}{path}", method=method, headers=headers)
        assert error_of(response, 403)["code"] == "password_change_required", path
    assert change(client, headers, "first-password", NEW).status_code == 204
    me = client.get(f"{API}/me", headers=headers)
    assert me.status_code == 200 and me.get_json()["supervisee"]["password_change_required"] is False
    assert client.get(f"{API}/me/schedule", headers=headers).status_code == 200


def test_logout_is_allowed_before_the_change(client, auth, officer):
    enrol(client, auth.officer(officer))
    headers = {"Authorization": f"Bearer {login_enrolled(client).get_json()['token']}"}
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204


def test_officers_see_whether_the_initial_password_was_changed(client, auth, officer):
    headers = auth.officer(officer)
    created = enrol(client, headers).get_json()
    assert created["password_change_required"] is True


@pytest.mark.parametrize("initial, code", [("12345678", "too_common"), ("pw13712345678", "contains_identifier"),
                                           ("password", "too_common")])
def test_enrolment_refuses_a_weak_initial_password(app, client, auth, officer, initial, code):
    response = enrol(client, auth.officer(officer), initial_password=initial)
    assert refusal(response) == ("initial_password", code)
    assert count(app, Supervisee, Supervisee.phone == "13712345678") == 0
