"""An officer's TOTP enrolment at first login: a limited session, the secret shown until enrolled, a valid code."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp

from correction.audit.models import AuditEntry
from correction.auth.models import LoginFailure
from tests.assertions import decode_png, error_of, rows
from tests.factories import API

ENROLMENT = f"{API}/auth/totp/enrolment"
PASSWORD = "a-long-first-password"


def created_officer(client, make, auth) -> tuple[dict, dict]:
    """An officer an admin just created through the API; (the officer as answered, the admin's headers)."""
    office = make.office()
    admin = auth.officer(make.officer(role="admin", bureau_id=office.bureau_id))
    response = client.post(f"{API}/admin/officers", headers=admin, json={
        "username": "wc-first-login", "name": "新人", "role": "officer", "office_id": office.id,
        "initial_password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return response.get_json(), admin


def password_login(client, password: str = PASSWORD, totp: str | None = None):
    body = {"username": "wc-first-login", "password": password}
    if totp is not None:
        body["totp"] = totp
    return client.post(f"{API}/auth/officer/login", json=body)


def bearer(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_first_login_changes_the_password_enrols_the_totp_and_then_needs_it(client, app, make, auth, clock):
    created_officer(client, make, auth)
    login = password_login(client)
    officer = login.get_json()["officer"]
    assert (officer["password_change_required"], officer["totp_enrolment_required"]) == (True, True)
    headers = bearer(login)
    assert error_of(client.get(f"{API}/supervisees", headers=headers), 403)["code"] == "password_change_required"
    changed = client.post(f"{API}/auth/password", headers=headers,
                          json={"current_password": PASSWORD, "new_password": "my-own-pass-2026"})
    assert changed.status_code == 204
    for path in ("/supervisees", "/me", "/alerts"):
        assert error_of(client.get(API + path, headers=headers), 403)["code"] == "totp_enrolment_required", path

    pending = client.get(ENROLMENT, headers=headers)
    assert pending.status_code == 200 and pending.headers["Cache-Control"] == "no-store"
    body = pending.get_json()
    uri = urlparse(body["provisioning_uri"])
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/correction:wc-first-login")
    assert parse_qs(uri.query)["secret"] == [body["secret"]] and parse_qs(uri.query)["issuer"] == ["correction"]
    png = client.get(f"{ENROLMENT}.png", headers=headers)
    assert png.mimetype == "image/png" and decode_png(png.data) == body["provisioning_uri"]

    code = pyotp.TOTP(body["secret"]).at(clock())
    assert client.post(ENROLMENT, headers=headers, json={"code": code}).status_code == 204
    assert client.get(f"{API}/supervisees", headers=headers).status_code == 200
    # the secret is never shown again
    assert error_of(client.get(ENROLMENT, headers=headers), 409)["code"] == "totp_already_enrolled"
    assert error_of(client.get(f"{ENROLMENT}.png", headers=headers), 409)["code"] == "totp_already_enrolled"
    entries = rows(app, AuditEntry, AuditEntry.action.like("auth.totp_enrolment%"))
    assert [(e.action, e.outcome) for e in entries][:3] == [
        ("auth.totp_enrolment_read", "ok"), ("auth.totp_enrolment_read", "ok"), ("auth.totp_enrolment", "ok")]
    assert all(body["secret"] not in str(e.details) for e in entries)

    # from now on the password alone is not enough, and the enrolment code cannot be replayed
    assert error_of(password_login(client, "my-own-pass-2026"), 401)["code"] == "invalid_credentials"
    assert error_of(password_login(client, "my-own-pass-2026", code), 401)["code"] == "invalid_credentials"
    clock.advance(seconds=30)
    later = password_login(client, "my-own-pass-2026", pyotp.TOTP(body["secret"]).at(clock()))
    assert later.get_json()["officer"]["totp_enrolment_required"] is False
    assert client.get(f"{API}/supervisees", headers=bearer(later)).status_code == 200


def test_a_wrong_enrolment_code_names_the_field_and_counts_as_a_failed_login(client, app, make, auth, clock):
    created_officer(client, make, auth)
    headers = bearer(password_login(client))
    secret = client.get(ENROLMENT, headers=headers).get_json()["secret"]
    right = pyotp.TOTP(secret).at(clock())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    error = error_of(client.post(ENROLMENT, headers=headers, json={"code": wrong}), 422)
    assert error["code"] == "totp_code_invalid" and [f["path"] for f in error["details"]["fields"]] == ["code"]
    (failure,) = rows(app, LoginFailure, LoginFailure.account_kind == "officer")
    assert failure.failures == 1
    malformed = error_of(client.post(ENROLMENT, headers=headers, json={"code": "12ab56"}), 422)
    assert [f["path"] for f in malformed["details"]["fields"]] == ["code"]
    for _ in range(4):
        client.post(ENROLMENT, headers=headers, json={"code": wrong})
    # five in a row lock this client out, the right code included
    assert error_of(client.post(ENROLMENT, headers=headers, json={"code": right}), 423)["code"] == "account_locked"
    assert error_of(client.get(f"{API}/me", headers=headers), 403)["code"] == "password_change_required"


def test_an_enrolled_officer_has_no_secret_to_show(client, auth, officer):
    headers = auth.officer(officer)
    assert error_of(client.get(ENROLMENT, headers=headers), 409)["code"] == "totp_already_enrolled"
    assert error_of(client.post(ENROLMENT, headers=headers, json={"code": "123456"}), 409)["code"] \
        == "totp_already_enrolled"
    assert client.get(f"{API}/me", headers=headers).get_json()["officer"]["totp_enrolment_required"] is False


def test_supervisees_have_no_totp_enrolment(client, auth, person):
    phone = auth.supervisee(person)
    assert error_of(client.get(ENROLMENT, headers=phone), 403)["code"] == "forbidden"
    assert error_of(client.get(ENROLMENT), 401)["code"] == "unauthorized"
