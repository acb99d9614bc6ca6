"""The one place distances are measured: geopy's geodesic, its vectorised fast path, and that path for one point."""
from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import given, settings, strategies as st

from correction.locations.geometry import compile_zone, distance_m, great_circle_m, haversine_m

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
