"""A real client's single fix is judged without arrays; the judgement must be the batch path's.

``observations`` (inside or outside each zone) and the impossible-movement check each have a
vectorised form for batches and a plain-float form for one fix. Both must say the same for any fix,
zone set and pair of fixes, or a Traccar Client would be judged differently from the app.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from correction.locations import judging
from correction.locations.geometry import compile_zone
from correction.locations.settle import Fix

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
HOME = {"type": "Polygon", "coordinates": [[[119.42, 28.86], [119.58, 28.83], [119.74, 28.9], [119.77, 29.05],
                                            [119.58, 29.21], [119.4, 29.02], [119.42, 28.86]]]}
AWAY = {"type": "Circle", "center": [119.9, 29.3], "radius_m": 3000}  # a leave's destination
SCHOOL = {"type": "Circle", "center": [119.6447, 29.0868], "radius_m": 250}
ZONES = [judging.ActiveZone(1, "permitted", "home", compile_zone(HOME), None, None),
         judging.ActiveZone(2, "permitted", "leave", compile_zone(AWAY), T0 + timedelta(hours=1),
                            T0 + timedelta(hours=5)),
         judging.ActiveZone(3, "exclusion", "school", compile_zone(SCHOOL), None, None)]
SETTINGS = SimpleNamespace(IMPOSSIBLE_SPEED_KMH=200)

fixes = st.builds(
    lambda dlat, dlon, accuracy, minutes: Fix(7, T0 + timedelta(minutes=minutes), 29.05 + dlat, 119.62 + dlon,
                                              accuracy, False, "osmand"),
    st.floats(-0.3, 0.35), st.floats(-0.3, 0.35), st.floats(1.0, 3000.0), st.integers(0, 400))
zone_sets = st.sampled_from([ZONES, ZONES[2:], ZONES[1:], ZONES[:1]])


@settings(max_examples=400, deadline=None)
@given(fixes, fixes, zone_sets)
def test_one_fixs_observation_is_the_batch_paths(fix, other, zones):
    for key in judging.zone_keys(zones):
        one = judging.observations(zones, key, [fix])[0]
        batch = judging.observations(zones, key, [fix, other])[0]
        assert one[0] == batch[0]
        assert one[1] == (None if batch[1] is None else pytest.approx(batch[1], abs=1e-6))


def test_a_permitted_zone_that_does_not_apply_yet_counts_as_infinitely_far():
    on_leave = Fix(7, T0 + timedelta(hours=2), 29.3, 119.9, 10.0, False, "osmand")
    before_leave = on_leave._replace(recorded_at=T0)
    assert judging.observations(ZONES[1:2], "permitted", [on_leave]) == \
        [judging.observations(ZONES[1:2], "permitted", [on_leave, before_leave])[0]]
    assert judging.observations(ZONES[1:2], "permitted", [before_leave]) == [("outside", None)]
    assert judging.observations(ZONES[2:], "permitted", [on_leave]) == [(None, None)]


@settings(max_examples=400, deadline=None)
@given(fixes, st.floats(-0.5, 0.5), st.floats(-0.5, 0.5), st.floats(1.0, 3000.0), st.integers(-30, 3600))
def test_one_steps_impossible_movement_is_the_batch_paths(before, dlat, dlon, accuracy, seconds):
    after = Fix(8, before.recorded_at + timedelta(seconds=seconds), before.lat + dlat, before.lon + dlon,
                accuracy, False, "osmand")
    assert judging.impossible_move(SETTINGS, before, after) == bool(judging.impossible_moves(SETTINGS,
                                                                                            [before, after])[0][0])


def test_a_jump_across_the_province_in_a_minute_is_impossible_both_ways():
    before = Fix(1, T0, 29.05, 119.62, 10.0, False, "osmand")
    after = Fix(2, T0 + timedelta(minutes=1), 30.25, 120.16, 10.0, False, "osmand")  # Hangzhou, ~140 km
    assert judging.impossible_move(SETTINGS, before, after)
    assert judging.impossible_moves(SETTINGS, [before, after])[0][0]
    assert not judging.impossible_move(SETTINGS, before, after._replace(recorded_at=T0 + timedelta(hours=2)))


@settings(max_examples=300, deadline=None)
@given(st.lists(fixes, min_size=1, max_size=6), zone_sets)
def test_the_sides_a_batch_was_seen_on_are_those_its_observations_name(batch, zones):
    for key in judging.zone_keys(zones):
        named = {seen for seen, _ in judging.observations(zones, key, batch)} - {None}
        assert judging.sides_seen(zones, key, batch) == named


def test_sides_seen_names_both_sides_and_none_for_a_fix_too_vague_to_tell():
    inside, outside = (Fix(7, T0, 29.05, 119.62, 10.0, False, "app"), Fix(8, T0, 29.6, 120.4, 10.0, False, "app"))
    vague = inside._replace(lat=28.86, lon=119.50, accuracy_m=3000.0)  # a few hundred metres from the edge
    assert judging.sides_seen(ZONES[:1], "permitted", [inside, inside]) == {"inside"}
    assert judging.sides_seen(ZONES[:1], "permitted", [inside, outside]) == {"inside", "outside"}
    assert judging.sides_seen(ZONES[:1], "permitted", [vague]) == set()
    assert judging.sides_seen(ZONES[2:], "permitted", [inside, outside]) == set()  # no permitted zone
