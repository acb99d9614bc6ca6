"""An ingest key has a life: it expires, shows when it was issued and last used, and ends on
logout on its phone, a device reset, or an officer's revocation (audited, in scope or 404)."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from correction.audit.models import AuditEntry
from correction.time import iso_z
from tests.factories import API
from tests.assertions import error_of, rows

OSMAND = f"{API}/ingest/osmand"


@pytest.fixture
def settings_overrides():
    return {"INGEST_KEY_TTL_DAYS": 10, "TOKEN_TOUCH_INTERVAL_SECONDS": 60}


@pytest.fixture
def scene(make, auth, client, clock):
    office = make.office()
    officer = make.officer(office)
    person = make.supervisee(office, officer=officer.officer)
    officer_headers = auth.officer(officer)
    phone = auth.supervisee(person)
    issued_at = clock()
    issued = client.post(f"{API}/me/ingest-key", headers=phone)
    assert issued.status_code == 201
    return {"office": office, "officer": officer_headers, "person": person.supervisee, "phone": phone,
            "key": issued.get_json()["ingest_key"], "issued": issued.get_json(), "issued_at": issued_at}


def report(client, clock, key):
    """One OsmAnd report with ``key``; return the status code."""
    return client.get(OSMAND, query_string={"id": key, "lat": "29.08", "lon": "119.65", "accuracy": "10",
                                            "timestamp": str(int(clock().timestamp()))}).status_code


def owntracks(client, clock, key):
    credentials = base64.b64encode(f"phone:{key}".encode()).decode()
    return client.post(f"{API}/ingest/owntracks", headers={"Authorization": f"Basic {credentials}"},
                       json={"_type": "location", "lat": 29.08, "lon": 119.65, "acc": 10,
                             "tst": int(clock().timestamp())}).status_code


def test_issuing_says_when_the_key_was_issued_and_expires(scene):
    start = scene["issued_at"]
    assert scene["issued"]["issued_at"] == iso_z(start)
    assert scene["issued"]["expires_at"] == iso_z(start + timedelta(days=10))


def test_the_key_expires_after_its_lifetime(scene, client, clock):
    assert report(client, clock, scene["key"]) == 200
    clock.advance(days=10)
    error_of(client.get(OSMAND, query_string={"id": scene["key"], "lat": "29.08", "lon": "119.65"}), 400)
    assert owntracks(client, clock, scene["key"]) == 401
    mine = client.get(f"{API}/me/ingest-key", headers=scene["phone"]).get_json()
    assert mine["active"] is False


def test_the_holder_and_the_officer_see_issue_expiry_and_last_use(scene, client, clock):
    issued_at = scene["issued_at"]
    before = client.get(f"{API}/me/ingest-key", headers=scene["phone"])
    assert before.status_code == 200
    assert before.get_json() == {"active": True, "issued_at": iso_z(issued_at),
                                 "expires_at": scene["issued"]["expires_at"], "last_used_at": None}

    clock.advance(minutes=5)
    used_at = clock()
    assert report(client, clock, scene["key"]) == 200
    clock.advance(seconds=20)  # within the touch interval: the last use is not rewritten
    assert owntracks(client, clock, scene["key"]) == 200

    mine = client.get(f"{API}/me/ingest-key", headers=scene["phone"]).get_json()
    theirs = client.get(f"{API}/supervisees/{scene['person'].id}/ingest-key", headers=scene["officer"])
    assert theirs.status_code == 200
    assert mine == theirs.get_json()
    assert mine["last_used_at"] == iso_z(used_at) and mine["active"] is True
    read = rows(client.application, AuditEntry, AuditEntry.action == "ingest_key.read")
    assert [(entry.target_type, entry.target_id) for entry in read] == [("supervisee", scene["person"].id)]


def test_an_officer_revokes_the_key_audited(scene, client, clock):
    response = client.delete(f"{API}/supervisees/{scene['person'].id}/ingest-key", headers=scene["officer"])
    assert response.status_code == 204
    assert report(client, clock, scene["key"]) == 400
    assert owntracks(client, clock, scene["key"]) == 401
    status = client.get(f"{API}/me/ingest-key", headers=scene["phone"]).get_json()
    assert status["active"] is False and status["issued_at"] is None
    entry, = rows(client.application, AuditEntry, AuditEntry.action == "ingest_key.revoke")
    assert (entry.target_type, entry.target_id, entry.actor_type) == ("supervisee", scene["person"].id, "officer")
    # The phone may issue a new key, which works.
    again = client.post(f"{API}/me/ingest-key", headers=scene["phone"]).get_json()["ingest_key"]
    assert report(client, clock, again) == 200


def test_an_officer_of_another_office_gets_404(scene, make, auth, client, clock):
    stranger = auth.officer(make.officer(make.office()))
    for method in (client.get, client.delete):
        error_of(method(f"{API}/supervisees/{scene['person'].id}/ingest-key", headers=stranger), 404)
    assert report(client, clock, scene["key"]) == 200  # untouched
    assert rows(client.application, AuditEntry, AuditEntry.action == "ingest_key.revoke",
                AuditEntry.outcome == "success") == []


def test_a_supervisee_cannot_revoke_or_read_through_the_officer_endpoint(scene, client):
    error_of(client.delete(f"{API}/supervisees/{scene['person'].id}/ingest-key", headers=scene["phone"]), 403)
    error_of(client.get(f"{API}/supervisees/{scene['person'].id}/ingest-key", headers=scene["phone"]), 403)


def test_logging_out_on_the_phone_ends_its_key(scene, client, clock):
    assert client.post(f"{API}/auth/logout", headers=scene["phone"]).status_code == 204
    assert report(client, clock, scene["key"]) == 400
    assert owntracks(client, clock, scene["key"]) == 401


def test_an_officer_logging_out_ends_no_key(scene, client, clock):
    assert client.post(f"{API}/auth/logout", headers=scene["officer"]).status_code == 204
    assert report(client, clock, scene["key"]) == 200


def test_a_device_reset_ends_the_key(scene, client, clock):
    reset = client.post(f"{API}/supervisees/{scene['person'].id}/device/reset", headers=scene["officer"])
    assert reset.status_code == 200
    assert report(client, clock, scene["key"]) == 400
    status = client.get(f"{API}/supervisees/{scene['person'].id}/ingest-key", headers=scene["officer"]).get_json()
    assert status == {"active": False, "issued_at": None, "expires_at": None, "last_used_at": None}
