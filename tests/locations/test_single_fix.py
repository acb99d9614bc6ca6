"""A real client's single fix: one statement on PostgreSQL in the usual case, and never a stale answer.

The statement reads the key, the zones and the zone states itself, so a zone changed, a key revoked
or a device reset counts for the very next fix; what it read while another evaluator held the
person's lock is not trusted (the person's evaluation count says so) and the evaluator decides.
A fix judged before it is sent (on the zones the application kept from the person's last fix) is
stored by a statement of its own only if everything that made it the usual case still holds.
"""
from __future__ import annotations

import base64
import threading
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from correction import database
from correction.database import db
from correction.locations import service, single
from correction.locations.models import ZoneState
from tests.assertions import alerts, error_of, stored_fixes
from tests.factories import API, INSIDE, INSIDE_2, OUTSIDE, SQUARE

OSMAND = f"{API}/ingest/osmand"
# A square 0.02° wide around INSIDE_2, well away from INSIDE.
SMALL = {"type": "Polygon", "coordinates": [[[119.65, 29.05], [119.67, 29.05], [119.67, 29.07], [119.65, 29.07],
                                             [119.65, 29.05]]]}
FAR_FROM_SMALL = (29.02, 119.62)  # inside SQUARE, ~4 km from SMALL


@pytest.fixture
def phone(client, make):
    """A supervisee with SQUARE as permitted area and an ingest key: (scene, key)."""
    scene = make.scene(officer_login=True, zone=SQUARE)
    issued = client.post(f"{API}/me/ingest-key", headers=scene.phone)
    assert issued.status_code == 201
    return scene, issued.get_json()["ingest_key"]


def osmand(client, key, at, point, **extra):
    return client.get(f"{OSMAND}?" + urlencode({"id": key, "lat": point[0], "lon": point[1], "accuracy": 10,
                                               "timestamp": int(at.timestamp()), **extra}))


def owntracks(client, key, at, point):
    credentials = base64.b64encode(f"phone:{key}".encode()).decode()
    return client.post(f"{API}/ingest/owntracks", headers={"Authorization": f"Basic {credentials}"},
                       json={"_type": "location", "lat": point[0], "lon": point[1], "acc": 10,
                             "tst": int(at.timestamp())})


def permitted_state(app, person_id):
    with app.app_context():
        return db.session.execute(sa.select(ZoneState).where(ZoneState.supervisee_id == person_id,
                                                             ZoneState.zone_key == "permitted")).scalar_one()


@pytest.mark.postgresql_only
def test_a_fix_inside_the_zones_costs_one_statement(app, client, phone, clock):
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    for minute in range(2):  # the first reading is confirmed like any change: two fixes
        assert osmand(client, key, start + timedelta(minutes=minute), INSIDE).status_code == 200
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        assert osmand(client, key, start + timedelta(minutes=2), INSIDE_2).status_code == 200
        assert owntracks(client, key, start + timedelta(minutes=3), INSIDE).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert statements == [single._USUAL_FIX.sql] * 2  # judged before they were sent
    state = permitted_state(app, scene.person_id)
    assert (state.state, state.candidate, state.last_fix_at) == ("inside", None, start + timedelta(minutes=3))
    assert osmand(client, key, start + timedelta(minutes=3), INSIDE).status_code == 200  # sent again
    assert len(stored_fixes(app, scene.person_id)) == 4
    assert permitted_state(app, scene.person_id).last_fix_at == start + timedelta(minutes=3)
    assert alerts(app, scene.person_id) == []


def confirmed_inside(client, key, start):
    """Two fixes that confirm the person inside SQUARE, and a third that the application judges before sending."""
    for minute in range(3):
        assert osmand(client, key, start + timedelta(minutes=minute), INSIDE).status_code == 200


@pytest.mark.postgresql_only
def test_an_impossible_step_inside_the_zones_is_not_taken_for_the_usual_case(app, client, phone, clock):
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    confirmed_inside(client, key, start)
    # ~4.4 km in 60 s (265 km/h, counting both fixes' 10 m) is possible; 1.8 km in 20 s (327 km/h) is not,
    # though not by much. Both well inside SQUARE.
    assert osmand(client, key, start + timedelta(minutes=3), (29.08, 119.68)).status_code == 200
    assert alerts(app, scene.person_id) == []
    assert osmand(client, key, start + timedelta(minutes=3, seconds=20), (29.0965, 119.68)).status_code == 200
    assert [a.type for a in alerts(app, scene.person_id)] == ["impossible_movement"]
    assert len(stored_fixes(app, scene.person_id)) == 5


