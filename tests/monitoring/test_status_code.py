"""Personal status code (矫正码): a coloured QR carrying a signed token that officers verify."""
from __future__ import annotations

import base64
from datetime import timedelta

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from correction.alerts.models import Alert
from correction.checkins.models import SpotCheck
from correction.database import db
from tests.assertions import decode_png, error_code
from tests.factories import API, post_checkin

VERIFY = f"{API}/codes/verify"
# The colour each status is drawn in, as OpenCV reads it (BGR).
INK_BGR = {"green": (60, 140, 0), "yellow": (0, 130, 190), "red": (0, 0, 200)}


@pytest.fixture
def scene(make):
    """An office with a station, its officer, and a ``normal`` supervisee logged in on their phone."""
    return make.scene(station=True)


@pytest.fixture
def officer(auth, scene):
    return auth.officer(scene.officer)  # log in first: it moves the clock on 30 s


def my_code(client, scene) -> tuple[str, str]:
    """Fetch /me/code.png; return the colour it is drawn in and the token it carries."""
    response = client.get(f"{API}/me/code.png", headers=scene.phone)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    colour = response.headers["X-Status-Colour"]
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR)
    inks = {tuple(int(c) for c in px) for px in np.unique(image.reshape(-1, 3), axis=0)} - {(255, 255, 255)}
    assert inks == {INK_BGR[colour]}, f"a {colour} code drawn in {inks}"
    return colour, decode_png(response.data)


def verify(client, headers, token):
    return client.post(VERIFY, json={"token": token}, headers=headers)


def add_alert(app, scene, clock, *, type: str, severity: str, status: str = "open", days_ago: float = 0):
    with app.app_context():
        db.session.add(Alert(supervisee_id=scene.person_id, office_id=scene.office.id, type=type,
                             severity=severity, subject_key=f"{type}:{days_ago}:{status}", evidence={},
                             status=status, raised_at=clock() - timedelta(days=days_ago)))
        db.session.commit()


def test_green_code_decodes_to_a_token_the_officer_can_verify(client, scene, officer):
    colour, token = my_code(client, scene)
    assert colour == "green"
    response = verify(client, officer, token)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    person = scene.person.supervisee
    assert body == {"supervisee_id": person.id, "name": person.name,
                    "national_id_masked": "*" * 14 + person.national_id_last4,
                    "office_id": scene.office.id, "level": "normal", "supervision_status": "active",
                    "colour": "green"}


@pytest.mark.parametrize("alert, colour", [
    pytest.param(dict(type="device_changed", severity="medium"), "yellow", id="open-medium"),
    pytest.param(dict(type="impossible_movement", severity="low", status="acknowledged"), "yellow",
                 id="acknowledged-low"),
    pytest.param(dict(type="missed_checkin", severity="medium", status="resolved", days_ago=6.9), "yellow",
                 id="missed-checkin-resolved-within-7-days"),
    pytest.param(dict(type="missed_spot_check", severity="high", status="resolved", days_ago=3), "yellow",
                 id="missed-spot-check-resolved-within-7-days"),
    pytest.param(dict(type="missed_checkin", severity="medium", status="resolved", days_ago=7.1), "green",
                 id="missed-checkin-over-7-days-ago"),
    pytest.param(dict(type="zone_exit", severity="high", status="resolved"), "green", id="resolved-high"),
    pytest.param(dict(type="signal_lost", severity="high"), "red", id="open-high"),
    pytest.param(dict(type="exclusion_entry", severity="critical", status="acknowledged"), "red",
                 id="acknowledged-critical"),
])
def test_colour_follows_compliance(client, app, scene, officer, clock, alert, colour):
    add_alert(app, scene, clock, **alert)
    shown, token = my_code(client, scene)
    assert shown == colour
    assert verify(client, officer, token).get_json()["colour"] == colour


def test_a_mocked_checkin_turns_the_code_red(client, scene, officer, clock):
    assert my_code(client, scene)[0] == "green"
    assert error_code(post_checkin(client, scene.phone, "remote", is_mock=True, recorded_at=clock())) == "mock_location"
    assert my_code(client, scene)[0] == "red"


