"""Imported supervisees have no usable password; an officer issues one (shown once, to be changed)."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from correction.audit.models import AuditEntry
from correction.auth.models import LoginFailure
from correction.database import db
from correction.people.models import Supervisee
from correction.security import UNUSABLE_PASSWORD, verify_password
from tests.assertions import count, error_of, rows
from tests.factories import API

NEW = "a-better-password-2026"


@pytest.fixture
def org(make):
    return make.org(logins=True)


def imported(app, login):
    """Make ``login``'s supervisee look as an import leaves them: no usable password, change required."""
    with app.app_context():
        db.session.execute(sa.update(Supervisee).where(Supervisee.id == login.supervisee.id)
                           .values(password_hash=UNUSABLE_PASSWORD, password_change_required=True))
        db.session.commit()
    return login


def issue(client, headers, supervisee_id):
    return client.post(f"{API}/supervisees/{supervisee_id}/initial-password", headers=headers)


@pytest.mark.parametrize("attempt", [UNUSABLE_PASSWORD, "!", "unusable", "phone-password-1"])
def test_an_imported_supervisee_cannot_log_in_and_is_answered_as_a_wrong_password(app, auth, org, attempt):
    wrong = error_of(auth.supervisee_login(org.sister_person, password="not-the-password"), 401)
    person = imported(app, org.person)

    answer = error_of(auth.supervisee_login(person, password=attempt), 401)

    assert answer == wrong
    assert count(app, LoginFailure) == 2  # counted like the wrong password: one pair each


def test_the_unusable_marker_spends_a_real_verification():
    checked = []

    class Spy(PasswordHasher):
        def verify(self, stored, password):
            checked.append(stored)
            return super().verify(stored, password)

    hasher = Spy(time_cost=1, memory_cost=1024, parallelism=1)

    assert verify_password(hasher, UNUSABLE_PASSWORD, UNUSABLE_PASSWORD) is False
    assert len(checked) == 1 and checked[0].startswith("$argon2")  # as long as a wrong password takes


def test_an_issued_password_logs_in_once_and_must_be_changed_first(app, client, auth, org):
    person = imported(app, org.person)

    response = issue(client, org.headers, person.supervisee.id)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["supervisee_id"], body["password_change_required"]) == (person.supervisee.id, True)
    password = body["initial_password"]
    assert len(password) == 12
    login = auth.supervisee_login(person, password=password)
    assert login.status_code == 200 and login.get_json()["supervisee"]["password_change_required"] is True
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    assert error_of(client.get(f"{API}/me/schedule", headers=headers), 403)["code"] == "password_change_required"
    assert client.post(f"{API}/auth/password", headers=headers,
                       json={"current_password": password, "new_password": NEW}).status_code == 204
    assert client.get(f"{API}/me/schedule", headers=headers).status_code == 200


def test_issuing_a_password_ends_the_supervisees_sessions_and_the_old_password(app, client, auth, org):
    phone = auth.supervisee(org.person)
    assert client.get(f"{API}/me", headers=phone).status_code == 200

    body = issue(client, org.headers, org.person.supervisee.id).get_json()

    assert body["sessions_ended"] == 1
    assert error_of(client.get(f"{API}/me", headers=phone), 401)["code"] == "token_invalid"
    assert error_of(auth.supervisee_login(org.person), 401)["code"] == "invalid_credentials"
    assert auth.supervisee_login(org.person, password=body["initial_password"]).status_code == 200


def test_each_issue_gives_a_new_password(client, org):
    first = issue(client, org.headers, org.person.supervisee.id).get_json()["initial_password"]
    second = issue(client, org.headers, org.person.supervisee.id).get_json()["initial_password"]

    assert first != second


def test_the_password_is_never_in_the_audit_trail_or_the_log(app, client, org, caplog):
    caplog.set_level(logging.DEBUG)

    password = issue(client, org.headers, org.person.supervisee.id).get_json()["initial_password"]

    [entry] = rows(app, AuditEntry, AuditEntry.action == "supervisee.initial_password")
    assert (entry.outcome, entry.target_type, entry.target_id, entry.details) == (
        "ok", "supervisee", org.person.supervisee.id, {"sessions_ended": 0})
    assert password not in caplog.text


def test_only_officers_in_scope_may_issue_a_password(app, client, auth, org):
    sister = auth.officer(org.sister_officer)
    foreign = auth.officer(org.foreign_supervisor)
    before = rows(app, Supervisee, Supervisee.id == org.person.supervisee.id)[0].password_hash

    assert error_of(issue(client, sister, org.person.supervisee.id), 404)["code"] == "supervisee_not_found"
    assert error_of(issue(client, foreign, org.person.supervisee.id), 404)["code"] == "supervisee_not_found"
    assert error_of(issue(client, auth.supervisee(org.person), org.person.supervisee.id), 403)["code"] == "forbidden"
    assert rows(app, Supervisee, Supervisee.id == org.person.supervisee.id)[0].password_hash == before
    assert issue(client, org.supervisor_headers, org.person.supervisee.id).status_code == 200
