"""Officers: an admin creates them, changes role and office, (de)activates, resets password or TOTP."""
from __future__ import annotations

import pyotp

from correction.audit.models import AuditEntry
from correction.auth.models import AuthToken
from correction.people.models import Officer
from tests.admin.conftest import ADMIN
from tests.assertions import count, error_of, field_paths, rows
from tests.factories import API, OfficerLogin


def audit_of(app, action: str) -> AuditEntry:
    (entry,) = rows(app, AuditEntry, AuditEntry.action == action)
    return entry


def new_officer(client, bureau, **overrides):
    body = {"username": "wc-new-officer", "name": "新专干", "role": "officer", "office_id": bureau.org.office.id,
            "initial_password": "a-long-first-password"}
    body.update(overrides)
    return client.post(f"{ADMIN}/officers", headers=bureau.headers, json=body)


def test_admin_creates_an_officer_who_must_change_the_password_and_enrol_a_totp(client, app, bureau):
    response = new_officer(client, bureau)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {"id": body["id"], "username": "wc-new-officer", "name": "新专干", "role": "officer",
                    "bureau_id": bureau.org.bureau.id, "office_id": bureau.org.office.id, "active": True,
                    "password_change_required": True, "totp_enrolment_required": True,
                    "created_at": "2026-11-25T02:00:30Z"}
    entry = audit_of(app, "officer.create")
    assert entry.target_id == body["id"]
    assert entry.details["after"]["role"] == "officer" and entry.details["before"] == {}
    (row,) = rows(app, Officer, Officer.id == body["id"])
    for secret in (row.password_hash, row.totp_secret, "a-long-first-password"):
        assert secret not in str(entry.details) and secret not in response.get_data(as_text=True)


def test_a_new_officer_needs_a_good_password_a_free_username_and_an_office(client, bureau):
    weak = new_officer(client, bureau, initial_password="password123")
    assert error_of(weak, 422)["details"]["fields"][0] == {
        "path": "initial_password", "code": "too_common",
        "message": "This password is among the most common ones; choose another."}
    named = new_officer(client, bureau, initial_password="wc-new-officer-2026")
    assert error_of(named, 422)["details"]["fields"][0]["code"] == "contains_identifier"
    taken = new_officer(client, bureau, username=bureau.org.foreign_officer.officer.username)
    assert error_of(taken, 409)["code"] == "username_taken"
    homeless = new_officer(client, bureau, office_id=None)
    assert field_paths(error_of(homeless, 422)) == {"office_id"}
    foreign = new_officer(client, bureau, office_id=bureau.org.foreign_office.id)
    assert field_paths(error_of(foreign, 422)) == {"office_id"}
    assert new_officer(client, bureau, role="supervisor", office_id=None).status_code == 201


def test_changing_role_and_office_is_audited_and_takes_effect_at_once(client, app, make, auth, bureau):
    login = make.officer(bureau.org.sister_office)  # nobody in their care
    headers = auth.officer(login)
    assert client.get(f"{API}/supervisees/{bureau.org.person.supervisee.id}", headers=headers).status_code == 404
    response = client.patch(f"{ADMIN}/officers/{login.officer.id}", headers=bureau.headers,
                            json={"role": "supervisor", "office_id": None})
    assert response.status_code == 200, response.get_json()
    assert audit_of(app, "officer.update").details == {
        "before": {"role": "officer", "office_id": bureau.org.sister_office.id},
        "after": {"role": "supervisor", "office_id": None}}
    # the same session now sees the bureau
    assert client.get(f"{API}/supervisees/{bureau.org.person.supervisee.id}", headers=headers).status_code == 200
    back = client.patch(f"{ADMIN}/officers/{login.officer.id}", headers=bureau.headers, json={"role": "officer"})
    assert field_paths(error_of(back, 422)) == {"office_id"}


def test_an_officer_with_supervisees_in_their_care_keeps_their_office(client, bureau):
    moved = client.patch(f"{ADMIN}/officers/{bureau.org.officer.officer.id}", headers=bureau.headers,
                         json={"office_id": bureau.org.sister_office.id})
    error = error_of(moved, 409)
    assert error["code"] == "officer_has_supervisees" and error["details"] == {"active_supervisees": 1}


def test_deactivation_ends_a_live_session_at_once_and_reactivation_lets_them_in(client, app, auth, bureau):
    headers = auth.officer(bureau.org.officer)
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    response = client.post(f"{ADMIN}/officers/{bureau.org.officer.officer.id}/deactivate", headers=bureau.headers)
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert error_of(client.get(f"{API}/me", headers=headers), 401)["code"] == "token_invalid"
    assert count(app, AuthToken, AuthToken.officer_id == bureau.org.officer.officer.id,
                 AuthToken.revoked_at.is_(None)) == 0
    assert audit_of(app, "officer.deactivate").details == {
        "before": {"active": True}, "after": {"active": False}, "sessions_ended": 1}
    assert error_of(auth.officer_login(bureau.org.officer), 401)["code"] == "invalid_credentials"
    again = client.post(f"{ADMIN}/officers/{bureau.org.officer.officer.id}/reactivate", headers=bureau.headers)
    assert again.status_code == 200 and again.get_json()["active"] is True
    assert auth.officer_login(bureau.org.officer).status_code == 200