def test_an_unanswered_spot_check_past_its_time_turns_the_code_yellow(client, app, scene, officer, clock):
    assert client.post(f"{API}/spot-checks", json={"supervisee_id": scene.person_id},
                       headers=officer).status_code == 201
    assert my_code(client, scene)[0] == "green"  # still time to answer
    clock.advance(minutes=16)
    assert my_code(client, scene)[0] == "yellow"
    with app.app_context():
        assert db.session.execute(sa.select(SpotCheck.status)).scalar_one() == "pending"


def test_colour_is_read_when_verifying_not_when_issuing(client, app, scene, officer, clock):
    _, token = my_code(client, scene)
    add_alert(app, scene, clock, type="signal_lost", severity="high")
    assert verify(client, officer, token).get_json()["colour"] == "red"


def test_code_is_valid_for_five_minutes(client, scene, officer, clock):
    _, token = my_code(client, scene)
    clock.advance(seconds=300)
    assert verify(client, officer, token).status_code == 200
    clock.advance(seconds=1)
    response = verify(client, officer, token)
    assert (response.status_code, error_code(response)) == (422, "code_expired")


def test_a_fresh_code_is_issued_each_time(client, scene, officer, clock):
    _, first = my_code(client, scene)
    clock.advance(seconds=301)
    _, second = my_code(client, scene)
    assert first != second
    assert error_code(verify(client, officer, first)) == "code_expired"
    assert verify(client, officer, second).status_code == 200


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="forged-signature"),
    pytest.param(lambda t: t[:-5], id="truncated"),
    pytest.param(lambda t: t.split(".")[0], id="payload-only"),
    pytest.param(lambda t: base64.urlsafe_b64encode(b'{"s":999}').decode().rstrip("=") + "." + t.split(".", 1)[1],
                 id="payload-swapped"),
    pytest.param(lambda t: URLSafeTimedSerializer("someone-elses-key", salt="status-code-v1").dumps({"s": 1}),
                 id="signed-with-another-key"),
    pytest.param(lambda t: "CQ1.1.1.AAAAAAAAAAAAAAAAAAAAAA", id="a-station-code"),
    pytest.param(lambda t: "hello", id="garbage"),
])
def test_forged_or_damaged_codes_are_invalid(client, scene, officer, tamper):
    _, token = my_code(client, scene)
    response = verify(client, officer, tamper(token))
    assert (response.status_code, error_code(response)) == (422, "code_invalid")


def test_another_offices_officer_cannot_read_the_code(client, make, auth, scene):
    stranger = auth.officer(make.officer(make.office()))
    _, token = my_code(client, scene)
    response = verify(client, stranger, token)
    assert (response.status_code, error_code(response)) == (404, "supervisee_not_found")
    assert scene.person.supervisee.name not in response.get_data(as_text=True)


def test_a_bureau_supervisor_can_read_the_code(client, make, auth, scene):
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=scene.office.bureau_id))
    _, token = my_code(client, scene)
    assert verify(client, supervisor, token).get_json()["supervisee_id"] == scene.person_id


def test_only_supervisees_show_codes_and_only_officers_verify_them(client, scene, officer):
    assert client.get(f"{API}/me/code.png", headers=officer).status_code == 403
    assert client.get(f"{API}/me/code.png").status_code == 401
    _, token = my_code(client, scene)
    assert verify(client, scene.phone, token).status_code == 403
    assert client.post(VERIFY, json={"token": token}).status_code == 401


def test_verifying_a_code_is_audited(client, app, scene, officer):
    _, token = my_code(client, scene)
    assert verify(client, officer, token).status_code == 200
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT actor_type, actor_id, target_type, target_id, outcome FROM audit_entries"
            " WHERE action = 'status_code.verify'")).all()
    assert [tuple(r) for r in rows] == [("officer", scene.officer.officer.id, "supervisee", scene.person_id, "ok")]
