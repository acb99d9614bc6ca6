"""Logins, tokens, lockout and rate limits: who gets in, for how long, and what is kept.

Officers log in with a password and a TOTP code (a code works once); supervisees with phone,
password and device id (the first login binds the phone). Tokens are opaque, stored hashed,
expire, die after 30 idle minutes for officers, and logout revokes them.
"""
from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.audit.models import AuditEntry
from correction.auth.models import AuthToken, LoginFailure
from correction.database import db
from correction.people.models import Device, Officer, Supervisee
from correction.time import iso_z
from tests.assertions import count, error_of, field_paths, rows
from tests.factories import API

ME = f"{API}/me"
LOGOUT = f"{API}/auth/logout"


def bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


# --- officer login ---------------------------------------------------------------------------

def test_officer_logs_in_with_password_and_current_totp(client, auth, officer, clock):
    response = auth.officer_login(officer)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"token", "expires_at", "officer"}
    assert body["expires_at"] == iso_z(clock() + timedelta(hours=12))
    assert body["officer"]["id"] == officer.officer.id
    assert body["officer"]["username"] == officer.officer.username
    assert body["officer"]["role"] == "officer"
    assert "password_hash" not in body["officer"] and "totp_secret" not in body["officer"]
    me = client.get(ME, headers=bearer(response))
    assert me.status_code == 200
    assert me.get_json()["kind"] == "officer"
    assert me.get_json()["officer"]["id"] == officer.officer.id


def test_officer_login_without_totp_is_refused_once_enrolled(client, officer):
    # The password alone opens only a session to enrol a TOTP; an enrolled officer's is refused
    # like a wrong password, so the answer does not tell whether the password was right.
    response = client.post(f"{API}/auth/officer/login", json={
        "username": officer.officer.username, "password": officer.password})
    assert error_of(response, 401)["code"] == "invalid_credentials"


def test_officer_login_with_a_malformed_totp_is_a_validation_error(client, officer):
    response = client.post(f"{API}/auth/officer/login", json={
        "username": officer.officer.username, "password": officer.password, "totp": "12345"})
    error = error_of(response, 422)
    assert error["code"] == "validation_error"
    assert field_paths(error) == {"totp"}


def test_officer_login_with_right_password_and_wrong_totp_is_refused(auth, officer, clock):
    right = pyotp.TOTP(officer.totp_secret).at(clock())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert error_of(auth.officer_login(officer, totp=wrong), 401)["code"] == "invalid_credentials"


def test_officer_login_with_wrong_password_and_right_totp_is_refused(auth, officer):
    response = auth.officer_login(officer, password="not-the-password")
    assert error_of(response, 401)["code"] == "invalid_credentials"


def test_a_totp_code_cannot_be_used_twice(auth, officer):
    assert auth.officer_login(officer).status_code == 200
    replay = auth.officer_login(officer)  # same clock, same code
    assert error_of(replay, 401)["code"] == "invalid_credentials"


def test_totp_from_the_previous_step_is_accepted_but_not_from_two_steps_ago(auth, officer, clock):
    totp = pyotp.TOTP(officer.totp_secret)
    assert auth.officer_login(officer, totp=totp.at(clock() - timedelta(seconds=30))).status_code == 200
    clock.advance(minutes=5)
    stale = totp.at(clock() - timedelta(seconds=60))
    assert error_of(auth.officer_login(officer, totp=stale), 401)["code"] == "invalid_credentials"


def test_unknown_username_is_refused_like_a_wrong_password(client, auth, officer, clock):
    wrong_password = error_of(auth.officer_login(officer, password="nope-nope"), 401)
    clock.advance(seconds=30)
    unknown = error_of(client.post(f"{API}/auth/officer/login", json={
        "username": "nobody-here", "password": "whatever", "totp": "123456"}), 401)
    assert unknown == wrong_password


def test_a_deactivated_officer_cannot_log_in(app, auth, officer):
    with app.app_context():
        db.session.execute(sa.update(Officer).where(Officer.id == officer.officer.id).values(active=False))
        db.session.commit()
    assert error_of(auth.officer_login(officer), 401)["code"] == "invalid_credentials"


# --- lockout -------------------------------------------------------------------------------

