"""The one place distances are measured: geopy's geodesic, and its vectorised fast path."""
from __future__ import annotations

import numpy as np
from geopy.distance import geodesic
from hypothesis import given, settings, strategies as st

from correction.locations.geometry import distance_m, haversine_m

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
