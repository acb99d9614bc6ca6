"""Bad input and failures: one error shape for all of them, never a 500, never a partial write.

Malformed JSON is a 400 ``invalid_json``, another content type a 415, a body over
MAX_CONTENT_LENGTH a 413, wrong types or missing or unknown fields a 422 ``validation_error``
naming the failing paths, unknown routes and methods 404 and 405.
"""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from correction.audit.models import AuditEntry
from correction.people import service as people_service
from correction.people.models import Supervisee
from tests.assertions import count, error_of, field_paths, rows
from tests.factories import API, enrolment, valid_national_id

LOGIN = f"{API}/auth/officer/login"
SUPERVISEES = f"{API}/supervisees"


@pytest.fixture
def scene(make):
    """An office, its officer (logged in) and a ``strict`` supervisee."""
    return make.scene("strict", officer_login=True, phone=False)


def person_row(app, scene) -> Supervisee:
    (row,) = rows(app, Supervisee, Supervisee.id == scene.person.supervisee.id)
    return row


# --- malformed JSON and content types ---------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"username": "a",', "{'username': 'a'}", "", "not json", b'{"a": "\xff"}'],
                         ids=["truncated", "single_quotes", "empty", "text", "bad_utf8"])
def test_malformed_json_is_invalid_json(client, raw):
    response = client.post(LOGIN, data=raw, content_type="application/json")
    assert error_of(response, 400)["code"] == "invalid_json"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_a_body_that_is_not_json_is_unsupported_media_type(client, content_type):
    raw = json.dumps({"username": "a", "password": "b", "totp": "123456"})
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(LOGIN, data=raw, headers=headers)
    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_json_with_a_charset_parameter_is_accepted(client, scene, clock):
    import pyotp
    body = {"username": scene.officer.officer.username, "password": scene.officer.password,
            "totp": pyotp.TOTP(scene.officer.totp_secret).at(clock())}
    response = client.post(LOGIN, data=json.dumps(body), content_type="application/json; charset=utf-8")
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a":' * 50_000], ids=["arrays", "objects"])
def test_deeply_nested_json_is_refused_without_a_500(client, raw):
    response = client.post(LOGIN, data=raw, content_type="application/json")
    assert error_of(response, 400)["code"] == "invalid_json"


def test_a_json_value_that_is_not_an_object_is_a_validation_error(client):
    error = error_of(client.post(LOGIN, json=[1, 2]), 422)
    assert error["code"] == "validation_error"
    assert field_paths(error) == {"(body)"}


class TestBodySizeLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"MAX_CONTENT_LENGTH": 2048}

    def test_a_body_over_the_limit_is_payload_too_large_and_writes_nothing(self, app, client, scene):
        response = client.post(SUPERVISEES, json=enrolment(name="张" * 2000), headers=scene.headers)
        assert error_of(response, 413)["code"] == "payload_too_large"
        assert count(app, Supervisee, Supervisee.phone == "13712345678") == 0

    def test_a_body_under_the_limit_is_served(self, client, scene):
        response = client.post(SUPERVISEES, json=enrolment(), headers=scene.headers)
        assert response.status_code == 201, response.get_json()


# --- wrong types, missing fields, unknown fields -----------------------------------------------

def test_missing_fields_are_named_in_the_details(client):
    error = error_of(client.post(LOGIN, json={"username": "someone"}), 422)
    assert error["code"] == "validation_error"
    assert field_paths(error) == {"password"}  # the TOTP is left out while its enrolment is pending
    for item in error["details"]["fields"]:
        assert item["code"] == "missing" and item["message"]


def test_wrong_types_are_named_in_the_details_and_not_coerced(client, scene):
    body = enrolment(supervision_start=20261101, level=3, name=["张伟"], officer_id="5")
    error = error_of(client.post(SUPERVISEES, json=body, headers=scene.headers), 422)
    assert field_paths(error) == {"supervision_start", "level", "name", "officer_id"}


def test_a_numeric_totp_is_a_validation_error_not_a_login(client, scene, clock):
    import pyotp
    code = pyotp.TOTP(scene.officer.totp_secret).at(clock())
    response = client.post(LOGIN, json={"username": scene.officer.officer.username,
                                        "password": scene.officer.password, "totp": int(code)})
    assert field_paths(error_of(response, 422)) == {"totp"}


