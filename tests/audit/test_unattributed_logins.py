"""Failed logins at accounts nobody holds: recorded without a bureau, shown to every bureau's admins.

A username or phone number that names nobody cannot be mapped to a bureau, so its attempts are
entries of no bureau; admins (who administer accounts) see them beside their own bureau's, plain
supervisors see their bureau's only. An attempt at an account that exists, also a deactivated
one, carries the account's bureau.
"""
from __future__ import annotations

import sqlalchemy as sa

from correction.database import db
from correction.people.models import Officer
from tests.factories import API

AUDIT = f"{API}/audit"


def failed_officer_login(client, username):
    response = client.post(f"{API}/auth/officer/login",
                           json={"username": username, "password": "guess-guess", "totp": "123456"})
    assert response.status_code == 401


def failed_supervisee_login(client, phone):
    response = client.post(f"{API}/auth/supervisee/login",
                           json={"phone": phone, "password": "guess-guess", "device_id": "x"})
    assert response.status_code == 401


def login_entries(client, headers, action):
    response = client.get(AUDIT, query_string={"action": action, "outcome": "invalid_credentials"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_admins_of_every_bureau_see_attempts_at_unknown_accounts(client, auth, make):
    bureau, other_bureau = make.bureau(), make.bureau()
    admin = auth.officer(make.officer(role="admin", bureau_id=bureau.id))
    other_admin = auth.officer(make.officer(role="admin", bureau_id=other_bureau.id))
    failed_officer_login(client, "wc-nobody")
    failed_supervisee_login(client, "13900001111")
    for headers in (admin, other_admin):
        (officer_entry,) = login_entries(client, headers, "auth.officer_login")
        assert (officer_entry["actor_label"], officer_entry["actor_id"], officer_entry["outcome"]) == (
            "wc-nobody", None, "invalid_credentials")
        (phone_entry,) = login_entries(client, headers, "auth.supervisee_login")
        assert (phone_entry["actor_label"], phone_entry["outcome"]) == ("1111", "invalid_credentials")


def test_supervisors_see_only_their_bureaus_attempts(client, auth, make):
    office = make.office()
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=office.bureau_id))
    colleague = make.officer(office)
    failed_officer_login(client, "wc-nobody")
    failed_officer_login(client, colleague.officer.username)
    (entry,) = login_entries(client, supervisor, "auth.officer_login")
    assert (entry["actor_id"], entry["actor_label"]) == (colleague.officer.id, colleague.officer.username)


def test_an_attempt_at_a_deactivated_officer_carries_the_bureau(app, client, auth, make):
    office = make.office()
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=office.bureau_id))
    gone = make.officer(office)
    with app.app_context():
        db.session.execute(sa.update(Officer).where(Officer.id == gone.officer.id).values(active=False))
        db.session.commit()
    failed_officer_login(client, gone.officer.username)
    (entry,) = login_entries(client, supervisor, "auth.officer_login")
    assert (entry["actor_id"], entry["outcome"]) == (gone.officer.id, "invalid_credentials")
