"""What an outside probe sent officer endpoints: each is a 422 in the one error shape, never a 500.

Cursors holding Infinity, ids past the columns, times without a zone or at the ends of time;
``since``/``until``/``from``/``to`` at the far edges of time with extreme offsets; weeks whose
Monday or Sunday falls outside the calendar.
"""
from __future__ import annotations

import base64
import json

import pytest

from tests.factories import API
from tests.assertions import error_of

EDGES = ["0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59",
         "9999-12-31T23:59:59.999999Z", "1899-12-31T23:59:59Z", "9000-01-01T00:00:00Z"]


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def cursor(values) -> str:
    return raw_cursor(json.dumps(values))


@pytest.fixture
def scene(make, auth):
    bureau = make.bureau()
    office = make.office(bureau)
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer)
    return person.supervisee, auth.officer(officer), auth.officer(make.officer(role="supervisor", bureau_id=bureau.id))


@pytest.mark.parametrize("value", [
    raw_cursor("[0, \"2026-11-25T02:00:00Z\", Infinity]"), raw_cursor("[Infinity, \"2026-11-25T02:00:00Z\", 1]"),
    raw_cursor("[0, \"2026-11-25T02:00:00Z\", NaN]"), cursor([0, "2026-11-25T02:00:00Z", 10**30]),
    cursor([0, "2026-11-25T02:00:00Z", 2**31]), cursor([10**30, "2026-11-25T02:00:00Z", 1]),
    cursor([0, "2026-11-25T02:00:00", 1]), cursor([0, "0001-01-01T00:00:00+01:00", 1]),
    cursor([0, "0001-01-01T00:00:00Z", 1]), cursor([0, "9999-12-31T23:59:59-23:59", 1]),
    cursor([0, 20261125, 1]), cursor([True, "2026-11-25T02:00:00Z", 1]), cursor([0, "2026-11-25T02:00:00Z", 1.5]),
    cursor([7, "2026-11-25T02:00:00Z", 1]), cursor([0, "2026-11-25T02:00:00Z"]),
], ids=["id_infinity", "rank_infinity", "id_nan", "id_huge", "id_past_int32", "rank_huge", "no_zone",
        "year_1_offset", "year_1", "year_9999_offset", "not_text", "rank_bool", "id_float", "rank_unknown", "short"])
def test_a_bad_alert_cursor_is_invalid_cursor(client, scene, value):
    _, headers, _ = scene
    response = client.get(f"{API}/alerts", query_string={"cursor": value}, headers=headers)
    assert error_of(response, 422)["code"] == "invalid_cursor"


@pytest.mark.parametrize("values", [["2026-11-25T02:00:00", "checkin", 1], ["0001-01-01T00:00:00+01:00", "checkin", 1],
                                    ["9999-12-31T23:59:59-23:59", "alert", 1], ["2026-11-25T02:00:00Z", 5, 1],
                                    ["2026-11-25T02:00:00Z", "alert", 10**30]],
                         ids=["no_zone", "year_1_offset", "year_9999_offset", "type_not_text", "id_huge"])
def test_a_bad_timeline_cursor_is_invalid_cursor(client, scene, values):
    person, headers, supervisor = scene
    response = client.get(f"{API}/supervisees/{person.id}/timeline", query_string={"cursor": cursor(values)},
                          headers=headers)
    assert error_of(response, 422)["code"] == "invalid_cursor"


def test_a_timeline_cursor_with_infinity_is_invalid_cursor(client, scene):
    person, headers, supervisor = scene
    value = raw_cursor('["2026-11-25T02:00:00Z", "alert", Infinity]')
    response = client.get(f"{API}/supervisees/{person.id}/timeline", query_string={"cursor": value}, headers=headers)
    assert error_of(response, 422)["code"] == "invalid_cursor"


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize("path,name", [("/alerts", "since"), ("/alerts", "until"), ("/audit", "since"),
                                       ("/supervisees/{id}/timeline", "since"), ("/supervisees/{id}/timeline", "until"),
                                       ("/supervisees/{id}/track", "from")])
def test_a_time_at_the_edges_of_time_is_a_validation_error(client, scene, path, name, edge):
    person, headers, supervisor = scene
    if path == "/audit":
        headers = supervisor
    query = {name: edge}
    if path.endswith("/track"):
        query = {"from": edge, "to": "2026-11-25T02:00:00Z"}
    response = client.get(API + path.format(id=person.id), query_string=query, headers=headers)
    error = error_of(response, 422)
    assert error["code"] == "validation_error"
    assert any(field["path"].endswith(name) for field in error["details"]["fields"]), error


@pytest.mark.parametrize("week", ["9999-W52", "9999-W01", "0001-W01", "0000-W01", "1900-W01", "8999-W01"])
def test_a_week_outside_the_calendar_is_a_validation_error(client, scene, week):
    _, headers, _ = scene
    response = client.get(f"{API}/reports/weekly", query_string={"week": week}, headers=headers)
    error = error_of(response, 422)
    assert error["code"] == "validation_error"
    assert [field["path"] for field in error["details"]["fields"]] == ["query.week"]


def test_a_time_in_range_with_an_offset_still_filters(client, scene):
    _, headers, _ = scene
    response = client.get(f"{API}/alerts", query_string={"since": "2026-11-25T10:00:00+08:00"}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