@pytest.mark.postgresql_only
def test_a_mocked_fix_inside_the_zones_is_not_taken_for_the_usual_case(app, client, phone, clock):
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    confirmed_inside(client, key, start)
    assert osmand(client, key, start + timedelta(minutes=3), INSIDE_2, mock="true").status_code == 200
    assert [a.type for a in alerts(app, scene.person_id)] == ["mock_location"]
    assert [f.is_mock for f in stored_fixes(app, scene.person_id)] == [False, False, False, True]


@pytest.mark.postgresql_only
def test_a_zone_state_moved_by_another_worker_is_not_overlooked(app, client, phone, clock):
    """This application's zones are right, but another worker confirmed an exit: the fix is a candidate return."""
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    confirmed_inside(client, key, start)
    with app.app_context():
        db.session.execute(sa.text("UPDATE zone_states SET state = 'outside', changed_at = :at, last_fix_at = :at "
                                   "WHERE supervisee_id = :id"),
                           {"id": scene.person_id, "at": start + timedelta(minutes=3)})
        db.session.commit()
    assert osmand(client, key, start + timedelta(minutes=4), INSIDE).status_code == 200
    state = permitted_state(app, scene.person_id)
    assert (state.state, state.candidate, state.candidate_count) == ("outside", "inside", 1)
    assert state.last_fix_at == start + timedelta(minutes=4)


@pytest.mark.postgresql_only
def test_a_fix_older_than_the_last_evaluated_is_not_taken_for_the_usual_case(app, client, phone, clock):
    """Inside like the rest, but late: the evaluator replays it; the state's last fix does not go back."""
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    confirmed_inside(client, key, start)
    assert osmand(client, key, start + timedelta(minutes=1, seconds=30), INSIDE_2).status_code == 200
    state = permitted_state(app, scene.person_id)
    assert (state.state, state.candidate, state.last_fix_at) == ("inside", None, start + timedelta(minutes=2))
    assert len(stored_fixes(app, scene.person_id)) == 4


@pytest.mark.postgresql_only
def test_the_usual_fix_opens_no_orm_session_and_gives_its_connection_back(app, client, phone, clock, monkeypatch):
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    for minute in range(2):
        assert osmand(client, key, start + timedelta(minutes=minute), INSIDE).status_code == 200
    opened = []
    real_init = database.Session.__init__
    monkeypatch.setattr(database.Session, "__init__", lambda self, *a, **kw: (opened.append(1), real_init(self, *a, **kw)))
    assert osmand(client, key, start + timedelta(minutes=2), INSIDE_2).status_code == 200
    assert opened == []
    monkeypatch.undo()
    assert [f.recorded_at for f in stored_fixes(app, scene.person_id)][-1] == start + timedelta(minutes=2)
    with app.app_context():
        assert db.engine.pool.checkedout() == 0


def test_a_fix_whose_evaluation_fails_is_not_kept_and_its_retry_is_evaluated(app, client, phone, clock, monkeypatch):
    """The fix and what its evaluation raises are one transaction: a retry is not a duplicate left unjudged."""
    scene, key = phone
    at = clock() - timedelta(minutes=5)

    def broken(*args, **kwargs):
        raise RuntimeError("evaluation broke")

    monkeypatch.setattr(service, "_check_mock", broken)
    assert error_of(osmand(client, key, at, INSIDE, mock="true"), 500)["code"] == "internal_error"
    assert stored_fixes(app, scene.person_id) == [] and alerts(app, scene.person_id) == []
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    monkeypatch.undo()
    assert osmand(client, key, at, INSIDE, mock="true").status_code == 200
    assert [f.recorded_at for f in stored_fixes(app, scene.person_id)] == [at]
    assert [a.type for a in alerts(app, scene.person_id)] == ["mock_location"]


def test_a_changed_permitted_area_counts_for_the_next_fix(app, client, make, phone, clock):
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    for minute in range(2):
        assert osmand(client, key, start + timedelta(minutes=minute), FAR_FROM_SMALL).status_code == 200
    assert alerts(app, scene.person_id) == []
    make.zone(scene, SMALL)  # replaces SQUARE: the phone's place is now ~4 km outside
    for minute in range(2, 4):
        assert osmand(client, key, start + timedelta(minutes=minute), FAR_FROM_SMALL).status_code == 200
    assert [a.type for a in alerts(app, scene.person_id)] == ["zone_exit"]


