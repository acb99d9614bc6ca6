"""Zones: officers manage permitted areas and exclusion zones; fixes move a per-supervisee
state machine that is accuracy-aware and confirms a change after 2 fixes or 5 minutes.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.database import db
from correction.locations.models import Zone, ZoneState
from correction.time import iso_z
from tests.assertions import alerts, error_of, stored_fixes, zone_events
from tests.factories import API, INSIDE, INSIDE_2, OUTSIDE, SQUARE, add_zone, east_of_edge, fix, upload, walk

SCHOOL = {"type": "Circle", "center": [119.65, 29.05], "radius_m": 200}  # an exclusion zone around INSIDE
NEAR_SCHOOL = (29.06, 119.65)  # ~1.1 km north of the school, inside the square


@pytest.fixture
def scene(make):
    """An office, its officer (logged in), and a supervisee logged in on their phone whose
    permitted area is the square around Jinhua."""
    return make.scene(officer_login=True, zone=SQUARE)


def zone_list(client, scene):
    response = client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers)
    assert response.status_code == 200
    return response.get_json()["items"]


def exits(app, scene):
    return alerts(app, scene.person_id, "zone_exit")


# --- managing zones ----------------------------------------------------------------------------

def test_an_officer_sets_the_permitted_area_and_adds_exclusion_zones(client, app, clock, scene):
    created = add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL)
    assert created.status_code == 201
    body = created.get_json()
    assert {k: body[k] for k in ("supervisee_id", "kind", "name", "geometry", "active", "leave_request_id")} == {
        "supervisee_id": scene.person_id, "kind": "exclusion", "name": "学校", "geometry": SCHOOL,
        "active": True, "leave_request_id": None}
    assert body["created_at"] == iso_z(clock())
    listed = zone_list(client, scene)
    assert [(z["kind"], z["name"]) for z in listed] == [("permitted", "辖区"), ("exclusion", "学校")]
    assert listed[0]["geometry"] == SQUARE


def test_a_new_permitted_area_replaces_the_old_one_but_not_the_exclusion_zones(client, app, scene):
    add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL)
    bigger = {"type": "Circle", "center": [119.65, 29.05], "radius_m": 30_000}
    assert add_zone(client, scene.headers, scene.person_id, "permitted", "大辖区", bigger).status_code == 201
    assert sorted((z["kind"], z["name"]) for z in zone_list(client, scene)) == \
        [("exclusion", "学校"), ("permitted", "大辖区")]
    with app.app_context():
        rows = db.session.execute(sa.select(Zone.name, Zone.active).where(Zone.supervisee_id == scene.person_id)
                                  .order_by(Zone.id)).all()
    assert [tuple(r) for r in rows] == [("辖区", False), ("学校", True), ("大辖区", True)]


def test_exclusion_zones_accumulate(client, scene):
    for n in range(3):
        add_zone(client, scene.headers, scene.person_id, "exclusion", f"禁区{n}",
                 {"type": "Circle", "center": [119.61 + n / 100, 29.01], "radius_m": 100})
    assert [z["name"] for z in zone_list(client, scene) if z["kind"] == "exclusion"] == ["禁区0", "禁区1", "禁区2"]


def test_a_multipolygon_is_a_valid_zone(client, scene):
    two = {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"],
                                                   [[[120.0, 29.0], [120.1, 29.0], [120.1, 29.1], [120.0, 29.0]]]]}
    assert add_zone(client, scene.headers, scene.person_id, "permitted", "两块", two).status_code == 201


def test_deleting_a_zone_retires_it(client, app, scene):
    zone_id = add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL).get_json()["id"]
    deleted = client.delete(f"{API}/zones/{zone_id}", headers=scene.headers)
    assert deleted.status_code == 204
    assert [z["name"] for z in zone_list(client, scene)] == ["辖区"]
    error_of(client.delete(f"{API}/zones/{zone_id}", headers=scene.headers), 404)
    error_of(client.delete(f"{API}/zones/999999", headers=scene.headers), 404)


BOWTIE = {"type": "Polygon", "coordinates": [[[119.6, 29.0], [119.7, 29.1], [119.7, 29.0], [119.6, 29.1],
                                               [119.6, 29.0]]]}


@pytest.mark.parametrize("geometry", [
    BOWTIE,
    {"type": "MultiPolygon", "coordinates": [BOWTIE["coordinates"]]},
    {"type": "Polygon", "coordinates": [[[119.6, 29.0], [119.7, 29.0], [119.7, 29.1], [119.6, 29.1]]]},  # open
    {"type": "Polygon", "coordinates": [[[119.6, 29.0], [119.7, 29.0], [119.6, 29.0]]]},
    {"type": "Polygon", "coordinates": []},
    {"type": "Polygon", "coordinates": [[[119.6, 29.0], [119.7, 29.0], [119.8, 29.0], [119.6, 29.0]]]},  # flat
    {"type": "Polygon", "coordinates": [[["east", "north"], [119.7, 29.0], [119.7, 29.1], [119.6, 29.0]]]},
    {"type": "Polygon", "coordinates": [[[200, 29.0], [119.7, 29.0], [119.7, 29.1], [200, 29.0]]]},
    {"type": "Polygon"},
    {"type": "Point", "coordinates": [119.6, 29.0]},
    {"type": "LineString", "coordinates": [[119.6, 29.0], [119.7, 29.0]]},
    {"type": "Feature", "geometry": SQUARE},
    {"coordinates": SQUARE["coordinates"]},
    {"type": "Circle", "center": [119.6, 95], "radius_m": 100},
    {"type": "Circle", "center": [119.6], "radius_m": 100},
    {"type": "Circle", "center": [119.6, 29.0], "radius_m": 0},
    {"type": "Circle", "center": [119.6, 29.0], "radius_m": -5},
    {"type": "Circle", "center": [119.6, 29.0], "radius_m": 10_000_000},
    {"type": "Circle", "center": [119.6, 29.0], "radius_m": True},
    {"type": "Circle", "center": [119.6, 29.0], "radius_m": "100"},
    {"type": "Circle", "center": [119.6, 29.0]},
    {"type": "Circle", "center": [119.6, 29.0], "radius_m": 100, "srid": 4326},
], ids=lambda g: str(g)[:60])
def test_unusable_geojson_is_422_invalid_geometry_and_nothing_changes(client, app, scene, geometry):
    error = error_of(add_zone(client, scene.headers, scene.person_id, "permitted", "坏", geometry), 422)
    assert error["code"] == "invalid_geometry"
    assert [(f["path"], f["code"]) for f in error["details"]["fields"]] == [("geometry", "invalid_geometry")]
    assert [z["name"] for z in zone_list(client, scene)] == ["辖区"]  # the old area still stands


def test_a_self_crossing_polygon_says_so(client, scene):
    error = error_of(add_zone(client, scene.headers, scene.person_id, "exclusion", "x", BOWTIE), 422)
    assert "Self-intersection" in error["message"]


@pytest.mark.parametrize("body", [{"kind": "nearby", "name": "x", "geometry": SQUARE},
                                  {"kind": "permitted", "name": "", "geometry": SQUARE},
                                  {"kind": "permitted", "name": "x", "geometry": "POLYGON((0 0,1 0,1 1,0 0))"},
                                  {"kind": "permitted", "name": "x"}])
def test_a_zone_body_that_does_not_fit_is_422(client, scene, body):
    response = client.post(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.headers, json=body)
    error_of(response, 422)


def test_another_office_sees_no_zones_and_changes_none(client, app, make, auth, scene):
    zone_id = zone_list(client, scene)[0]["id"]
    stranger = auth.officer(make.officer(make.office()))
    assert error_of(client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=stranger), 404)
    error_of(add_zone(client, stranger, scene.person_id, "permitted", "x", SQUARE), 404)
    error_of(client.delete(f"{API}/zones/{zone_id}", headers=stranger), 404)
    assert [z["id"] for z in zone_list(client, scene)] == [zone_id]


def test_a_bureau_supervisor_manages_zones_of_every_office(client, make, auth, scene):
    supervisor = auth.officer(make.officer(role="supervisor", bureau_id=scene.office.bureau_id))
    assert client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=supervisor).status_code == 200
    assert add_zone(client, supervisor, scene.person_id, "exclusion", "网吧", SCHOOL).status_code == 201


def test_supervisees_do_not_manage_zones(client, scene):
    assert add_zone(client, scene.phone, scene.person_id, "permitted", "x", SQUARE).status_code == 403
    assert client.get(f"{API}/supervisees/{scene.person_id}/zones", headers=scene.phone).status_code == 403


# --- the permitted area --------------------------------------------------------------------------

def test_an_exit_a_return_and_a_new_exit_are_three_events_and_two_alerts(client, app, clock, scene):
    t = clock() - timedelta(hours=2)
    points = [INSIDE, INSIDE, OUTSIDE, OUTSIDE, OUTSIDE, INSIDE, INSIDE, OUTSIDE, OUTSIDE]
    upload(client, scene.phone, walk(t, points, minutes=2))
    assert [(e.event, e.zone_key, e.at) for e in zone_events(app, scene.person_id)] == [
        ("exit", "permitted", t + timedelta(minutes=6)),   # the 2nd fix outside confirms
        ("return", "permitted", t + timedelta(minutes=12)),
        ("exit", "permitted", t + timedelta(minutes=16))]
    found = exits(app, scene)
    assert [a.subject_key for a in found] == ["permitted:1", "permitted:2"]
    assert found[0].evidence["recorded_at"] == iso_z(t + timedelta(minutes=6))
    assert found[0].evidence["zones"] == ["辖区"]
    assert 4700 < found[0].evidence["metres_from_edge"] < 5100
    # the officer sees them on the timeline
    timeline = client.get(f"{API}/supervisees/{scene.person_id}/timeline?limit=200", headers=scene.headers)
    zone_items = [i for i in timeline.get_json()["items"] if i["type"] == "zone_event"]
    assert [i["data"]["event"] for i in zone_items] == ["exit", "return", "exit"]  # newest first
    assert zone_items[0]["at"] == iso_z(t + timedelta(minutes=16))


def test_resending_the_fixes_of_an_exit_never_duplicates_it(client, app, clock, scene):
    batch = walk(clock() - timedelta(hours=1), [INSIDE, OUTSIDE, OUTSIDE, OUTSIDE])
    for _ in range(3):
        upload(client, scene.phone, batch)
    assert len(exits(app, scene)) == 1
    assert [e.event for e in zone_events(app, scene.person_id)] == ["exit"]


def test_a_single_stray_fix_outside_is_not_an_exit(client, app, clock, scene):
    upload(client, scene.phone, walk(clock() - timedelta(hours=1), [INSIDE, OUTSIDE, INSIDE, OUTSIDE, INSIDE]))
    assert exits(app, scene) == []
    assert zone_events(app, scene.person_id) == []


def test_two_fixes_outside_confirm_an_exit_even_if_uploaded_one_at_a_time(client, app, clock, scene):
    t = clock() - timedelta(minutes=30)
    upload(client, scene.phone, [fix(t, INSIDE)])
    upload(client, scene.phone, [fix(t + timedelta(seconds=20), OUTSIDE)])
    assert exits(app, scene) == []
    upload(client, scene.phone, [fix(t + timedelta(seconds=40), OUTSIDE)])
    assert len(exits(app, scene)) == 1


@pytest.mark.parametrize("metres_out, accuracy, exit_", [(30, 50, False), (30, 10, True), (60, 50, True),
                                                         (-30, 10, False), (49, 50, False)])
def test_outside_counts_only_beyond_the_fix_s_accuracy(client, app, clock, scene, metres_out, accuracy, exit_):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, [fix(t, INSIDE)] + walk(t + timedelta(minutes=1), [east_of_edge(metres_out)] * 8,
                                                         accuracy=accuracy))
    assert bool(exits(app, scene)) is exit_


def test_near_the_edge_inside_by_less_than_the_accuracy_is_not_a_return(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t, [OUTSIDE, OUTSIDE] + [east_of_edge(-30)] * 4, accuracy=50))
    assert [e.event for e in zone_events(app, scene.person_id)] == ["exit"]
    upload(client, scene.phone, walk(t + timedelta(minutes=10), [east_of_edge(-30)] * 2, accuracy=10))
    assert [e.event for e in zone_events(app, scene.person_id)] == ["exit", "return"]


def test_someone_already_outside_when_evaluation_starts_is_caught(client, app, clock, scene):
    upload(client, scene.phone, walk(clock() - timedelta(minutes=10), [OUTSIDE, OUTSIDE]))
    (alert,) = exits(app, scene)
    assert alert.subject_key == "permitted:1"
    assert [e.event for e in zone_events(app, scene.person_id)] == ["exit"]


def test_someone_inside_when_evaluation_starts_makes_no_event(client, app, clock, scene):
    upload(client, scene.phone, walk(clock() - timedelta(minutes=10), [INSIDE, INSIDE_2, INSIDE]))
    assert zone_events(app, scene.person_id) == []
    with app.app_context():
        state = db.session.get(ZoneState, (scene.person_id, "permitted"))
        assert (state.state, state.episode, state.candidate) == ("inside", 0, None)


def test_zone_state_is_kept_per_supervisee(client, app, make, auth, clock, scene):
    other_login = make.supervisee(scene.office)
    other = auth.supervisee(other_login)
    add_zone(client, scene.headers, other_login.supervisee.id, "permitted", "辖区", SQUARE)
    t = clock() - timedelta(hours=1)
    # each has one stray fix outside; together they would be "two consecutive"
    upload(client, scene.phone, [fix(t, INSIDE), fix(t + timedelta(minutes=1), OUTSIDE)])
    upload(client, other, [fix(t, INSIDE), fix(t + timedelta(minutes=2), OUTSIDE)])
    upload(client, scene.phone, [fix(t + timedelta(minutes=3), INSIDE)])
    assert alerts(app, type="zone_exit") == []


def test_a_fix_older_than_the_last_evaluated_one_is_stored_but_does_not_rewrite_the_state(client, app, clock, scene):
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t + timedelta(minutes=30), [INSIDE, INSIDE]))
    late = upload(client, scene.phone, walk(t, [OUTSIDE, OUTSIDE, OUTSIDE])).get_json()
    assert late["stored"] == 3
    assert len(stored_fixes(app, scene.person_id)) == 5
    assert exits(app, scene) == []


def test_without_a_permitted_area_nothing_is_an_exit(client, app, make, auth, clock):
    scene = make.scene(officer_login=True)
    upload(client, scene.phone, walk(clock() - timedelta(hours=1), [INSIDE, OUTSIDE, OUTSIDE, OUTSIDE]))
    assert exits(app, scene) == [] and zone_events(app, scene.person_id) == []


def test_a_retired_permitted_area_no_longer_counts(client, app, clock, scene):
    zone_id = zone_list(client, scene)[0]["id"]
    assert client.delete(f"{API}/zones/{zone_id}", headers=scene.headers).status_code == 204
    upload(client, scene.phone, walk(clock() - timedelta(hours=1), [OUTSIDE] * 4))
    assert exits(app, scene) == []


def test_a_bigger_permitted_area_takes_over_at_once(client, app, clock, scene):
    bigger = {"type": "Circle", "center": [119.65, 29.05], "radius_m": 30_000}
    add_zone(client, scene.headers, scene.person_id, "permitted", "大辖区", bigger)
    upload(client, scene.phone, walk(clock() - timedelta(hours=1), [INSIDE, OUTSIDE, OUTSIDE, OUTSIDE]))
    assert exits(app, scene) == []


def test_a_circle_as_permitted_area(client, app, make, auth, clock):
    scene = make.scene(officer_login=True, zone={"type": "Circle", "center": [119.65, 29.05], "radius_m": 1000})
    t = clock() - timedelta(hours=1)
    north = lambda metres: (29.05 + metres / 111_195, 119.65)  # noqa: E731 - metres from the centre
    upload(client, scene.phone, walk(t, [north(0), north(1030), north(1030)], accuracy=50))  # 30 m out, ±50 m
    assert exits(app, scene) == []
    upload(client, scene.phone, walk(t + timedelta(minutes=5), [north(1100), north(1100)], accuracy=50))
    assert len(exits(app, scene)) == 1


def test_any_part_of_a_multipolygon_is_inside_and_its_holes_are_outside(client, app, make, auth, clock):
    east = [[[120.00, 29.00], [120.10, 29.00], [120.10, 29.10], [120.00, 29.10], [120.00, 29.00]]]
    hole = [[119.64, 29.04], [119.66, 29.04], [119.66, 29.06], [119.64, 29.06], [119.64, 29.04]]
    holed = [SQUARE["coordinates"][0], hole]
    scene = make.scene(officer_login=True, zone={"type": "MultiPolygon", "coordinates": [holed, east]})
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t, [INSIDE_2, (29.05, 120.05), (29.05, 120.05), INSIDE_2]))
    assert exits(app, scene) == []
    upload(client, scene.phone, walk(t + timedelta(minutes=10), [INSIDE, INSIDE]))  # the hole's centre
    assert len(exits(app, scene)) == 1


class TestConfirmationSettings:
    """ZONE_CONFIRM_FIXES and ZONE_CONFIRM_SECONDS: whichever is reached first confirms."""

    @pytest.fixture
    def settings_overrides(self):
        return {"ZONE_CONFIRM_FIXES": 10, "ZONE_CONFIRM_SECONDS": 300}

    def test_five_minutes_outside_confirm_an_exit_before_ten_fixes_do(self, client, app, clock, scene):
        t = clock() - timedelta(hours=1)
        upload(client, scene.phone, [fix(t, INSIDE)] + walk(t + timedelta(minutes=1), [OUTSIDE] * 5))
        assert exits(app, scene) == []  # 5 fixes over 4 minutes
        upload(client, scene.phone, [fix(t + timedelta(minutes=6), OUTSIDE)])
        assert [(e.event, e.at) for e in zone_events(app, scene.person_id)] == [("exit", t + timedelta(minutes=6))]
        assert len(exits(app, scene)) == 1

    def test_one_fix_then_another_five_minutes_later_confirm(self, client, app, clock, scene):
        t = clock() - timedelta(hours=1)
        upload(client, scene.phone, [fix(t, INSIDE), fix(t + timedelta(minutes=1), OUTSIDE)])
        upload(client, scene.phone, [fix(t + timedelta(minutes=6), OUTSIDE)])
        assert len(exits(app, scene)) == 1


class TestConfirmationByFixes:
    @pytest.fixture
    def settings_overrides(self):
        return {"ZONE_CONFIRM_FIXES": 3, "ZONE_CONFIRM_SECONDS": 3600}

    def test_the_number_of_fixes_is_a_setting(self, client, app, clock, scene):
        t = clock() - timedelta(hours=1)
        upload(client, scene.phone, walk(t, [INSIDE, OUTSIDE, OUTSIDE], minutes=0.25))
        assert exits(app, scene) == []
        upload(client, scene.phone, [fix(t + timedelta(minutes=1), OUTSIDE)])
        assert len(exits(app, scene)) == 1


# --- exclusion zones ------------------------------------------------------------------------------

def test_entering_an_exclusion_zone_raises_one_alert_however_long_one_stays(client, app, clock, scene):
    zone_id = add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL).get_json()["id"]
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t, [NEAR_SCHOOL] + [INSIDE] * 10))
    (alert,) = alerts(app, scene.person_id, "exclusion_entry")
    assert alert.subject_key == f"exclusion:{zone_id}:1"
    assert alert.evidence["zones"] == ["学校"]
    assert [(e.zone_key, e.event) for e in zone_events(app, scene.person_id)] == [(f"exclusion:{zone_id}", "entry")]
    assert exits(app, scene) == []  # the school is inside the permitted area


def test_leaving_and_entering_again_is_a_second_exclusion_alert(client, app, clock, scene):
    zone_id = add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL).get_json()["id"]
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t, [NEAR_SCHOOL, INSIDE, INSIDE, NEAR_SCHOOL, NEAR_SCHOOL, INSIDE, INSIDE]))
    assert [e.event for e in zone_events(app, scene.person_id)] == ["entry", "departure", "entry"]
    assert [a.subject_key for a in alerts(app, scene.person_id, "exclusion_entry")] == \
        [f"exclusion:{zone_id}:1", f"exclusion:{zone_id}:2"]


def test_a_single_fix_in_an_exclusion_zone_or_one_within_accuracy_is_no_entry(client, app, clock, scene):
    add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL)
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t, [NEAR_SCHOOL, INSIDE, NEAR_SCHOOL]))
    assert alerts(app, scene.person_id, "exclusion_entry") == []
    just_inside = (29.05 + 170 / 111_195, 119.65)  # 30 m inside the 200 m circle
    upload(client, scene.phone, walk(t + timedelta(minutes=5), [just_inside] * 6, accuracy=40))
    assert alerts(app, scene.person_id, "exclusion_entry") == []


def test_each_exclusion_zone_has_its_own_state(client, app, clock, scene):
    school = add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL).get_json()["id"]
    bar = add_zone(client, scene.headers, scene.person_id, "exclusion", "酒吧",
                   {"type": "Circle", "center": [119.62, 29.02], "radius_m": 150}).get_json()["id"]
    t = clock() - timedelta(hours=1)
    upload(client, scene.phone, walk(t, [NEAR_SCHOOL, INSIDE, INSIDE, NEAR_SCHOOL, (29.02, 119.62), (29.02, 119.62)]))
    assert sorted(a.subject_key for a in alerts(app, scene.person_id, "exclusion_entry")) == \
        sorted([f"exclusion:{school}:1", f"exclusion:{bar}:1"])


def test_an_exclusion_zone_retired_no_longer_alerts(client, app, clock, scene):
    zone_id = add_zone(client, scene.headers, scene.person_id, "exclusion", "学校", SCHOOL).get_json()["id"]
    client.delete(f"{API}/zones/{zone_id}", headers=scene.headers)
    upload(client, scene.phone, walk(clock() - timedelta(hours=1), [INSIDE] * 4))
    assert alerts(app, scene.person_id, "exclusion_entry") == []