def test_sixth_login_after_five_failures_is_locked_until_ten_minutes_pass(app, auth, officer, clock):
    for _ in range(5):
        assert error_of(auth.officer_login(officer, password="wrong-password"), 401)["code"] == \
            "invalid_credentials"
        clock.advance(seconds=1)
    locked = auth.officer_login(officer)  # even with the right password and code
    error = error_of(locked, 423)
    assert error["code"] == "account_locked"
    retry = error["details"]["retry_after_seconds"]
    assert 590 <= retry <= 601
    assert int(locked.headers["Retry-After"]) == retry

    clock.advance(minutes=9, seconds=50)
    assert error_of(auth.officer_login(officer), 423)["code"] == "account_locked"
    clock.advance(seconds=10)  # exactly ten minutes after the fifth failure
    assert auth.officer_login(officer).status_code == 200
    (row,) = rows(app, Officer, Officer.id == officer.officer.id)
    assert row.failed_logins == 0


def test_attempts_while_locked_do_not_extend_the_lock(app, auth, officer, clock):
    for _ in range(5):
        auth.officer_login(officer, password="wrong-password")
    (row,) = rows(app, LoginFailure)  # the lock is this client's on this account
    locked_until = row.locked_until
    assert locked_until == clock() + timedelta(minutes=10)
    clock.advance(minutes=5)
    for _ in range(3):
        assert auth.officer_login(officer, password="wrong-password").status_code == 423
    (row,) = rows(app, LoginFailure)
    assert row.locked_until == locked_until


def test_a_successful_login_resets_the_failure_count(app, auth, officer, clock):
    for _ in range(4):
        auth.officer_login(officer, password="wrong-password")
    assert auth.officer_login(officer).status_code == 200
    clock.advance(seconds=30)
    for _ in range(4):
        assert auth.officer_login(officer, password="wrong-password").status_code == 401
    assert auth.officer_login(officer).status_code == 200


def test_supervisee_is_locked_after_five_wrong_passwords(auth, person, clock):
    for _ in range(5):
        assert error_of(auth.supervisee_login(person, password="wrong-password"), 401)["code"] == \
            "invalid_credentials"
    assert error_of(auth.supervisee_login(person), 423)["code"] == "account_locked"
    clock.advance(minutes=10)
    assert auth.supervisee_login(person).status_code == 200


class TestLoginRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"LOGIN_RATE_LIMIT": "3 per minute"}

    def test_logins_beyond_the_limit_from_one_client_are_rate_limited(self, app, auth, officer, person):
        assert auth.officer_login(officer, password="wrong-password").status_code == 401
        assert auth.supervisee_login(person).status_code == 200
        assert auth.supervisee_login(person).status_code == 200
        refused = auth.officer_login(officer)
        error = error_of(refused, 429)
        assert error["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        assert error["details"]["retry_after_seconds"] >= 1
        assert error_of(auth.supervisee_login(person), 429)["code"] == "rate_limited"
        # a refused attempt is not a failed password: it must not count towards the lockout
        (row,) = rows(app, LoginFailure)
        assert row.failures == 1

    def test_the_limit_is_per_client(self, client, auth, officer, person):
        for _ in range(3):
            auth.supervisee_login(person)
        assert auth.supervisee_login(person).status_code == 429
        other = client.post(f"{API}/auth/supervisee/login", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                            json={"phone": person.supervisee.phone, "password": person.password,
                                  "device_id": person.device_id})
        assert other.status_code == 200


def _login_from(client, person, forwarded_for: str):
    return client.post(f"{API}/auth/supervisee/login", headers={"X-Forwarded-For": forwarded_for},
                       environ_base={"REMOTE_ADDR": "10.0.0.1"},  # the proxy
                       json={"phone": person.supervisee.phone, "password": person.password,
                             "device_id": person.device_id})


class TestBehindOneProxy:
    @pytest.fixture
    def settings_overrides(self):
        return {"LOGIN_RATE_LIMIT": "3 per minute", "TRUSTED_PROXIES": 1}

    def test_clients_behind_the_proxy_are_limited_each_on_their_own(self, client, person):
        for _ in range(3):
            assert _login_from(client, person, "203.0.113.7").status_code == 200
        assert _login_from(client, person, "203.0.113.7").status_code == 429
        assert _login_from(client, person, "198.51.100.4").status_code == 200

    def test_only_the_hop_the_proxy_added_counts(self, client, person):
        # a client that sends its own X-Forwarded-For gets the proxy's value appended: the last hop wins
        for spoofed in ("1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7", "3.3.3.3, 203.0.113.7"):
            assert _login_from(client, person, spoofed).status_code == 200
        assert _login_from(client, person, "4.4.4.4, 203.0.113.7").status_code == 429


class TestWithoutAProxy:
    @pytest.fixture
    def settings_overrides(self):
        return {"LOGIN_RATE_LIMIT": "3 per minute"}

    def test_a_forwarded_for_header_is_ignored(self, client, person):
        for n in range(3):
            assert _login_from(client, person, f"203.0.113.{n}").status_code == 200
        assert _login_from(client, person, "203.0.113.99").status_code == 429


# --- supervisee login and the bound device ---------------------------------------------------

def test_first_supervisee_login_binds_the_device(app, client, auth, person, clock):
    response = auth.supervisee_login(person)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"token", "expires_at", "supervisee"}
    assert body["expires_at"] == iso_z(clock() + timedelta(days=30))
    assert body["supervisee"]["id"] == person.supervisee.id
    assert body["supervisee"]["national_id_masked"] == "*" * 14 + person.supervisee.national_id_last4
    assert "password_hash" not in body["supervisee"]
    devices = rows(app, Device, Device.supervisee_id == person.supervisee.id)
    assert [(d.device_id, d.active, d.bound_at) for d in devices] == [(person.device_id, True, clock())]
    me = client.get(ME, headers=bearer(response)).get_json()
    assert me["kind"] == "supervisee" and me["supervisee"]["id"] == person.supervisee.id


