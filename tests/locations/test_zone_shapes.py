"""Zone shapes kept by each application: a fix's statement leaves out the geometry of the zones held.

A zone's geometry never changes (the database refuses it), so a shape compiled once stays right for
its zone id; a new zone comes with its geometry at the next fix, and a shape pushed out of the bounded
cache is read again rather than missed.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.database import DriverStatement, db
from correction.locations import settle, single
from correction.locations.geometry import compile_zone
from correction.locations.models import Zone
from correction.locations.judging import ActiveZone
from correction.locations.shapes import Known, ZoneShapes
from tests.assertions import alerts
from tests.factories import INSIDE, SQUARE
from tests.locations.test_single_fix import FAR_FROM_SMALL, SMALL, osmand, phone  # noqa: F401 (fixture)

CIRCLE = '{"type": "Circle", "center": [119.6, 29.0], "radius_m": 300}'


def test_a_held_shape_is_named_for_its_sender_and_given_back_without_its_geometry(app):
    shapes = ZoneShapes()
    with app.app_context():
        first = shapes.resolve(db.session, "a", [(7, CIRCLE)])
        assert shapes.held_for("a") == [7] and shapes.held_for("b") == []
        assert shapes.resolve(db.session, "a", [(7, None)]) == first
        assert first[7].radius_m == 300.0


def test_a_shape_pushed_out_is_no_longer_claimed_and_is_read_again_if_needed(app, make):
    scene = make.scene(officer_login=True, phone=False, zone=SQUARE)
    with app.app_context():
        zone_id = db.session.execute(sa.select(Zone.id).where(Zone.supervisee_id == scene.person_id)).scalar_one()
        shapes = ZoneShapes(max_shapes=1)
        shapes.resolve(db.session, "a", [(zone_id, None)])  # not held: read from the database
        assert shapes.held_for("a") == [zone_id]
        shapes.resolve(db.session, "b", [(99, CIRCLE)])  # pushes the first one out
        assert shapes.held_for("a") == []
        again = shapes.resolve(db.session, "a", [(zone_id, None)])  # asked for as held all the same
        assert again[zone_id] == compile_zone(SQUARE)


def test_the_senders_remembered_are_bounded():
    shapes = ZoneShapes(max_senders=2)
    for sender in "abc":
        shapes.resolve(None, sender, [(1, CIRCLE)])
    assert [shapes.held_for(s) for s in "abc"] == [[], [1], [1]]


def test_what_a_senders_last_statement_read_is_kept_until_their_next_statement(app):
    shapes = ZoneShapes()
    with app.app_context():
        compiled = shapes.resolve(db.session, "a", [(7, CIRCLE)])
    zone = ActiveZone(7, "permitted", "辖区", compiled[7], None, None)
    shapes.remember("a", Known(1, (zone,), "f"))
    shapes.remember("b", Known(2, (zone,), "f"))  # no statement of b's read those zones: nothing kept
    assert shapes.known("a") == Known(1, (zone,), "f") and shapes.known("b") is None
    shapes.remember("a", Known(1, (), "g"))  # not the zones of a's last statement
    assert shapes.known("a") == Known(1, (zone,), "f")
    shapes.resolve(None, "a", [(7, None)])  # a's next statement: judged again before it is kept again
    assert shapes.known("a") is None and shapes.held_for("a") == [7]


def test_what_is_kept_of_a_sender_does_not_outlive_its_zones_shapes(app):
    shapes = ZoneShapes(max_shapes=1)
    with app.app_context():
        compiled = shapes.resolve(db.session, "a", [(7, CIRCLE)])
    shapes.remember("a", Known(1, (ActiveZone(7, "permitted", "辖区", compiled[7], None, None),), "f"))
    assert shapes.known("a").zones[0].shape is compiled[7]
    shapes.resolve(None, "b", [(8, CIRCLE)])  # pushes zone 7's shape out
    assert shapes.known("a") is None


def test_the_database_refuses_to_change_a_zones_geometry_but_not_the_rest(app, make):
    scene = make.scene(officer_login=True, phone=False, zone=SQUARE)
    with app.app_context():
        zone = db.session.execute(sa.select(Zone).where(Zone.supervisee_id == scene.person_id)).scalar_one()
        zone.active, zone.name = False, "旧辖区"
        db.session.commit()
        zone.geometry = SMALL
        with pytest.raises(sa.exc.DatabaseError, match="geometry cannot change"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(Zone, zone.id).geometry == SQUARE


@pytest.mark.postgresql_only
def test_a_fixs_statement_sends_a_zones_geometry_once_to_an_application(app, client, make, phone, clock):  # noqa: F811
    scene, key = phone
    read = []
    original = DriverStatement.one_or_none

    def spy(self, session, params):
        row = original(self, session, params)
        if self is single._ONE_FIX:  # not single._USUAL_FIX, which reads no zone but their fingerprint
            read.append([z[3] is not None for z in settle.read(row).zones or []])
        return row
    start = clock() - timedelta(minutes=30)
    DriverStatement.one_or_none = spy
    try:
        for minute in range(3):
            assert osmand(client, key, start + timedelta(minutes=minute), INSIDE).status_code == 200
        make.zone(scene, SMALL, kind="exclusion", name="学校")
        for minute in range(3, 5):
            assert osmand(client, key, start + timedelta(minutes=minute), FAR_FROM_SMALL).status_code == 200
    finally:
        DriverStatement.one_or_none = original
    # The third fix is judged before it is sent and stored by _USUAL_FIX (the first two confirm where the
    # person is); the new zone's first two fixes are not the usual case until the zone's state is confirmed.
    assert read == [[True], [False], [False, True], [False, False]]
    assert alerts(app, scene.person_id) == []