def test_validation_errors_do_not_echo_the_values_sent(client):
    secret = "my-secret-password-\x01"
    response = client.post(LOGIN, json={"username": "someone", "password": secret, "totp": "12"})
    error = error_of(response, 422)
    assert field_paths(error) == {"password", "totp"}
    assert "my-secret-password" not in response.get_data(as_text=True)


@pytest.mark.parametrize("field, value", [
    ("name", "张\x00伟"), ("name", "x" * 101), ("name", "   "), ("phone", "call me"),
    ("officer_id", 2**63), ("officer_id", 2**31), ("officer_id", 0), ("supervision_start", "2026-02-30"),
    ("sentence_type", "house_arrest"),
])
def test_out_of_range_or_malformed_values_are_validation_errors(app, client, scene, field, value):
    response = client.post(SUPERVISEES, json=enrolment(**{field: value}), headers=scene.headers)
    assert field_paths(error_of(response, 422)) == {field}
    assert count(app, Supervisee, Supervisee.phone == "13712345678") == 0


def test_infinite_numbers_are_refused(client, scene):
    raw = json.dumps(enrolment()).replace('"normal"}', '"normal", "officer_id": 1e999}')
    response = client.post(SUPERVISEES, data=raw, content_type="application/json", headers=scene.headers)
    assert error_of(response, 422)["code"] == "validation_error"


def test_unknown_fields_in_a_login_are_refused(client, scene):
    response = client.post(LOGIN, json={"username": "a", "password": "b", "totp": "123456",
                                        "role": "admin"})
    error = error_of(response, 422)
    assert field_paths(error) == {"role"}
    assert error["details"]["fields"][0]["code"] == "extra_forbidden"


@pytest.mark.parametrize("field, value", [
    ("office_id", 999), ("id", 12345), ("national_id_last4", "0000"), ("national_id", valid_national_id()),
    ("device_bound", False), ("created_at", "2020-01-01T00:00:00Z"), ("password_hash", "x"),
    ("failed_logins", 0), ("locked_until", None), ("supervision_start", "2020-01-01"),
])
def test_patch_refuses_fields_officers_may_not_set_and_changes_nothing(app, client, scene, field, value):
    before = person_row(app, scene)
    response = client.patch(f"{SUPERVISEES}/{scene.person.supervisee.id}",
                            json={"level": "lenient", field: value}, headers=scene.headers)
    error = error_of(response, 422)
    assert field_paths(error) == {field}
    assert error["details"]["fields"][0]["code"] == "extra_forbidden"
    after = person_row(app, scene)
    assert (after.level, after.office_id, after.updated_at) == (before.level, before.office_id, before.updated_at)


def test_enrolment_refuses_status_and_other_server_owned_fields(app, client, scene):
    response = client.post(SUPERVISEES, json=enrolment(status="ended", device_bound=True),
                           headers=scene.headers)
    assert field_paths(error_of(response, 422)) == {"status", "device_bound"}
    assert count(app, Supervisee, Supervisee.phone == "13712345678") == 0


def test_explicit_null_for_a_required_value_is_refused(app, client, scene):
    response = client.patch(f"{SUPERVISEES}/{scene.person.supervisee.id}", json={"name": None},
                            headers=scene.headers)
    assert field_paths(error_of(response, 422)) == {"name"}
    assert person_row(app, scene).name == scene.person.supervisee.name


@pytest.mark.parametrize("query, path", [
    ({"limit": 0}, "query.limit"), ({"limit": 201}, "query.limit"), ({"limit": "ten"}, "query.limit"),
    ({"level": "severe"}, "query.level"), ({"q": "a\x00b"}, "query.q"),
    ({"officer_id": "99999999999999999999"}, "query.officer_id"),
    ({"office_id": "2147483648"}, "query.office_id"),  # past a 32-bit id column: not a 500
])
def test_bad_query_parameters_are_validation_errors_naming_the_parameter(client, scene, query, path):
    response = client.get(SUPERVISEES, query_string=query, headers=scene.headers)
    assert field_paths(error_of(response, 422)) == {path}


def test_an_audit_actor_id_past_the_id_range_is_a_validation_error(client, make, auth, scene):
    supervisor = make.officer(role="supervisor", bureau_id=scene.office.bureau_id)
    response = client.get(f"{API}/audit", query_string={"actor_id": 2**31}, headers=auth.officer(supervisor))
    assert field_paths(error_of(response, 422)) == {"query.actor_id"}