def test_later_login_from_the_bound_device_is_accepted(app, auth, person, clock):
    assert auth.supervisee_login(person).status_code == 200
    clock.advance(days=2)
    assert auth.supervisee_login(person).status_code == 200
    assert count(app, Device, Device.supervisee_id == person.supervisee.id) == 1


def test_login_from_another_device_is_refused_and_alerts_the_officer(app, auth, person, clock):
    assert auth.supervisee_login(person).status_code == 200
    clock.advance(hours=1)
    refused = auth.supervisee_login(person, device_id="someone-elses-phone")
    assert error_of(refused, 403)["code"] == "device_not_bound"

    (alert,) = rows(app, Alert, Alert.supervisee_id == person.supervisee.id)
    (device,) = rows(app, Device, Device.supervisee_id == person.supervisee.id)
    assert alert.type == "device_changed"
    assert alert.status == "open"
    assert alert.office_id == person.supervisee.office_id
    assert alert.raised_at == clock()
    assert alert.evidence["attempted_device"] == "someone-elses-phone"
    assert alert.evidence["bound_device_id"] == device.id
    assert device.device_id == person.device_id and device.active
    # the refused login got no token
    assert count(app, AuthToken, AuthToken.supervisee_id == person.supervisee.id) == 1


def test_repeated_attempts_from_another_device_raise_one_alert(app, auth, person, clock):
    auth.supervisee_login(person)
    for n in range(3):
        clock.advance(minutes=5)
        assert auth.supervisee_login(person, device_id=f"other-phone-{n}").status_code == 403
    alerts = rows(app, Alert, Alert.supervisee_id == person.supervisee.id)
    assert [a.type for a in alerts] == ["device_changed"]


def test_wrong_password_from_another_device_raises_no_alert(app, auth, person):
    auth.supervisee_login(person)
    response = auth.supervisee_login(person, device_id="other-phone", password="wrong-password")
    assert error_of(response, 401)["code"] == "invalid_credentials"
    assert count(app, Alert, Alert.supervisee_id == person.supervisee.id) == 0


def test_unknown_phone_is_refused_like_a_wrong_password(client, auth, person):
    wrong = error_of(auth.supervisee_login(person, password="wrong-password"), 401)
    unknown = error_of(client.post(f"{API}/auth/supervisee/login", json={
        "phone": "13999999999", "password": person.password, "device_id": "x"}), 401)
    assert unknown == wrong


def test_a_supervisee_whose_supervision_ended_cannot_log_in(make, auth, office, officer):
    ended = make.supervisee(office, officer.officer, status="ended")
    assert error_of(auth.supervisee_login(ended), 403)["code"] == "supervision_ended"


