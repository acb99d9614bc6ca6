"""Failed logins lock the client that made them out of the account, not the account's owner.

Five in a row from one client lock that (account, client) pair for ten minutes (CJIS 5.5.3); an
identifier nobody holds is counted, locked and answered exactly like a real one. Officers see and
lift the locks: a supervisee's, officers of their office; an officer's, the bureau's supervisors.
"""
from __future__ import annotations

import pyotp

from correction.audit.models import AuditEntry
from correction.auth import service as auth_service
from correction.auth.models import LoginFailure
from correction.security import verify_password
from tests.factories import API
from tests.assertions import count, error_of, rows

STRANGER = "203.0.113.9"
OWNER = "198.51.100.20"


def supervisee_login(client, phone, password, device_id="device-x", address=STRANGER):
    return client.post(f"{API}/auth/supervisee/login", environ_base={"REMOTE_ADDR": address},
                       json={"phone": phone, "password": password, "device_id": device_id})


def officer_login(client, clock, login, password=None, address=STRANGER, username=None):
    return client.post(f"{API}/auth/officer/login", environ_base={"REMOTE_ADDR": address}, json={
        "username": username or login.officer.username, "password": password or login.password,
        "totp": pyotp.TOTP(login.totp_secret).at(clock())})


def lock_out(client, phone, address=STRANGER):
    for _ in range(5):
        assert supervisee_login(client, phone, "wrong-password", address=address).status_code == 401


def test_a_strangers_failures_do_not_lock_the_supervisee_out_of_their_own_phone(client, person):
    lock_out(client, person.supervisee.phone)
    # the stranger is locked out, even with the right password...
    stranger = supervisee_login(client, person.supervisee.phone, person.password, person.device_id)
    assert error_of(stranger, 423)["code"] == "account_locked"
    # ...the owner, on their own phone and network, is not
    owner = supervisee_login(client, person.supervisee.phone, person.password, person.device_id, address=OWNER)
    assert owner.status_code == 200, owner.get_json()


def test_a_strangers_failures_do_not_lock_the_officer_out(client, clock, officer):
    for _ in range(5):
        assert officer_login(client, clock, officer, password="wrong-password").status_code == 401
        clock.advance(seconds=30)
    assert error_of(officer_login(client, clock, officer), 423)["code"] == "account_locked"
    assert officer_login(client, clock, officer, address=OWNER).status_code == 200


def test_an_unknown_phone_number_is_answered_exactly_like_a_known_one(client, person):
    known, unknown = person.supervisee.phone, "13999999999"
    for _ in range(5):
        a = supervisee_login(client, known, "wrong-password")
        b = supervisee_login(client, unknown, "wrong-password")
        assert (a.status_code, a.get_json()) == (b.status_code, b.get_json()) == (401, a.get_json())
    locked_known = supervisee_login(client, known, person.password)
    locked_unknown = supervisee_login(client, unknown, person.password)
    assert error_of(locked_known, 423) == error_of(locked_unknown, 423)
    assert locked_known.headers["Retry-After"] == locked_unknown.headers["Retry-After"]


def test_an_unknown_username_is_locked_like_a_known_one(client, clock, officer):
    for _ in range(5):
        response = officer_login(client, clock, officer, username="nobody-at-all", password="wrong-password")
        assert error_of(response, 401)["code"] == "invalid_credentials"
    assert error_of(officer_login(client, clock, officer, username="nobody-at-all"), 423)["code"] == "account_locked"


def test_known_and_unknown_accounts_each_pay_one_password_hash(client, person, monkeypatch):
    calls = []

    def counting(hasher, stored_hash, password):
        calls.append(stored_hash)
        return verify_password(hasher, stored_hash, password)

    monkeypatch.setattr(auth_service, "verify_password", counting)
    for phone in (person.supervisee.phone, "13999999999"):
        lock_out(client, phone)
        calls.clear()
        assert supervisee_login(client, phone, "wrong-password").status_code == 423
        assert supervisee_login(client, phone, "another-guess").status_code == 423
        assert len(calls) == 2, phone  # a locked pair, known or not, still pays the hash


def test_no_phone_number_is_stored_with_the_failures(app, client, person):
    lock_out(client, person.supervisee.phone)
    (row,) = rows(app, LoginFailure)
    assert person.supervisee.phone not in (row.account_key, row.client)
    assert (row.account_kind, row.client, row.failures) == ("supervisee", STRANGER, 0)


def test_ipv6_clients_are_counted_by_their_64_prefix(client, person):
    for host in range(1, 6):
        supervisee_login(client, person.supervisee.phone, "wrong-password", address=f"2001:db8:0:1::{host}")
    same_subscriber = supervisee_login(client, person.supervisee.phone, "x", address="2001:db8:0:1::ff")
    assert error_of(same_subscriber, 423)["code"] == "account_locked"
    other_subscriber = supervisee_login(client, person.supervisee.phone, "x", address="2001:db8:0:2::1")
    assert error_of(other_subscriber, 401)["code"] == "invalid_credentials"


def test_the_lock_ends_after_ten_minutes(client, clock, person):
    lock_out(client, person.supervisee.phone)
    clock.advance(minutes=9, seconds=59)
    assert supervisee_login(client, person.supervisee.phone, person.password, person.device_id).status_code == 423
    clock.advance(seconds=1)
    assert supervisee_login(client, person.supervisee.phone, person.password, person.device_id).status_code == 200


