"""POST|DELETE /me/push-token: the phone registers where its pushes go; logout and a device reset forget it."""
from __future__ import annotations

from correction.audit.models import AuditEntry
from correction.people.models import Device
from tests.assertions import error_of, rows
from tests.factories import API

from .helpers import PUSH_TOKEN, TOKEN, ask_spot_check, register_phone, run_dispatcher


def token_of(app, supervisee_id: int) -> str | None:
    [device] = rows(app, Device, Device.supervisee_id == supervisee_id, Device.active)
    return device.push_token


def test_the_phone_registers_its_push_id_on_its_device_and_it_is_audited_without_it(app, client, make, jpush):
    scene = make.scene(phone=True)
    register_phone(client, jpush, scene.phone)
    assert token_of(app, scene.person_id) == TOKEN
    register_phone(client, jpush, scene.phone)  # the app posts it after every login: harmless
    entries = rows(app, AuditEntry, AuditEntry.action == "device.push_token.register")
    assert [(e.outcome, e.details) for e in entries] == [("ok", {"changed": True}), ("ok", {"changed": False})]
    assert all(TOKEN not in str(e.details) for e in entries)


def test_a_push_id_moves_with_the_handset_to_its_new_user(app, client, make, jpush):
    scene = make.scene(other="normal", phone=True)
    register_phone(client, jpush, scene.phone)
    other_phone = make.auth.supervisee(scene.other)
    register_phone(client, jpush, other_phone)  # the same app install, now someone else's
    assert token_of(app, scene.person_id) is None and token_of(app, scene.other.supervisee.id) == TOKEN


def test_logout_on_the_phone_forgets_its_push_id(app, client, make, jpush):
    scene = make.scene(phone=True)
    register_phone(client, jpush, scene.phone)
    assert client.post(f"{API}/auth/logout", headers=scene.phone).status_code == 204
    assert token_of(app, scene.person_id) is None


def test_a_device_reset_forgets_the_push_id_and_nothing_is_pushed_to_the_old_phone(app, client, make, jpush, sms):
    scene = make.scene(officer_login=True)
    register_phone(client, jpush, scene.phone)
    reset = client.post(f"{API}/supervisees/{scene.person_id}/device/reset", headers=scene.headers)
    assert reset.status_code == 200, reset.get_json()
    assert [d.push_token for d in rows(app, Device, Device.supervisee_id == scene.person_id)] == [None]
    ask_spot_check(client, scene)
    run_dispatcher(app)
    assert jpush.pushes == [] and len(sms.texts) == 1  # a text reaches them instead


def test_removing_the_push_id(app, client, make, jpush):
    scene = make.scene(phone=True)
    register_phone(client, jpush, scene.phone)
    assert client.delete(PUSH_TOKEN, headers=scene.phone).status_code == 204
    assert client.delete(PUSH_TOKEN, headers=scene.phone).status_code == 204
    assert token_of(app, scene.person_id) is None
    details = [e.details for e in rows(app, AuditEntry, AuditEntry.action == "device.push_token.remove")]
    assert details == [{"had_token": True}, {"had_token": False}]


def test_a_bad_push_id_is_refused_and_nothing_is_stored(app, client, make):
    scene = make.scene(phone=True)
    for bad in ({"registration_id": ""}, {"registration_id": "a b"}, {"registration_id": "x" * 201}, {},
                {"registration_id": 12345}):
        error = error_of(client.post(PUSH_TOKEN, json=bad, headers=scene.phone), 422)
        assert error["code"] == "validation_error", error
    assert token_of(app, scene.person_id) is None


def test_the_push_id_is_the_supervisees_own(client, make, auth):
    scene = make.scene(phone=False)
    assert error_of(client.post(PUSH_TOKEN, json={"registration_id": TOKEN}), 401)["code"] == "unauthorized"
    officer = auth.officer(scene.officer)
    assert error_of(client.post(PUSH_TOKEN, json={"registration_id": TOKEN}, headers=officer), 403)["code"] == "forbidden"
    assert error_of(client.delete(PUSH_TOKEN, headers=officer), 403)["code"] == "forbidden"