def test_after_the_officer_resets_the_device_a_new_phone_can_bind(app, client, auth, person, officer):
    auth.supervisee_login(person)
    response = client.post(f"{API}/supervisees/{person.supervisee.id}/device/reset",
                           headers=auth.officer(officer))
    assert response.status_code == 200
    assert response.get_json()["device_bound"] is False
    assert auth.supervisee_login(person, device_id="new-phone").status_code == 200
    devices = rows(app, Device, Device.supervisee_id == person.supervisee.id)
    assert [(d.device_id, d.active) for d in devices] == [(person.device_id, False), ("new-phone", True)]
    assert auth.supervisee_login(person).status_code == 403  # the old phone is no longer bound


@pytest.mark.postgresql_only
@pytest.mark.parametrize("same_device", [False, True], ids=["two_phones", "one_phone_twice"])
def test_two_concurrent_first_logins_bind_exactly_one_device(app, person, same_device):
    devices = ["phone-a", "phone-a" if same_device else "phone-b"]
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def login(index: int) -> None:
        with app.app_context():
            client = app.test_client()
            barrier.wait(timeout=10)
            response = client.post(f"{API}/auth/supervisee/login", json={
                "phone": person.supervisee.phone, "password": person.password,
                "device_id": devices[index]})
            answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=login, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(a is not None for a in answers), answers

    bound = rows(app, Device, Device.supervisee_id == person.supervisee.id)
    assert len(bound) == 1 and bound[0].active
    tokens = count(app, AuthToken, AuthToken.supervisee_id == person.supervisee.id)
    statuses = sorted(status for status, _ in answers)
    if same_device:
        assert statuses == [200, 200], answers
        assert tokens == 2
    else:
        assert statuses == [200, 403], answers
        winner = next(i for i, (status, _) in enumerate(answers) if status == 200)
        loser_body = answers[1 - winner][1]
        assert loser_body["error"]["code"] == "device_not_bound"
        assert bound[0].device_id == devices[winner]
        assert tokens == 1
        alerts = rows(app, Alert, Alert.supervisee_id == person.supervisee.id)
        assert [a.type for a in alerts] == ["device_changed"]


@pytest.mark.postgresql_only
def test_two_concurrent_logins_with_one_totp_code_let_only_one_in(app, officer, clock):
    body = {"username": officer.officer.username, "password": officer.password,
            "totp": pyotp.TOTP(officer.totp_secret).at(clock())}
    barrier = threading.Barrier(2)
    statuses: list = [None, None]

    def login(index: int) -> None:
        with app.app_context():
            client = app.test_client()
            barrier.wait(timeout=10)
            statuses[index] = client.post(f"{API}/auth/officer/login", json=body).status_code

    threads = [threading.Thread(target=login, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 401], statuses
    assert count(app, AuthToken, AuthToken.officer_id == officer.officer.id) == 1


# --- tokens ---------------------------------------------------------------------------------

def test_tokens_are_stored_only_as_their_sha256(app, auth, officer, person):
    tokens = [auth.officer_login(officer).get_json()["token"],
              auth.supervisee_login(person).get_json()["token"]]
    stored = rows(app, AuthToken)
    assert sorted(t.token_hash for t in stored) == sorted(
        hashlib.sha256(t.encode()).hexdigest() for t in tokens)
    for row in stored:
        values = [str(getattr(row, c.key)) for c in AuthToken.__table__.columns]
        assert not any(token in value for token in tokens for value in values)


def test_request_without_a_token_is_unauthorized(client):
    response = client.get(ME)
    assert error_of(response, 401)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer ",
                                    "Bearer " + "x" * 500])
def test_a_bad_token_is_unauthorized(client, header):
    error = error_of(client.get(ME, headers={"Authorization": header}), 401)
    assert error["code"] in ("unauthorized", "token_invalid")


def test_officer_token_dies_after_thirty_idle_minutes(client, auth, officer, clock):
    headers = auth.officer(officer)
    clock.advance(minutes=29)
    assert client.get(ME, headers=headers).status_code == 200
    clock.advance(minutes=29)  # activity keeps the session alive
    assert client.get(ME, headers=headers).status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert error_of(client.get(ME, headers=headers), 401)["code"] == "token_expired"
    clock.advance(seconds=1)
    assert error_of(client.get(ME, headers=headers), 401)["code"] == "token_expired"