def test_the_owners_success_does_not_forgive_the_strangers_failures(client, person):
    for _ in range(4):
        supervisee_login(client, person.supervisee.phone, "wrong-password")
    assert supervisee_login(client, person.supervisee.phone, person.password, person.device_id,
                            address=OWNER).status_code == 200
    supervisee_login(client, person.supervisee.phone, "wrong-password")
    assert supervisee_login(client, person.supervisee.phone, person.password).status_code == 423


# --- officers see and lift locks --------------------------------------------------------------

def locks_url(person) -> str:
    return f"{API}/supervisees/{person.supervisee.id}/login-locks"


def test_an_officer_of_the_office_sees_and_lifts_a_supervisees_lock(app, client, auth, clock, officer, person):
    lock_out(client, person.supervisee.phone)
    headers = auth.officer(officer)
    listed = client.get(locks_url(person), headers=headers)
    assert listed.status_code == 200, listed.get_json()
    (item,) = listed.get_json()["items"]
    assert (item["client"], item["locked"], item["failures"]) == (STRANGER, True, 0)

    lifted = client.delete(locks_url(person), headers=headers)
    assert lifted.status_code == 200 and lifted.get_json() == {"lifted": 1}
    assert client.get(locks_url(person), headers=headers).get_json() == {"items": []}
    assert supervisee_login(client, person.supervisee.phone, person.password, person.device_id).status_code == 200
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "supervisee.login_locks_lift")
    assert (entry.actor_id, entry.target_id, entry.outcome, entry.details) == (
        officer.officer.id, person.supervisee.id, "ok", {"lifted": 1})


def test_another_offices_officer_gets_404_and_lifts_nothing(app, client, auth, make, person):
    lock_out(client, person.supervisee.phone)
    other = make.officer(make.office())
    headers = auth.officer(other)
    assert error_of(client.get(locks_url(person), headers=headers), 404)["code"] == "supervisee_not_found"
    assert error_of(client.delete(locks_url(person), headers=headers), 404)["code"] == "supervisee_not_found"
    assert count(app, LoginFailure) == 1
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "supervisee.login_locks_lift")
    assert entry.outcome == "supervisee_not_found"


def test_a_supervisee_cannot_read_their_own_locks(client, auth, person):
    headers = auth.supervisee(person)
    assert error_of(client.get(locks_url(person), headers=headers), 403)["code"] == "forbidden"


def test_the_bureaus_supervisor_sees_and_lifts_an_officers_lock(app, client, auth, clock, make, office, officer):
    for _ in range(5):
        officer_login(client, clock, officer, password="wrong-password")
    supervisor = make.officer(role="supervisor", bureau_id=office.bureau_id)
    url = f"{API}/officers/{officer.officer.id}/login-locks"
    headers = auth.officer(supervisor)
    (item,) = client.get(url, headers=headers).get_json()["items"]
    assert (item["client"], item["locked"]) == (STRANGER, True)
    assert client.delete(url, headers=headers).get_json() == {"lifted": 1}
    clock.advance(seconds=30)
    assert officer_login(client, clock, officer).status_code == 200
    assert [e.outcome for e in rows(app, AuditEntry, AuditEntry.action == "officer.login_locks_lift")] == ["ok"]


def test_an_officers_lock_is_not_for_colleagues_or_other_bureaus(client, auth, clock, make, office, officer):
    for _ in range(5):
        officer_login(client, clock, officer, password="wrong-password")
    url = f"{API}/officers/{officer.officer.id}/login-locks"
    colleague = make.officer(office)
    assert error_of(client.delete(url, headers=auth.officer(colleague)), 403)["code"] == "forbidden"
    foreign = make.officer(role="admin", bureau_id=make.bureau().id)
    assert error_of(client.delete(url, headers=auth.officer(foreign)), 404)["code"] == "officer_not_found"
    assert error_of(client.get(url, headers=auth.officer(foreign)), 404)["code"] == "officer_not_found"
    assert error_of(officer_login(client, clock, officer), 423)["code"] == "account_locked"


# --- phones behind a carrier's NAT share an address --------------------------------------------

CARRIER_NAT = "100.64.7.7"


def test_a_stranger_behind_the_same_address_does_not_lock_out_the_bound_phone(client, person):
    first = supervisee_login(client, person.supervisee.phone, person.password, person.device_id, address=CARRIER_NAT)
    assert first.status_code == 200  # binds the phone
    for _ in range(5):
        stranger = supervisee_login(client, person.supervisee.phone, "wrong-password", "strangers-phone",
                                    address=CARRIER_NAT)
        assert stranger.status_code == 401
    assert supervisee_login(client, person.supervisee.phone, person.password, "strangers-phone",
                            address=CARRIER_NAT).status_code == 423
    owner = supervisee_login(client, person.supervisee.phone, person.password, person.device_id, address=CARRIER_NAT)
    assert owner.status_code == 200, owner.get_json()


def test_failures_on_the_bound_phone_lock_that_phone(app, client, auth, officer, person):
    assert supervisee_login(client, person.supervisee.phone, person.password, person.device_id).status_code == 200
    for address in ("100.64.0.1", "100.64.0.2", "100.64.0.3", "100.64.0.4", "100.64.0.5"):
        supervisee_login(client, person.supervisee.phone, "wrong-password", person.device_id, address=address)
    locked = supervisee_login(client, person.supervisee.phone, person.password, person.device_id, address=OWNER)
    assert error_of(locked, 423)["code"] == "account_locked"
    (item,) = client.get(locks_url(person), headers=auth.officer(officer)).get_json()["items"]
    assert item["client"].startswith("device:") and item["locked"] is True
