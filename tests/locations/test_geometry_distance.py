"""The one place distances are measured: geopy's geodesic, its vectorised fast path, and that path for one point."""
from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from geopy.distance import geodesic
from hypothesis import given, settings, strategies as st

from correction.database import db
from correction.locations.geometry import (compile_zone, distance_m, great_circle_m, great_circle_sql,
                                             haversine_m)

lat = st.floats(min_value=18.0, max_value=54.0)   # China, Hainan to Heilongjiang
lon = st.floats(min_value=73.0, max_value=135.0)
offset = st.floats(min_value=-2.0, max_value=2.0)


def test_distance_is_the_geodesic():
    assert distance_m(29.0833, 119.6490, 29.0842, 119.6490) == geodesic((29.0833, 119.6490), (29.0842, 119.6490)).meters
    assert round(distance_m(29.0833, 119.6490, 29.0842, 119.6490), 1) == 99.8


@settings(max_examples=300, deadline=None)
@given(lat, lon, offset, offset)
def test_the_fast_path_stays_within_half_a_percent_of_the_geodesic(lat1, lon1, dlat, dlon):
    lat2, lon2 = min(max(lat1 + dlat, -89.0), 89.0), lon1 + dlon
    exact = distance_m(lat1, lon1, lat2, lon2)
    fast = float(haversine_m(np.array([lat1]), np.array([lon1]), lat2, lon2)[0])
    assert abs(fast - exact) <= 0.005 * exact + 0.01


@settings(max_examples=300, deadline=None)
@given(lat, lon, offset, offset)
def test_one_pair_in_plain_floats_is_the_array_path(lat1, lon1, dlat, dlon):
    lat2, lon2 = min(max(lat1 + dlat, -89.0), 89.0), lon1 + dlon
    one = great_circle_m(lat1, lon1, lat2, lon2)
    assert isinstance(one, float)
    assert one == pytest.approx(float(haversine_m(np.array([lat1]), np.array([lon1]), lat2, lon2)[0]), abs=1e-6)


@pytest.mark.postgresql_only
def test_the_great_circle_in_sql_is_the_one_in_python(app):
    """A statement that measures a step itself (single._USUAL_FIX) answers as judging would, to far less than
    the margin it keeps from the speed limit (one part in a million)."""
    rng = np.random.default_rng(7)
    lat1, lon1 = rng.uniform(18, 54, 500), rng.uniform(73, 135, 500)
    lat2, lon2 = lat1 + rng.uniform(-2, 2, 500), lon1 + rng.uniform(-2, 2, 500)
    lat2[:100], lon2[:100] = lat1[:100] + rng.uniform(-1e-4, 1e-4, 100), lon1[:100]  # steps of metres too
    with app.app_context():
        measured = db.session.execute(sa.text(
            "SELECT " + great_circle_sql("a", "b", "c", "d") + " FROM unnest(CAST(:a AS float8[]), "
            "CAST(:b AS float8[]), CAST(:c AS float8[]), CAST(:d AS float8[])) WITH ORDINALITY AS p (a, b, c, d, n) "
            "ORDER BY n"),
            {"a": lat1.tolist(), "b": lon1.tolist(), "c": lat2.tolist(), "d": lon2.tolist()}).scalars().all()
    expected = [great_circle_m(*pair) for pair in zip(lat1.tolist(), lon1.tolist(), lat2.tolist(), lon2.tolist())]
    assert len(measured) == 500
    for sql, python in zip(measured, expected):
        assert abs(sql - python) <= 1e-9 * python + 1e-6


PENTAGON = {"type": "Polygon", "coordinates": [[[119.42, 28.86], [119.58, 28.83], [119.74, 28.9], [119.77, 29.05],
                                                 [119.58, 29.21], [119.4, 29.02], [119.42, 28.86]]]}
RING = {"type": "Circle", "center": [119.6447, 29.0868], "radius_m": 250}
near = st.floats(min_value=-0.3, max_value=0.3)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([PENTAGON, RING]), near, near)
def test_one_points_signed_distance_is_the_array_paths(geometry, dlat, dlon):
    shape = compile_zone(geometry)
    lat1, lon1 = 29.05 + dlat, 119.62 + dlon
    one = shape.signed_distance(lat1, lon1)
    assert isinstance(one, float)
    assert one == pytest.approx(float(shape.signed_distances(np.array([lat1]), np.array([lon1]))[0]), abs=1e-6)


def _star(points: int, spikes: int) -> dict:
    """A county-like boundary: ``points`` vertices, ``spikes`` deep concave bays (the hard case for shrinking)."""
    import math
    ring = []
    for i in range(points):
        angle = 2 * math.pi * i / points
        r = 0.15 * (1 - 0.35 * (0.5 + 0.5 * math.cos(spikes * angle)) ** 8)
        ring.append([round(119.6 + r * math.cos(angle), 6), round(29.0 + 0.9 * r * math.sin(angle), 6)])
    return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


STAR = compile_zone(_star(1200, 9))
SMALL_SQUARE = compile_zone({"type": "Polygon", "coordinates": [[[119.6, 29.0], [119.602, 29.0], [119.602, 29.002],
                                                                   [119.6, 29.002], [119.6, 29.0]]]})


def _side(distance: float, accuracy: float) -> str | None:
    return "outside" if distance > accuracy else "inside" if distance < -accuracy else None


def test_the_core_of_a_polygon_lies_more_than_clear_m_inside_it_even_in_its_bays():
    from correction.locations.geometry import CLEAR_M
    assert STAR.core is not None and SMALL_SQUARE.core is None  # 200 m across: nothing left once shrunk
    xs, ys = np.meshgrid(np.linspace(STAR.bounds[0], STAR.bounds[2], 160), np.linspace(STAR.bounds[1], STAR.bounds[3], 160))
    import shapely
    core = shapely.contains_xy(STAR.core, xs.ravel(), ys.ravel())
    assert core.sum() > 5000
    depth = shapely.distance(STAR.boundary, shapely.points(xs.ravel()[core], ys.ravel()[core]))
    assert depth.min() > CLEAR_M


@settings(max_examples=400, deadline=None)
@given(st.floats(-0.2, 0.2), st.floats(-0.2, 0.2), st.floats(1.0, 2500.0), st.sampled_from([STAR, SMALL_SQUARE]))
def test_a_side_told_without_measuring_is_the_side_measured(dlat, dlon, accuracy, zone):
    lat1, lon1 = 29.0 + dlat, 119.6 + dlon
    exact = zone.signed_distance(lat1, lon1)
    assert _side(zone.signed_distance(lat1, lon1, clear_of=accuracy), accuracy) == _side(exact, accuracy)
    many = zone.signed_distances(np.array([lat1, lat1 + 0.001]), np.array([lon1, lon1]),
                                 clear_of=np.array([accuracy, 10.0]))
    assert _side(float(many[0]), accuracy) == _side(exact, accuracy)
    assert _side(float(many[1]), 10.0) == _side(zone.signed_distance(lat1 + 0.001, lon1), 10.0)
    measured = zone.signed_distances(np.array([lat1]), np.array([lon1]))
    assert float(measured[0]) == pytest.approx(exact, abs=1e-6)