@pytest.mark.parametrize("path_id", ["2147483648", "999999999999999999"])
def test_a_path_id_past_the_id_range_is_a_404_not_a_database_error(client, scene, path_id):
    response = client.get(f"{SUPERVISEES}/{path_id}", headers=scene.headers)
    assert error_of(response, 404)["code"] in ("not_found", "supervisee_not_found")


def test_unknown_query_parameters_are_ignored(client, scene):
    response = client.get(SUPERVISEES, query_string={"utm_source": "x"}, headers=scene.headers)
    assert response.status_code == 200


# --- unknown routes and methods ----------------------------------------------------------------

@pytest.mark.parametrize("path", [f"{API}/nothing-here", "/nothing-here", f"{API}/supervisees/1/nothing",
                                  "/api/v2/health"])
def test_an_unknown_route_is_a_404_in_the_error_shape(client, path):
    assert error_of(client.get(path), 404)["code"] == "not_found"


@pytest.mark.parametrize("method, path, allowed", [
    ("delete", SUPERVISEES, {"GET", "POST"}),
    ("put", f"{API}/auth/logout", {"POST"}),
    ("get", LOGIN, {"POST"}),
    ("delete", f"{SUPERVISEES}/1", {"GET", "PATCH"}),
])
def test_a_wrong_method_is_a_405_that_names_the_allowed_ones(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


# --- unexpected failures ----------------------------------------------------------------------

def test_an_unexpected_error_is_a_500_in_the_error_shape_and_is_audited(app, client, scene, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals: /srv/db password=hunter2")

    monkeypatch.setattr(people_service, "get_supervisee", broken)
    response = client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers)
    error = error_of(response, 500)
    assert error["code"] == "internal_error"
    assert "hunter2" not in response.get_data(as_text=True)
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "supervisee.read")
    assert (entry.outcome, entry.target_id) == ("internal_error", scene.person.supervisee.id)


def test_a_failure_after_the_write_leaves_no_partial_write(app, client, scene, monkeypatch):
    real = people_service.enrol_supervisee

    def enrol_then_fail(*args, **kwargs):
        real(*args, **kwargs)  # the row is flushed...
        raise RuntimeError("...and then something breaks")

    monkeypatch.setattr(people_service, "enrol_supervisee", enrol_then_fail)
    response = client.post(SUPERVISEES, json=enrolment(), headers=scene.headers)
    assert error_of(response, 500)["code"] == "internal_error"
    assert count(app, Supervisee, Supervisee.phone == "13712345678") == 0
    (entry,) = rows(app, AuditEntry, AuditEntry.action == "supervisee.create")
    assert entry.outcome == "internal_error"


def test_a_database_outage_is_a_503_with_retry_after(client, scene, monkeypatch):
    def down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(people_service, "get_supervisee", down)
    response = client.get(f"{SUPERVISEES}/{scene.person.supervisee.id}", headers=scene.headers)
    assert error_of(response, 503)["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "5"


def test_a_uniqueness_race_is_a_409_conflict_not_a_500(app, client, scene, monkeypatch):
    """Two enrolments of one phone can both pass the check; the unique index decides."""
    monkeypatch.setattr(people_service, "_check_phone_free", lambda session, phone: None)
    response = client.post(SUPERVISEES, json=enrolment(phone=scene.person.supervisee.phone),
                           headers=scene.headers)
    assert error_of(response, 409)["code"] == "conflict"
    assert count(app, Supervisee, Supervisee.phone == scene.person.supervisee.phone) == 1


# --- every status, one shape ---------------------------------------------------------------------

def test_every_error_status_answers_the_one_shape(client, make, auth, scene):
    person_headers = auth.supervisee(scene.person)
    other_office_person = make.supervisee(make.office())
    cases = {
        400: client.post(LOGIN, data="{", content_type="application/json"),
        401: client.get(f"{API}/me"),
        403: client.get(SUPERVISEES, headers=person_headers),
        404: client.get(f"{SUPERVISEES}/{other_office_person.supervisee.id}", headers=scene.headers),
        405: client.patch(SUPERVISEES, headers=scene.headers),
        409: client.post(SUPERVISEES, json=enrolment(phone=scene.person.supervisee.phone),
                         headers=scene.headers),
        415: client.post(LOGIN, data="x", content_type="text/plain"),
        422: client.post(LOGIN, json={}),
    }
    for status, response in cases.items():
        error_of(response, status)
        assert response.headers["X-Request-ID"]
