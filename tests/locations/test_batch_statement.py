"""The app's batch upload: one statement on PostgreSQL besides authentication, the same answers everywhere."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction import database
from correction.database import db
from correction.locations.models import LocationFix, ZoneState
from correction.people.models import Device
from tests.assertions import alerts
from tests.factories import INSIDE, INSIDE_2, OUTSIDE, SQUARE, fix, upload, walk


@pytest.fixture
def scene(make):
    return make.scene(officer_login=True, zone=SQUARE)


def statements_of(app, send):
    """The statements ``send()`` runs, and its answer."""
    with app.app_context():
        engine = db.engine
    statements = []
    listener = lambda conn, cursor, statement, *rest: statements.append(" ".join(statement.split()))  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        answer = send()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return statements, answer


@pytest.mark.postgresql_only
def test_a_batch_inside_the_zones_is_stored_and_evaluated_in_one_statement(app, client, clock, scene):
    start = clock() - timedelta(hours=3)
    assert upload(client, scene.phone, walk(start, [INSIDE] * 3)).get_json()["stored"] == 3
    statements, answer = statements_of(app, lambda: upload(
        client, scene.phone, walk(start + timedelta(minutes=10), [INSIDE, INSIDE_2] * 50)))
    assert answer.get_json() == {"stored": 100, "skipped": 0, "refused": []}
    token, ours = statements  # the token's read (with its holder), then the batch's one statement
    assert "FROM auth_tokens" in token and "INSERT INTO location_fixes" in ours, statements
    with app.app_context():
        state = db.session.execute(sa.select(ZoneState).where(ZoneState.supervisee_id == scene.person_id)
                                   ).scalar_one()
    assert (state.state, state.candidate, state.last_fix_at) == ("inside", None, start + timedelta(minutes=109))


@pytest.mark.postgresql_only
def test_the_usual_batch_opens_no_orm_session_and_gives_its_connection_back(app, client, clock, scene, monkeypatch):
    start = clock() - timedelta(hours=3)
    assert upload(client, scene.phone, walk(start, [INSIDE] * 3)).get_json()["stored"] == 3
    opened = []
    real_init = database.Session.__init__
    monkeypatch.setattr(database.Session, "__init__",
                        lambda self, *a, **kw: (opened.append(1), real_init(self, *a, **kw)))
    answer = upload(client, scene.phone, walk(start + timedelta(minutes=10), [INSIDE, INSIDE_2] * 5))
    assert answer.get_json() == {"stored": 10, "skipped": 0, "refused": []}
    assert opened == []
    monkeypatch.undo()
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
        assert db.session.execute(sa.select(sa.func.count()).select_from(LocationFix).where(
            LocationFix.supervisee_id == scene.person_id)).scalar_one() == 13


def test_a_batch_with_a_refusal_notes_it_on_the_phone_in_the_same_transaction(app, client, clock, scene):
    """A refusal is written through the session, which takes the request's connection over: both commit."""
    start = clock() - timedelta(hours=2)
    sent = walk(start, [INSIDE] * 3) + [{"recorded_at": start.isoformat(), "lat": 99, "lon": 0, "accuracy_m": 5}]
    answer = upload(client, scene.phone, sent).get_json()
    assert (answer["stored"], [r["index"] for r in answer["refused"]]) == (3, [3])
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
        device = db.session.execute(sa.select(Device).where(Device.supervisee_id == scene.person_id,
                                                            Device.active)).scalar_one()
    assert (device.refused_fixes, device.last_refusal) == (1, "invalid_fix")


def test_a_batch_that_leaves_the_area_is_evaluated_as_ever(app, client, clock, scene):
    start = clock() - timedelta(hours=1)
    assert upload(client, scene.phone, walk(start, [INSIDE] * 3)).get_json()["stored"] == 3
    assert upload(client, scene.phone, walk(start + timedelta(minutes=10), [INSIDE, OUTSIDE, OUTSIDE, OUTSIDE],
                                            minutes=10)).get_json()["stored"] == 4
    assert [a.type for a in alerts(app, scene.person_id)] == ["zone_exit"]


def test_of_two_fixes_at_one_instant_the_first_is_stored_and_evaluated(app, client, clock, scene):
    at = clock() - timedelta(minutes=30)
    answer = upload(client, scene.phone, [fix(at, INSIDE), fix(at, OUTSIDE), fix(at + timedelta(minutes=1), INSIDE)])
    assert answer.get_json() == {"stored": 2, "skipped": 1, "refused": []}
    with app.app_context():
        stored = db.session.execute(sa.select(LocationFix.lat, LocationFix.lon).where(
            LocationFix.supervisee_id == scene.person_id).order_by(LocationFix.recorded_at)).all()
    assert [tuple(row) for row in stored] == [INSIDE, INSIDE]
    assert alerts(app, scene.person_id) == []


def test_every_field_of_a_batch_is_stored_exactly_as_sent(app, client, clock, scene):
    # Floats that no short decimal writes, microseconds, the nulls and the mock flag: the batch goes to
    # PostgreSQL as one JSON text, and nothing may be rounded or dropped on the way.
    at = (clock() - timedelta(minutes=20)).replace(microsecond=123456)
    sent = [
        {"recorded_at": at.isoformat(), "lat": 29.06 + 1e-13, "lon": 119.61 + 0.1 + 0.2, "accuracy_m": 7.3,
         "speed_mps": 1 / 3, "heading": 359.99999999, "altitude_m": -12.5, "battery": 99.9, "is_mock": False},
        {"recorded_at": (at + timedelta(seconds=30)).isoformat(), "lat": 29.060001, "lon": 119.610001,
         "accuracy_m": 1e-3, "is_mock": True},
    ]
    assert upload(client, scene.phone, sent).get_json() == {"stored": 2, "skipped": 0, "refused": []}
    with app.app_context():
        stored = db.session.execute(sa.select(LocationFix).where(LocationFix.supervisee_id == scene.person_id)
                                    .order_by(LocationFix.recorded_at)).scalars().all()
    assert [(f.recorded_at, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.heading, f.altitude_m, f.battery, f.is_mock,
             f.source) for f in stored] == [
        (at, 29.06 + 1e-13, 119.61 + 0.1 + 0.2, 7.3, 1 / 3, 359.99999999, -12.5, 99.9, False, "app"),
        (at + timedelta(seconds=30), 29.060001, 119.610001, 1e-3, None, None, None, None, True, "app")]