def test_a_new_exclusion_zone_counts_for_the_next_fix(app, client, make, phone, clock):
    scene, key = phone
    start = clock() - timedelta(hours=1)
    for minute in range(2):
        assert owntracks(client, key, start + timedelta(minutes=minute), FAR_FROM_SMALL).status_code == 200
    make.zone(scene, SMALL, kind="exclusion", name="学校")
    for minute in range(2, 4):
        assert owntracks(client, key, start + timedelta(minutes=minute), FAR_FROM_SMALL).status_code == 200
    assert alerts(app, scene.person_id) == []
    for minute in range(30, 32):  # ~4.5 km away: half an hour later
        assert osmand(client, key, start + timedelta(minutes=minute), INSIDE_2).status_code == 200
    assert [a.type for a in alerts(app, scene.person_id)] == ["exclusion_entry"]


@pytest.mark.parametrize("end", ["revoke", "reset", "logout"])
def test_a_key_ended_after_use_is_refused_at_the_next_fix(client, phone, clock, end):
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    assert osmand(client, key, start, INSIDE).status_code == 200
    assert owntracks(client, key, start + timedelta(minutes=1), INSIDE).status_code == 200
    if end == "revoke":
        assert client.delete(f"{API}/supervisees/{scene.person_id}/ingest-key",
                             headers=scene.headers).status_code == 204
    elif end == "reset":
        assert client.post(f"{API}/supervisees/{scene.person_id}/device/reset",
                           headers=scene.headers).status_code == 200
    else:
        assert client.post(f"{API}/auth/logout", headers=scene.phone).status_code == 204
    refused = osmand(client, key, start + timedelta(minutes=2), INSIDE)
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (400, "unknown_device")
    assert owntracks(client, key, start + timedelta(minutes=3), INSIDE).status_code == 401


def test_single_fixes_raise_what_a_batch_would(app, client, phone, clock):
    scene, key = phone
    start = clock() - timedelta(hours=2)
    moves = [(0, INSIDE), (10, INSIDE_2), (20, OUTSIDE), (30, OUTSIDE), (40, INSIDE), (50, INSIDE)]
    for minute, point in moves:
        assert osmand(client, key, start + timedelta(minutes=minute), point).status_code == 200
    assert [a.type for a in alerts(app, scene.person_id)] == ["zone_exit"]
    # ~24 km in one minute: impossible
    assert osmand(client, key, start + timedelta(minutes=51), (29.05, 119.40)).status_code == 200
    assert osmand(client, key, start + timedelta(minutes=52), INSIDE, mock="true").status_code == 200
    assert sorted(a.type for a in alerts(app, scene.person_id)) == ["impossible_movement", "mock_location",
                                                                   "zone_exit"]


@pytest.mark.postgresql_only
def test_what_another_evaluator_changed_while_the_fix_waited_is_not_overlooked(app, client, phone, clock):
    """The other evaluator saw an outside fix (a candidate exit); this inside fix must end it."""
    scene, key = phone
    start = clock() - timedelta(minutes=10)
    for minute in range(2):
        assert osmand(client, key, start + timedelta(minutes=minute), INSIDE).status_code == 200
    with app.app_context():
        other = db.engine.connect()
    other.execute(service._LOCK_PERSON, {"supervisee_id": scene.person_id})  # another evaluator holds the lock
    other.execute(sa.text("UPDATE zone_states SET candidate = 'outside', candidate_since = :at, candidate_count = 1, "
                          "last_fix_at = :at WHERE supervisee_id = :id"),
                  {"id": scene.person_id, "at": start + timedelta(minutes=2)})
    answers = []

    def send():
        with app.app_context():
            answers.append(osmand(app.test_client(), key, start + timedelta(minutes=3), INSIDE).status_code)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not other.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar_one():
            time.sleep(0.05)
    finally:
        other.commit()
        other.close()
    sender.join(timeout=30)
    assert answers == [200]
    state = permitted_state(app, scene.person_id)
    assert (state.state, state.candidate, state.candidate_count) == ("inside", None, 0)
    assert state.last_fix_at == start + timedelta(minutes=3)
