"""Every parser of times, weeks and cursors: any input gives a value in range or its own refusal.

Hypothesis generates the input; the property is that nothing else escapes (no OverflowError,
RecursionError, TypeError...), because anything else is a 500 at the endpoint that calls it.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from correction.errors import ValidationFailed
from correction.locations.clients import ClientPayloadError, osmand_fields, osmand_json, osmand_time, owntracks_fix
from correction.reports.weeks import parse_week
from correction.schemas import MAX_ID, UtcDateTime, cursor_id, cursor_instant, decode_cursor
from correction.time import EARLIEST, LATEST, UTC, parse_utc_instant, utc_instant
from correction.timeline.service import _cursor as timeline_cursor

EXAMPLES = settings(max_examples=400, deadline=None, database=None)
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC_DATETIME = TypeAdapter(UtcDateTime)

offsets = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59, seconds=-59),
                                            max_value=timedelta(hours=23, minutes=59, seconds=59)))
zones = st.one_of(st.none(), offsets, st.timezones())
moments = st.datetimes(timezones=zones)  # years 1..9999, naive or in any zone or offset
iso_texts = st.one_of(moments.map(datetime.isoformat), moments.map(lambda m: m.isoformat().replace("+00:00", "Z")),
                      st.text(max_size=40))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30), iso_texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=12)
numbers_as_text = st.one_of(st.integers().map(str), st.floats().map(str), st.integers(min_value=10**20).map(str))


def in_range(instant: datetime) -> bool:
    return instant.utcoffset() == timedelta(0) and EARLIEST <= instant < LATEST


@EXAMPLES
@given(moments)
def test_utc_instant_gives_utc_in_range_or_a_value_error(moment):
    try:
        instant = utc_instant(moment)
    except ValueError:
        assert moment.tzinfo is None or moment.utcoffset() is None or not EARLIEST <= moment < LATEST
    else:
        assert in_range(instant) and instant == moment.astimezone(UTC)


@EXAMPLES
@given(iso_texts)
def test_parse_utc_instant_and_the_api_datetime_agree_on_what_they_accept(text):
    try:
        parsed = parse_utc_instant(text)
    except ValueError:
        parsed = None
    else:
        assert in_range(parsed)
    try:
        validated = UTC_DATETIME.validate_python(text)
    except ValidationError:
        return
    assert in_range(validated)
    # pydantic reads a few forms fromisoformat does not; what both read, they read alike
    assert parsed is None or parsed == validated


@EXAMPLES
@given(st.one_of(st.binary(max_size=160).map(lambda b: base64.urlsafe_b64encode(b).decode()),
                 json_values.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()),
                 st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=", max_size=200)))
def test_decode_cursor_gives_a_list_or_invalid_cursor(text):
    try:
        values = decode_cursor(text)
    except ValidationFailed as error:
        assert error.code == "invalid_cursor" and error.status == 422
    else:
        assert isinstance(values, list) and values


@EXAMPLES
@given(json_values)
def test_cursor_id_and_instant_read_only_what_the_api_writes(value):
    if type(value) is int and 0 <= value <= MAX_ID:  # bool is an int too, and no id
        assert cursor_id(value) == value
    else:
        with pytest.raises(ValueError):
            cursor_id(value)
    try:
        instant = cursor_instant(value)
    except ValueError:
        return  # refused: what the API wrote is never refused (test_an_ordinary_time_reads_...)
    assert in_range(instant)


@EXAMPLES
@given(st.one_of(st.lists(json_values, max_size=4), st.tuples(iso_texts, st.text(max_size=10), json_values).map(list)))
def test_a_timeline_cursor_gives_its_key_or_invalid_cursor(values):
    text = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
    try:
        at, type_, id_ = timeline_cursor(text)
    except ValidationFailed as error:
        assert error.code == "invalid_cursor"
    else:
        assert in_range(at) and isinstance(type_, str) and 0 <= id_ <= MAX_ID


@EXAMPLES
@given(st.one_of(st.tuples(st.integers(min_value=0, max_value=9999), st.integers(min_value=0, max_value=99))
                 .map(lambda yw: f"{yw[0]:04d}-W{yw[1]:02d}"), st.text(max_size=12)))
def test_parse_week_gives_a_week_whose_trend_can_be_built_or_a_value_error(label):
    try:
        week = parse_week(label, SHANGHAI)
    except ValueError:
        return
    assert week.label == label and week.start < week.end and in_range(week.start) and in_range(week.end)
    for _ in range(8):  # the report's 8-week trend walks back from the week
        week = week.previous()
        assert in_range(week.start)


@EXAMPLES
@given(st.one_of(st.none(), numbers_as_text, iso_texts, st.integers(), st.floats(), json_values))
def test_osmand_time_gives_an_instant_the_pipeline_accepts_or_a_payload_error(value):
    try:
        text = osmand_time(value, NOW)
    except ClientPayloadError:
        return
    assert in_range(UTC_DATETIME.validate_python(text))


@EXAMPLES
@given(st.dictionaries(st.sampled_from(["id", "lat", "lon", "location", "timestamp", "speed", "bearing", "altitude",
                                        "batt", "accuracy", "hdop", "mock"]),
                       st.one_of(numbers_as_text, iso_texts, st.just("")), max_size=12))
def test_osmand_fields_give_a_fix_or_a_payload_error(params):
    try:
        key, fix = osmand_fields(params, NOW)
    except ClientPayloadError:
        return
    assert key == (params.get("id") or params.get("deviceid"))
    if fix is not None:  # a position: its time is one the pipeline accepts
        assert in_range(UTC_DATETIME.validate_python(fix["recorded_at"]))


@EXAMPLES
@given(json_values, st.dictionaries(st.sampled_from(["latitude", "longitude", "accuracy", "speed", "heading"]),
                                    json_values, max_size=5))
def test_osmand_json_gives_a_fix_or_a_payload_error(timestamp, coords):
    try:
        key, fix = osmand_json({"device_id": "k", "location": {"timestamp": timestamp, "coords": coords}}, NOW)
    except ClientPayloadError:
        return
    assert key == "k"
    assert (fix is None) == (coords.get("latitude") is None or coords.get("longitude") is None)
    if fix is not None:
        assert in_range(UTC_DATETIME.validate_python(fix["recorded_at"]))


@EXAMPLES
@given(st.one_of(json_values, st.integers(), st.floats(), numbers_as_text), json_values)
def test_owntracks_fix_gives_a_fix_or_a_payload_error(tst, acc):
    try:
        fix = owntracks_fix({"_type": "location", "lat": 29.08, "lon": 119.65, "tst": tst, "acc": acc})
    except ClientPayloadError:
        return
    assert in_range(UTC_DATETIME.validate_python(fix["recorded_at"]))


@pytest.mark.parametrize("text", ["2026-11-25T10:00:00+08:00", "2026-11-25T02:00:00Z"])
def test_an_ordinary_time_reads_as_the_same_utc_instant(text):
    assert parse_utc_instant(text) == UTC_DATETIME.validate_python(text) == NOW + timedelta(hours=0)
