"""Check-in windows: cadences by level, 08:00–20:00 Shanghai time, period and supervision edges.

First the functions of correction/checkins/windows.py on their own, then the same edges seen
through the API (/me/checkins and /me/schedule). 08:00 in Shanghai is 00:00Z and 20:00 is 12:00Z.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from correction.checkins.windows import (cadence_for, period_of, upcoming_windows, window_open_at,
                                         windows_between)
from correction.config import Settings
from correction.people.models import Supervisee
from correction.time import UTC
from tests.assertions import error_code
from tests.factories import API, local, post_checkin, station_code

SETTINGS = Settings()


def person(level="normal", start=date(2026, 1, 1), end=date(2028, 12, 31)) -> Supervisee:
    """A supervisee as the window functions see them (not stored)."""
    return Supervisee(level=level, supervision_start=start, supervision_end=end)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def summary(windows) -> list[tuple]:
    return [(w.key, w.first_day, w.due_day, w.opens_at, w.closes_at) for w in windows]


# --- period_of -------------------------------------------------------------------------------

@pytest.mark.parametrize("cadence, day, expected", [
    ("daily", date(2026, 11, 25), (date(2026, 11, 25), date(2026, 11, 25))),
    ("daily", date(2028, 2, 29), (date(2028, 2, 29), date(2028, 2, 29))),
    # ISO weeks, Monday to Sunday, across month and year ends
    ("weekly", date(2026, 11, 23), (date(2026, 11, 23), date(2026, 11, 29))),  # a Monday
    ("weekly", date(2026, 11, 29), (date(2026, 11, 23), date(2026, 11, 29))),  # a Sunday
    ("weekly", date(2026, 12, 2), (date(2026, 11, 30), date(2026, 12, 6))),
    ("weekly", date(2027, 1, 1), (date(2026, 12, 28), date(2027, 1, 3))),
    ("weekly", date(2028, 3, 1), (date(2028, 2, 28), date(2028, 3, 5))),  # through 29 February
    # calendar months, with leap years
    ("monthly", date(2026, 11, 30), (date(2026, 11, 1), date(2026, 11, 30))),
    ("monthly", date(2026, 12, 1), (date(2026, 12, 1), date(2026, 12, 31))),
    ("monthly", date(2027, 2, 14), (date(2027, 2, 1), date(2027, 2, 28))),
    ("monthly", date(2028, 2, 14), (date(2028, 2, 1), date(2028, 2, 29))),
    ("monthly", date(2100, 2, 1), (date(2100, 2, 1), date(2100, 2, 28))),  # not a leap year
    # two-month periods: Jan–Feb, Mar–Apr, ..., Nov–Dec
    ("bimonthly", date(2027, 1, 1), (date(2027, 1, 1), date(2027, 2, 28))),
    ("bimonthly", date(2027, 2, 28), (date(2027, 1, 1), date(2027, 2, 28))),
    ("bimonthly", date(2028, 2, 29), (date(2028, 1, 1), date(2028, 2, 29))),
    ("bimonthly", date(2000, 1, 31), (date(2000, 1, 1), date(2000, 2, 29))),
    ("bimonthly", date(2027, 3, 1), (date(2027, 3, 1), date(2027, 4, 30))),
    ("bimonthly", date(2027, 7, 31), (date(2027, 7, 1), date(2027, 8, 31))),
    ("bimonthly", date(2027, 10, 15), (date(2027, 9, 1), date(2027, 10, 31))),
    ("bimonthly", date(2026, 11, 1), (date(2026, 11, 1), date(2026, 12, 31))),
    ("bimonthly", date(2026, 12, 31), (date(2026, 11, 1), date(2026, 12, 31))),
])
def test_period_of(cadence, day, expected):
    assert period_of(cadence, day) == expected


def test_every_day_of_a_leap_year_falls_in_exactly_one_period_of_each_cadence():
    for cadence in ("daily", "weekly", "monthly", "bimonthly"):
        day = date(2028, 1, 1)
        while day.year == 2028:
            first, last = period_of(cadence, day)
            assert first <= day <= last
            assert period_of(cadence, first) == period_of(cadence, last) == (first, last)
            day += timedelta(days=1)


def test_unknown_cadence_is_an_error():
    with pytest.raises(ValueError):
        period_of("fortnightly", date(2026, 11, 25))


@pytest.mark.parametrize("kind, level, cadence", [
    ("remote", "strict", "daily"), ("remote", "normal", "weekly"), ("remote", "lenient", "weekly"),
    ("station", "strict", "weekly"), ("station", "normal", "monthly"), ("station", "lenient", "bimonthly"),
])
def test_default_cadence_by_level(kind, level, cadence):
    assert cadence_for(SETTINGS, kind, level) == cadence


def test_cadence_comes_from_the_settings():
    settings = Settings(STATION_CADENCE={"strict": "daily", "normal": "weekly", "lenient": "monthly"})
    assert cadence_for(settings, "station", "lenient") == "monthly"
    [window] = windows_between(settings, person("lenient"), "station", utc(2026, 11, 25, 2), utc(2026, 11, 25, 3))
    assert window.key == "station:2026-11-01" and window.due_day == date(2026, 11, 30)


# --- windows_between -------------------------------------------------------------------------

def test_windows_open_0800_on_the_first_day_and_close_2000_on_the_due_day():
    windows = windows_between(SETTINGS, person("normal"), "remote", utc(2026, 11, 25, 2), utc(2026, 12, 10))
    assert summary(windows) == [
        ("remote:2026-11-23", date(2026, 11, 23), date(2026, 11, 29), utc(2026, 11, 23, 0), utc(2026, 11, 29, 12)),
        ("remote:2026-11-30", date(2026, 11, 30), date(2026, 12, 6), utc(2026, 11, 30, 0), utc(2026, 12, 6, 12)),
        ("remote:2026-12-07", date(2026, 12, 7), date(2026, 12, 13), utc(2026, 12, 7, 0), utc(2026, 12, 13, 12)),
    ]
    assert all(w.kind == "remote" for w in windows)


def test_daily_windows_follow_the_local_day_not_the_utc_day():
    # 2026-11-25 17:00Z is already 01:00 on the 26th in Shanghai.
    windows = windows_between(SETTINGS, person("strict"), "remote", utc(2026, 11, 25, 17), utc(2026, 11, 27, 17))
    assert summary(windows) == [
        ("remote:2026-11-26", date(2026, 11, 26), date(2026, 11, 26), utc(2026, 11, 26, 0), utc(2026, 11, 26, 12)),
        ("remote:2026-11-27", date(2026, 11, 27), date(2026, 11, 27), utc(2026, 11, 27, 0), utc(2026, 11, 27, 12)),
    ]


def test_windows_are_clipped_to_the_supervision_dates_but_keep_the_period_key():
    # Starts on a Thursday, ends on a Tuesday in the middle of December.
    who = person("normal", start=date(2026, 11, 26), end=date(2026, 12, 15))
    remote = windows_between(SETTINGS, who, "remote", utc(2026, 11, 1), utc(2027, 1, 31))
    assert summary(remote) == [
        ("remote:2026-11-23", date(2026, 11, 26), date(2026, 11, 29), utc(2026, 11, 26, 0), utc(2026, 11, 29, 12)),
        ("remote:2026-11-30", date(2026, 11, 30), date(2026, 12, 6), utc(2026, 11, 30, 0), utc(2026, 12, 6, 12)),
        ("remote:2026-12-07", date(2026, 12, 7), date(2026, 12, 13), utc(2026, 12, 7, 0), utc(2026, 12, 13, 12)),
        ("remote:2026-12-14", date(2026, 12, 14), date(2026, 12, 15), utc(2026, 12, 14, 0), utc(2026, 12, 15, 12)),
    ]
    station = windows_between(SETTINGS, who, "station", utc(2026, 11, 1), utc(2027, 1, 31))
    assert summary(station) == [
        ("station:2026-11-01", date(2026, 11, 26), date(2026, 11, 30), utc(2026, 11, 26, 0), utc(2026, 11, 30, 12)),
        ("station:2026-12-01", date(2026, 12, 1), date(2026, 12, 15), utc(2026, 12, 1, 0), utc(2026, 12, 15, 12)),
    ]


def test_a_one_day_supervision_has_one_window_of_each_kind_that_day():
    who = person("lenient", start=date(2026, 11, 25), end=date(2026, 11, 25))
    for kind, key in (("remote", "remote:2026-11-23"), ("station", "station:2026-11-01")):
        assert summary(windows_between(SETTINGS, who, kind, utc(2026, 1, 1), utc(2027, 1, 1))) == [
            (key, date(2026, 11, 25), date(2026, 11, 25), utc(2026, 11, 25, 0), utc(2026, 11, 25, 12))]


def test_no_windows_outside_the_supervision():
    who = person("strict", start=date(2026, 12, 1), end=date(2026, 12, 31))
    assert windows_between(SETTINGS, who, "remote", utc(2026, 11, 1), utc(2026, 11, 30, 16)) == []
    assert windows_between(SETTINGS, who, "remote", utc(2027, 1, 1), utc(2027, 2, 1)) == []


def test_windows_between_takes_windows_overlapping_a_half_open_range():
    who = person("normal")
    # Sunday 20:00 to Monday 08:00 is the gap between two weekly windows.
    assert windows_between(SETTINGS, who, "remote", utc(2026, 11, 29, 12), utc(2026, 11, 30, 0)) == []
    # One microsecond either side reaches a window.
    [before] = windows_between(SETTINGS, who, "remote", utc(2026, 11, 29, 11, 59, 59, 999999), utc(2026, 11, 30, 0))
    [after] = windows_between(SETTINGS, who, "remote", utc(2026, 11, 29, 12), utc(2026, 11, 30, 0, 0, 0, 1))
    assert (before.key, after.key) == ("remote:2026-11-23", "remote:2026-11-30")
    # A range inside one window gives that window whole.
    [inside] = windows_between(SETTINGS, who, "station", utc(2026, 11, 10), utc(2026, 11, 11))
    assert (inside.opens_at, inside.closes_at) == (utc(2026, 11, 1, 0), utc(2026, 11, 30, 12))


def test_window_hours_are_settings():
    settings = Settings(CHECKIN_WINDOW_OPENS="09:30", CHECKIN_WINDOW_CLOSES="17:00")
    [window] = windows_between(settings, person("strict"), "remote", utc(2026, 11, 25, 2), utc(2026, 11, 25, 3))
    assert (window.opens_at, window.closes_at) == (utc(2026, 11, 25, 1, 30), utc(2026, 11, 25, 9))


def test_local_timezone_is_a_setting():
    settings = Settings(LOCAL_TIMEZONE="Europe/Berlin")  # UTC+1 in winter
    [window] = windows_between(settings, person("strict"), "remote", utc(2026, 11, 25, 12), utc(2026, 11, 25, 13))
    assert (window.opens_at, window.closes_at) == (utc(2026, 11, 25, 7), utc(2026, 11, 25, 19))


# --- window_open_at and upcoming_windows -----------------------------------------------------

@pytest.mark.parametrize("level, kind, at, key", [
    # daily, 08:00–20:00 Shanghai
    ("strict", "remote", utc(2026, 11, 25, 23, 59, 59), None),  # 07:59:59 on the 26th
    ("strict", "remote", utc(2026, 11, 26, 0), "remote:2026-11-26"),
    ("strict", "remote", utc(2026, 11, 26, 11, 59, 59, 999999), "remote:2026-11-26"),
    ("strict", "remote", utc(2026, 11, 26, 12), None),
    ("strict", "remote", utc(2026, 11, 26, 16), None),  # local midnight
    # weekly closes Sunday 20:00
    ("normal", "remote", utc(2026, 11, 29, 11, 59, 59), "remote:2026-11-23"),
    ("normal", "remote", utc(2026, 11, 29, 12), None),
    ("normal", "remote", utc(2026, 11, 30, 0), "remote:2026-11-30"),
    ("strict", "station", utc(2026, 12, 27, 11, 59, 59), "station:2026-12-21"),
    ("strict", "station", utc(2026, 12, 28, 0), "station:2026-12-28"),  # the week spanning New Year
    # monthly closes on the month's last day
    ("normal", "station", utc(2026, 11, 30, 11, 59, 59), "station:2026-11-01"),
    ("normal", "station", utc(2026, 11, 30, 12), None),
    ("normal", "station", utc(2026, 12, 1, 0), "station:2026-12-01"),
    ("normal", "station", utc(2027, 2, 28, 11, 59, 59), "station:2027-02-01"),
    ("normal", "station", utc(2028, 2, 28, 16), "station:2028-02-01"),  # open overnight within its month
    ("normal", "station", utc(2028, 2, 29, 11, 59, 59), "station:2028-02-01"),
    # bimonthly closes on the last day of February, leap or not
    ("lenient", "station", utc(2027, 2, 28, 11, 59, 59), "station:2027-01-01"),
    ("lenient", "station", utc(2027, 2, 28, 12), None),
    ("lenient", "station", utc(2027, 3, 1, 0), "station:2027-03-01"),
    ("lenient", "station", utc(2028, 2, 28, 11, 59, 59), "station:2028-01-01"),
    ("lenient", "station", utc(2028, 2, 29, 11, 59, 59), "station:2028-01-01"),
    ("lenient", "station", utc(2028, 2, 29, 12), None),
])
def test_window_open_at_edges(level, kind, at, key):
    window = window_open_at(SETTINGS, person(level), kind, at)
    assert (window.key if window else None) == key


def test_upcoming_windows_start_with_the_open_one():
    who = person("normal")
    assert [w.key for w in upcoming_windows(SETTINGS, who, "remote", utc(2026, 11, 25, 2), 3)] == [
        "remote:2026-11-23", "remote:2026-11-30", "remote:2026-12-07"]
    # At Sunday 20:00 the week's window has closed: it is no longer upcoming.
    assert [w.key for w in upcoming_windows(SETTINGS, who, "remote", utc(2026, 11, 29, 12), 2)] == [
        "remote:2026-11-30", "remote:2026-12-07"]
    assert [w.key for w in upcoming_windows(SETTINGS, person("lenient"), "station", utc(2026, 11, 25, 2), 3)] == [
        "station:2026-11-01", "station:2027-01-01", "station:2027-03-01"]
    assert [w.key for w in upcoming_windows(SETTINGS, person("strict"), "remote", utc(2026, 11, 25, 13), 2)] == [
        "remote:2026-11-26", "remote:2026-11-27"]


def test_upcoming_windows_stop_at_the_end_of_supervision():
    who = person("normal", end=date(2026, 12, 2))
    assert [(w.key, w.due_day) for w in upcoming_windows(SETTINGS, who, "remote", utc(2026, 11, 25, 2), 3)] == [
        ("remote:2026-11-23", date(2026, 11, 29)), ("remote:2026-11-30", date(2026, 12, 2))]


# --- the same edges through the API ----------------------------------------------------------

@pytest.fixture
def station(make, office):
    return make.station(office)


@pytest.fixture
def enrol(make, auth, office, officer, clock):
    """Enrol a supervisee and log their phone in at ``at`` (the clock stays there)."""

    def enrol(level: str, at: datetime, **dates):
        clock.set(at)
        login = make.supervisee(office, officer.officer, level=level, **dates)
        return login.supervisee.id, auth.supervisee(login)

    return enrol


def remote(client, phone, clock):
    return post_checkin(client, phone, "remote", recorded_at=clock())


def at_station(client, phone, clock, station):
    return post_checkin(client, phone, "station", qr_text=station_code(station, clock()), recorded_at=clock())


def test_daily_window_closes_at_2000_on_the_dot(client, enrol, clock):
    _, phone = enrol("strict", local(2026, 11, 25, 19, 59, 59))
    accepted = remote(client, phone, clock)
    assert accepted.status_code == 201
    assert accepted.get_json()["window_key"] == "remote:2026-11-25"
    assert accepted.get_json()["window_closes_at"] == "2026-11-25T12:00:00Z"
    _, late_phone = enrol("strict", local(2026, 11, 25, 20, 0, 0))
    late = remote(client, late_phone, clock)
    assert (late.status_code, error_code(late)) == (409, "no_open_window")


def test_around_local_midnight_the_next_window_is_the_next_local_day(client, enrol, clock):
    # 2026-11-25 16:00Z: midnight in Shanghai, the UTC date is still the 25th.
    _, phone = enrol("strict", local(2026, 11, 26, 0, 0, 0))
    assert clock() == datetime(2026, 11, 25, 16, tzinfo=UTC)
    refused = remote(client, phone, clock)
    assert (refused.status_code, error_code(refused)) == (409, "no_open_window")
    schedule = client.get(f"{API}/me/schedule", headers=phone).get_json()
    first = schedule["windows"][0]
    assert (first["key"], first["status"], first["opens_at"]) == (
        "remote:2026-11-26", "upcoming", "2026-11-26T00:00:00Z")

    clock.set(local(2026, 11, 26, 7, 59, 59))
    assert remote(client, phone, clock).status_code == 409
    clock.set(local(2026, 11, 26, 8, 0, 0))
    accepted = remote(client, phone, clock)
    assert accepted.status_code == 201
    assert accepted.get_json()["window_key"] == "remote:2026-11-26"


def test_weekly_window_closes_sunday_2000_and_the_next_opens_monday_0800(client, enrol, clock):
    _, phone = enrol("normal", local(2026, 11, 29, 19, 59, 59))
    assert remote(client, phone, clock).get_json()["window_key"] == "remote:2026-11-23"
    _, late_phone = enrol("normal", local(2026, 11, 29, 20, 0, 0))
    assert error_code(remote(client, late_phone, clock)) == "no_open_window"
    clock.set(local(2026, 11, 30, 7, 59, 59))
    assert error_code(remote(client, late_phone, clock)) == "no_open_window"
    clock.set(local(2026, 11, 30, 8, 0, 0))
    accepted = remote(client, late_phone, clock)
    assert (accepted.status_code, accepted.get_json()["window_key"]) == (201, "remote:2026-11-30")


def test_fix_taken_before_the_window_opened_does_not_count(client, enrol, clock):
    _, phone = enrol("normal", local(2026, 11, 30, 8, 0, 5))
    response = post_checkin(client, phone, "remote", recorded_at=local(2026, 11, 30, 7, 59, 55))
    assert (response.status_code, error_code(response)) == (422, "fix_too_old")
    assert post_checkin(client, phone, "remote", recorded_at=local(2026, 11, 30, 8, 0, 0)).status_code == 201


def test_monthly_station_window_closes_on_the_last_day_of_the_month(client, enrol, clock, station):
    _, phone = enrol("normal", local(2026, 11, 30, 19, 59, 59))
    accepted = at_station(client, phone, clock, station)
    assert (accepted.status_code, accepted.get_json()["window_key"]) == (201, "station:2026-11-01")
    clock.set(local(2026, 11, 30, 20, 0, 0))
    late = at_station(client, phone, clock, station)  # not a repeat: that window is closed
    assert (late.status_code, error_code(late)) == (409, "no_open_window")
    clock.set(local(2026, 12, 1, 7, 59, 59))
    assert error_code(at_station(client, phone, clock, station)) == "no_open_window"
    clock.set(local(2026, 12, 1, 8, 0, 0))
    december = at_station(client, phone, clock, station)
    assert (december.status_code, december.get_json()["window_key"]) == (201, "station:2026-12-01")
    assert december.get_json()["window_closes_at"] == "2026-12-31T12:00:00Z"


def test_bimonthly_station_window_closes_at_the_end_of_february(client, enrol, clock, station):
    _, phone = enrol("lenient", local(2027, 2, 28, 19, 59, 59))
    accepted = at_station(client, phone, clock, station)
    assert (accepted.status_code, accepted.get_json()["window_key"]) == (201, "station:2027-01-01")
    assert accepted.get_json()["window_closes_at"] == "2027-02-28T12:00:00Z"
    clock.set(local(2027, 2, 28, 20, 0, 0))
    assert error_code(at_station(client, phone, clock, station)) == "no_open_window"
    clock.set(local(2027, 3, 1, 8, 0, 0))
    march = at_station(client, phone, clock, station)
    assert (march.status_code, march.get_json()["window_key"]) == (201, "station:2027-03-01")
    assert march.get_json()["window_closes_at"] == "2027-04-30T12:00:00Z"


def test_bimonthly_window_in_a_leap_year_runs_to_29_february(client, enrol, clock, station):
    _, phone = enrol("lenient", local(2028, 2, 29, 19, 59, 59), end=date(2028, 12, 31))
    accepted = at_station(client, phone, clock, station)
    assert (accepted.status_code, accepted.get_json()["window_key"]) == (201, "station:2028-01-01")
    assert accepted.get_json()["window_closes_at"] == "2028-02-29T12:00:00Z"


def test_supervision_starting_mid_week_opens_its_first_window_on_the_start_day(client, enrol, clock):
    _, phone = enrol("normal", local(2026, 11, 25, 10, 0, 0), start=date(2026, 11, 26))  # a Thursday
    assert error_code(remote(client, phone, clock)) == "no_open_window"
    windows = client.get(f"{API}/me/schedule", headers=phone).get_json()["windows"]
    first_remote = next(w for w in windows if w["kind"] == "remote")
    assert first_remote == {"kind": "remote", "key": "remote:2026-11-23", "opens_at": "2026-11-26T00:00:00Z",
                            "closes_at": "2026-11-29T12:00:00Z", "status": "upcoming", "checkin_id": None,
                            "period_id": None}
    clock.set(local(2026, 11, 26, 7, 59, 59))
    assert error_code(remote(client, phone, clock)) == "no_open_window"
    clock.set(local(2026, 11, 26, 8, 0, 0))
    assert remote(client, phone, clock).get_json()["window_key"] == "remote:2026-11-23"


def test_supervision_ending_mid_month_closes_its_last_windows_on_the_end_day(client, enrol, clock, station):
    _, phone = enrol("normal", local(2026, 12, 15, 10, 0, 0), end=date(2026, 12, 15))  # a Tuesday
    windows = client.get(f"{API}/me/schedule", headers=phone).get_json()["windows"]
    assert [(w["key"], w["closes_at"], w["status"]) for w in windows] == [
        ("remote:2026-12-14", "2026-12-15T12:00:00Z", "open"),
        ("station:2026-12-01", "2026-12-15T12:00:00Z", "open"),
    ]
    clock.set(local(2026, 12, 15, 19, 59, 59))
    assert at_station(client, phone, clock, station).get_json()["window_key"] == "station:2026-12-01"
    clock.set(local(2026, 12, 15, 20, 0, 0))
    assert error_code(remote(client, phone, clock)) == "no_open_window"  # the week would run to Sunday
    clock.set(local(2026, 12, 16, 10, 0, 0))
    assert error_code(remote(client, phone, clock)) == "no_open_window"
    assert client.get(f"{API}/me/schedule", headers=phone).get_json()["windows"] == []


# --- /me/schedule ----------------------------------------------------------------------------

def test_schedule_shows_the_next_windows_of_each_kind(client, enrol, clock):
    _, phone = enrol("normal", local(2026, 11, 25, 10, 0, 0))
    response = client.get(f"{API}/me/schedule", headers=phone)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["now"], body["timezone"], body["spot_checks"]) == ("2026-11-25T02:00:00Z", "Asia/Shanghai", [])
    assert [(w["key"], w["opens_at"], w["closes_at"], w["status"]) for w in body["windows"]] == [
        ("remote:2026-11-23", "2026-11-23T00:00:00Z", "2026-11-29T12:00:00Z", "open"),
        ("station:2026-11-01", "2026-11-01T00:00:00Z", "2026-11-30T12:00:00Z", "open"),
        ("remote:2026-11-30", "2026-11-30T00:00:00Z", "2026-12-06T12:00:00Z", "upcoming"),
        ("remote:2026-12-07", "2026-12-07T00:00:00Z", "2026-12-13T12:00:00Z", "upcoming"),
        ("station:2026-12-01", "2026-12-01T00:00:00Z", "2026-12-31T12:00:00Z", "upcoming"),
        ("station:2027-01-01", "2027-01-01T00:00:00Z", "2027-01-31T12:00:00Z", "upcoming"),
    ]


def test_schedule_marks_a_satisfied_window_with_its_checkin(client, enrol, clock):
    _, phone = enrol("strict", local(2026, 11, 25, 10, 0, 0))
    checkin_id = remote(client, phone, clock).get_json()["id"]
    windows = client.get(f"{API}/me/schedule", headers=phone).get_json()["windows"]
    remote_windows = [(w["key"], w["status"], w["checkin_id"]) for w in windows if w["kind"] == "remote"]
    assert remote_windows == [("remote:2026-11-25", "satisfied", checkin_id),
                              ("remote:2026-11-26", "upcoming", None), ("remote:2026-11-27", "upcoming", None)]
    station_windows = [w["key"] for w in windows if w["kind"] == "station"]
    assert station_windows == ["station:2026-11-23", "station:2026-11-30", "station:2026-12-07"]


def test_schedule_is_for_supervisees(client, auth, officer):
    assert client.get(f"{API}/me/schedule", headers=auth.officer(officer)).status_code == 403
    assert client.get(f"{API}/me/schedule").status_code == 401


class TestCadenceSettings:
    @pytest.fixture
    def settings_overrides(self):
        return {"REMOTE_CADENCE": {"strict": "daily", "normal": "daily", "lenient": "monthly"},
                "CHECKIN_WINDOW_CLOSES": "18:00"}

    def test_cadence_and_closing_time_follow_the_settings(self, client, enrol, clock):
        _, phone = enrol("normal", local(2026, 11, 25, 17, 59, 59))
        accepted = remote(client, phone, clock)
        assert (accepted.status_code, accepted.get_json()["window_key"]) == (201, "remote:2026-11-25")
        assert accepted.get_json()["window_closes_at"] == "2026-11-25T10:00:00Z"
        _, late_phone = enrol("normal", local(2026, 11, 25, 18, 0, 0))
        assert error_code(remote(client, late_phone, clock)) == "no_open_window"
        _, lenient_phone = enrol("lenient", local(2026, 11, 25, 18, 0, 0))  # monthly: open all month
        monthly = remote(client, lenient_phone, clock)
        assert (monthly.status_code, monthly.get_json()["window_key"]) == (201, "remote:2026-11-01")
        assert monthly.get_json()["window_closes_at"] == "2026-11-30T10:00:00Z"