def test_the_last_active_admin_can_neither_leave_nor_step_down(client, app, make, auth, bureau):
    me = bureau.admin.officer.id
    for response in (client.post(f"{ADMIN}/officers/{me}/deactivate", headers=bureau.headers),
                     client.patch(f"{ADMIN}/officers/{me}", headers=bureau.headers, json={"role": "supervisor"})):
        assert error_of(response, 409)["code"] == "last_admin"
    assert rows(app, Officer, Officer.id == me)[0].role == "admin"
    make.officer(role="admin", bureau_id=bureau.org.bureau.id)  # a second admin: now one may go
    stepped_down = client.patch(f"{ADMIN}/officers/{me}", headers=bureau.headers, json={"role": "supervisor"})
    assert stepped_down.status_code == 200
    # the former admin's session is a supervisor's now: the admin endpoints are gone for it
    assert error_of(client.get(f"{ADMIN}/officers", headers=bureau.headers), 404)["code"] == "not_found"


def test_a_password_reset_ends_sessions_and_forces_a_change(client, app, auth, bureau, clock):
    login = bureau.org.officer
    headers = auth.officer(login)
    response = client.post(f"{ADMIN}/officers/{login.officer.id}/password-reset", headers=bureau.headers,
                           json={"temporary_password": "temporary-pass-2026"})
    assert response.status_code == 200 and response.get_json()["password_change_required"] is True
    assert error_of(client.get(f"{API}/me", headers=headers), 401)["code"] == "token_invalid"
    entry = audit_of(app, "officer.password_reset")
    assert entry.details == {"before": {"password_change_required": False},
                             "after": {"password_change_required": True},
                             "password_reset": True, "sessions_ended": 1}
    assert "temporary-pass-2026" not in str(entry.details)
    assert auth.officer_login(login).status_code == 401  # the old password is gone
    fresh = auth.officer(OfficerLogin(login.officer, "temporary-pass-2026", login.totp_secret))
    assert error_of(client.get(f"{API}/supervisees", headers=fresh), 403)["code"] == "password_change_required"
    changed = client.post(f"{API}/auth/password", headers=fresh, json={
        "current_password": "temporary-pass-2026", "new_password": "my-own-pass-2026"})
    assert changed.status_code == 204
    assert client.get(f"{API}/supervisees", headers=fresh).status_code == 200


def test_a_totp_reset_ends_sessions_and_the_next_login_must_enrol_again(client, app, auth, bureau, clock):
    login = bureau.org.officer
    headers = auth.officer(login)
    response = client.post(f"{ADMIN}/officers/{login.officer.id}/totp-reset", headers=bureau.headers)
    assert response.status_code == 200 and response.get_json()["totp_enrolment_required"] is True
    assert error_of(client.get(f"{API}/me", headers=headers), 401)["code"] == "token_invalid"
    entry = audit_of(app, "officer.totp_reset")
    assert entry.details == {"before": {"totp_enrolment_required": False},
                             "after": {"totp_enrolment_required": True}, "totp_reset": True, "sessions_ended": 1}
    (row,) = rows(app, Officer, Officer.id == login.officer.id)
    assert row.totp_secret != login.totp_secret and row.totp_secret not in str(entry.details)
    # the old authenticator's code no longer matters: the password alone opens an enrolment session
    session = client.post(f"{API}/auth/officer/login", json={"username": login.officer.username,
                                                             "password": login.password})
    assert session.status_code == 200 and session.get_json()["officer"]["totp_enrolment_required"] is True
    limited = {"Authorization": f"Bearer {session.get_json()['token']}"}
    assert error_of(client.get(f"{API}/supervisees", headers=limited), 403)["code"] == "totp_enrolment_required"
    enrol = client.get(f"{API}/auth/totp/enrolment", headers=limited).get_json()
    assert enrol["secret"] == row.totp_secret
    code = pyotp.TOTP(row.totp_secret).at(clock())
    assert client.post(f"{API}/auth/totp/enrolment", headers=limited, json={"code": code}).status_code == 204
    assert client.get(f"{API}/supervisees", headers=limited).status_code == 200


def test_another_bureaus_officer_is_not_found_and_not_listed(client, app, bureau):
    foreign = bureau.org.foreign_officer.officer
    for response in (
            client.patch(f"{ADMIN}/officers/{foreign.id}", headers=bureau.headers, json={"name": "x"}),
            client.post(f"{ADMIN}/officers/{foreign.id}/deactivate", headers=bureau.headers),
            client.post(f"{ADMIN}/officers/{foreign.id}/reactivate", headers=bureau.headers),
            client.post(f"{ADMIN}/officers/{foreign.id}/password-reset", headers=bureau.headers,
                        json={"temporary_password": "temporary-pass-2026"}),
            client.post(f"{ADMIN}/officers/{foreign.id}/totp-reset", headers=bureau.headers)):
        assert error_of(response, 404)["code"] == "officer_not_found"
    (row,) = rows(app, Officer, Officer.id == foreign.id)
    assert (row.active, row.password_change_required, row.totp_enrolled_at is not None) == (True, False, True)
    listed = client.get(f"{ADMIN}/officers?limit=200", headers=bureau.headers).get_json()["items"]
    assert foreign.id not in {o["id"] for o in listed}
    assert {o["id"] for o in listed} == {bureau.org.officer.officer.id, bureau.org.sister_officer.officer.id,
                                         bureau.org.supervisor.officer.id, bureau.admin.officer.id}
    supervisors = client.get(f"{ADMIN}/officers?role=supervisor", headers=bureau.headers).get_json()["items"]
    assert [o["id"] for o in supervisors] == [bureau.org.supervisor.officer.id]