def test_officer_token_expires_after_twelve_hours_even_when_busy(client, auth, officer, clock):
    headers = auth.officer(officer)
    for _ in range(35):  # 35 × 20 min ≈ 11 h 40 min after login
        clock.advance(minutes=20)
        assert client.get(ME, headers=headers).status_code == 200
    clock.advance(minutes=20)
    assert error_of(client.get(ME, headers=headers), 401)["code"] == "token_expired"


def test_supervisee_token_has_no_idle_timeout_but_expires_after_thirty_days(client, auth, person, clock):
    headers = auth.supervisee(person)
    clock.advance(days=29, hours=23)
    assert client.get(ME, headers=headers).status_code == 200
    clock.advance(hours=1)
    assert error_of(client.get(ME, headers=headers), 401)["code"] == "token_expired"


def test_logout_revokes_the_token(app, client, auth, officer, clock):
    headers = auth.officer(officer)
    assert client.post(LOGOUT, headers=headers).status_code == 204
    assert error_of(client.get(ME, headers=headers), 401)["code"] == "token_invalid"
    assert error_of(client.post(LOGOUT, headers=headers), 401)["code"] == "token_invalid"
    (token,) = rows(app, AuthToken, AuthToken.officer_id == officer.officer.id)
    assert token.revoked_at is not None


def test_logout_revokes_only_that_token(client, auth, person):
    first = auth.supervisee(person)
    second = auth.supervisee(person)
    assert client.post(LOGOUT, headers=first).status_code == 204
    assert client.get(ME, headers=first).status_code == 401
    assert client.get(ME, headers=second).status_code == 200


def test_token_of_a_supervisee_whose_supervision_ended_stops_working(app, client, auth, person):
    headers = auth.supervisee(person)
    with app.app_context():
        db.session.execute(sa.update(Supervisee).where(Supervisee.id == person.supervisee.id)
                           .values(status="ended"))
        db.session.commit()
    assert error_of(client.get(ME, headers=headers), 401)["code"] == "token_invalid"


def test_token_of_a_deactivated_officer_stops_working(app, client, auth, officer):
    headers = auth.officer(officer)
    with app.app_context():
        db.session.execute(sa.update(Officer).where(Officer.id == officer.officer.id).values(active=False))
        db.session.commit()
    assert error_of(client.get(ME, headers=headers), 401)["code"] == "token_invalid"


def test_a_supervisee_token_is_forbidden_on_officer_endpoints(client, auth, person):
    headers = auth.supervisee(person)
    assert error_of(client.get(f"{API}/supervisees", headers=headers), 403)["code"] == "forbidden"
    assert error_of(client.get(f"{API}/supervisees/{person.supervisee.id}", headers=headers), 403)[
        "code"] == "forbidden"


def test_an_officer_token_is_forbidden_on_supervisee_endpoints(client, auth, officer):
    headers = auth.officer(officer)
    assert error_of(client.get(f"{API}/me/notifications", headers=headers), 403)["code"] == "forbidden"


# --- the record of login attempts -------------------------------------------------------------

def test_every_login_attempt_is_audited_with_its_outcome(app, client, auth, officer, person, clock):
    auth.officer_login(officer, password="wrong-password")
    clock.advance(seconds=30)
    auth.officer_login(officer)
    auth.supervisee_login(person)
    auth.supervisee_login(person, device_id="other-phone")
    client.post(f"{API}/auth/officer/login", json={"username": "ghost", "password": "x", "totp": "000000"})
    entries = rows(app, AuditEntry)
    seen = [(e.action, e.actor_type, e.actor_id, e.outcome) for e in entries]
    assert seen == [
        ("auth.officer_login", "officer", officer.officer.id, "invalid_credentials"),
        ("auth.officer_login", "officer", officer.officer.id, "ok"),
        ("auth.supervisee_login", "supervisee", person.supervisee.id, "ok"),
        ("auth.supervisee_login", "supervisee", person.supervisee.id, "device_not_bound"),
        ("auth.officer_login", "officer", None, "invalid_credentials"),
    ]
    assert entries[0].actor_label == officer.officer.username
    assert entries[0].bureau_id == officer.officer.bureau_id
    assert entries[-1].actor_label == "ghost"
    # the audit trail never holds a password or a full phone number
    for entry in entries:
        text = repr((entry.actor_label, entry.details))
        assert "wrong-password" not in text and person.password not in text
        assert person.supervisee.phone not in text
