"""Ids in paths: 1 to MAX_ID, or the path names nothing (404), whatever the method."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from correction.api import decimal_at_most
from correction.schemas import MAX_ID
from tests.factories import API


@given(st.integers(min_value=0, max_value=10**13))
def test_the_id_pattern_admits_exactly_1_to_max_id(number):
    assert bool(re.fullmatch(decimal_at_most(MAX_ID), str(number))) == (1 <= number <= MAX_ID)


@given(st.integers(min_value=1, max_value=10**6))
def test_the_pattern_fits_any_bound(limit):
    pattern = decimal_at_most(limit)
    for number in {0, 1, limit - 1, limit, limit + 1, limit * 10}:
        assert bool(re.fullmatch(pattern, str(number))) == (1 <= number <= limit), (limit, number)


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/officers/{id}/login-locks"), ("GET", "/officers/{id}/login-locks"),
    ("DELETE", "/supervisees/{id}/ingest-key"), ("GET", "/supervisees/{id}/ingest-key"),
    ("DELETE", "/supervisees/{id}/login-locks"),
])
@pytest.mark.parametrize("id_", [MAX_ID + 1, 5568639790, 9999999999])
def test_an_id_beyond_the_range_is_404_also_where_the_path_has_other_methods(client, method, path, id_):
    response = client.open(API + path.format(id=id_), method=method)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "not_found"
