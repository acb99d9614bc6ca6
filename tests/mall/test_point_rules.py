"""Point rules as versions: officers list them, supervisors change them from a local date on.

The clock starts on Wednesday 2026-11-25 at 10:00 in Shanghai (02:00Z). A ``strict`` supervisee
has a daily remote window 08:00–20:00, worth 2 points by default (daily cap 2).
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from correction.database import db
from correction.mall import points
from correction.mall.models import PointEntry, PointRuleVersion
from correction.people.models import Bureau
from tests.assertions import (assert_balances_match_ledger, balance_of, count, error_of, field_paths, ledger_of,
                              rows)
from tests.factories import API, local, post_checkin

RULES = f"{API}/point-rules"
DEFAULT_EVENTS = ["checkin_remote", "checkin_station", "compliant_week", "missed_checkin", "mock_location",
                  "spot_check_passed", "zone_breach"]


def versions_url(event: str) -> str:
    return f"{RULES}/{event}/versions"


@pytest.fixture
def bureau(make, auth):
    """A strict supervisee's office in a bureau of its own, its officer and its supervisor, logged in."""
    scene = make.scene("strict", officer_login=True)
    supervisor = make.officer(role="supervisor", bureau_id=scene.office.bureau_id)
    scene.supervisor_headers = auth.officer(supervisor)
    scene.supervisor = supervisor
    return scene


def change(client, headers, event: str = "checkin_remote", **body):
    body = {"points": 4, "daily_cap": 4, "effective_from": "2026-11-26", "reason": "鼓励按时签到", **body}
    return client.post(versions_url(event), json=body, headers=headers)


def in_force(client, headers) -> dict[str, dict]:
    response = client.get(RULES, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {item["event"]: item for item in response.get_json()["items"]}


# --- listing and history -------------------------------------------------------------------

def test_officers_see_the_defaults_in_force_with_nothing_scheduled(client, bureau):
    rules = in_force(client, bureau.headers)
    assert sorted(rules) == DEFAULT_EVENTS
    remote = rules["checkin_remote"]
    assert remote["upcoming"] is None
    assert {k: remote["current"][k] for k in ("points", "daily_cap", "weekly_cap", "active", "bureau_id",
                                               "effective_from", "changed_by")} == {
        "points": 2, "daily_cap": 2, "weekly_cap": None, "active": True, "bureau_id": None,
        "effective_from": "2000-01-01", "changed_by": None}


def test_a_scheduled_change_shows_as_upcoming_until_its_day_comes(client, auth, clock, bureau):
    made = change(client, bureau.supervisor_headers)
    assert made.status_code == 201, made.get_json()
    version = made.get_json()
    assert (version["bureau_id"], version["points"], version["effective_from"], version["changed_by"]) == (
        bureau.office.bureau_id, 4, "2026-11-26", bureau.supervisor.officer.id)
    assert version["description"] == in_force(client, bureau.headers)["checkin_remote"]["current"]["description"]

    remote = in_force(client, bureau.headers)["checkin_remote"]
    assert (remote["current"]["points"], remote["upcoming"]["id"]) == (2, version["id"])
    clock.set(local(2026, 11, 26, 0, 0))  # the local day it takes effect
    remote = in_force(client, auth.officer(bureau.officer))["checkin_remote"]
    assert (remote["current"]["id"], remote["upcoming"]) == (version["id"], None)


def test_history_lists_the_bureaus_versions_and_the_default_newest_first(client, bureau):
    later = change(client, bureau.supervisor_headers, effective_from="2026-12-01", points=3, daily_cap=None)
    sooner = change(client, bureau.supervisor_headers, effective_from="2026-11-26")
    assert (later.status_code, sooner.status_code) == (201, 201)
    response = client.get(versions_url("checkin_remote"), headers=bureau.headers)
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(v["effective_from"], v["points"], v["daily_cap"]) for v in items] == [
        ("2026-12-01", 3, None), ("2026-11-26", 4, 4), ("2000-01-01", 2, 2)]
    assert [v["reason"] for v in items[:2]] == ["鼓励按时签到", "鼓励按时签到"]


@pytest.mark.parametrize("event", ["no_such_event", "x" * 41, "checkin_remote%00", "%E7%AD%BE%E5%88%B0"])
def test_an_unknown_event_is_404(client, bureau, event):
    assert error_of(client.get(versions_url(event), headers=bureau.headers), 404)["code"] == \
        "point_rule_not_found"
    error = error_of(change(client, bureau.supervisor_headers, event="no_such_event"), 404)
    assert error["code"] == "point_rule_not_found"


def test_supervisees_cannot_read_the_rules(client, bureau):
    error_of(client.get(RULES, headers=bureau.phone), 403)


# --- who may change, and what ---------------------------------------------------------------

def test_an_officer_cannot_change_a_rule(app, client, bureau):
    error_of(change(client, bureau.headers), 403)
    assert count(app, PointRuleVersion, PointRuleVersion.bureau_id.is_not(None)) == 0


def test_a_change_from_a_past_date_is_refused_and_today_is_accepted(app, client, bureau):
    error = error_of(change(client, bureau.supervisor_headers, effective_from="2026-11-24"), 422)
    assert field_paths(error) == {"effective_from"}
    assert count(app, PointRuleVersion, PointRuleVersion.bureau_id.is_not(None)) == 0
    assert change(client, bureau.supervisor_headers, effective_from="2026-11-25").status_code == 201


@pytest.mark.parametrize("event, body, field", [
    ("checkin_remote", {"points": 1001}, "points"),
    ("missed_checkin", {"points": -1001, "daily_cap": None}, "points"),
    ("missed_checkin", {"points": 5, "daily_cap": None}, "points"),  # a penalty stays a penalty
    ("checkin_remote", {"points": -2, "daily_cap": None}, "points"),  # an award stays an award
    ("missed_checkin", {"points": -5, "daily_cap": 5}, "daily_cap"),  # caps belong to awards
    ("checkin_remote", {"daily_cap": 0}, "daily_cap"),
    ("checkin_remote", {"weekly_cap": -1}, "weekly_cap"),
    ("checkin_remote", {"reason": ""}, "reason"),
    ("checkin_remote", {"reason": None}, "reason"),
    ("checkin_remote", {"effective_from": "2026-11-26T00:00:00Z"}, "effective_from"),
    ("checkin_remote", {"effective_from": "9999-12-31"}, "effective_from"),
    ("checkin_remote", {"bonus": 1}, "bonus"),
])
def test_bad_changes_are_422_and_write_nothing(app, client, bureau, event, body, field):
    error = error_of(change(client, bureau.supervisor_headers, event=event, **body), 422)
    assert field in field_paths(error)
    assert count(app, PointRuleVersion, PointRuleVersion.bureau_id.is_not(None)) == 0


class TestTheBoundIsASetting:
    @pytest.fixture
    def settings_overrides(self):
        return {"POINT_RULE_MAX_POINTS": 50}

    def test_the_bound_comes_from_the_settings(self, client, bureau):
        assert change(client, bureau.supervisor_headers, points=51, daily_cap=None).status_code == 422
        assert change(client, bureau.supervisor_headers, points=50, daily_cap=None).status_code == 201


def test_a_second_change_for_the_same_day_is_a_conflict(app, make, auth, client, bureau):
    assert change(client, bureau.supervisor_headers).status_code == 201
    again = change(client, bureau.supervisor_headers, points=6, daily_cap=None)
    error = error_of(again, 409)
    assert error["code"] == "rule_change_exists"
    assert count(app, PointRuleVersion, PointRuleVersion.bureau_id.is_not(None)) == 1
    other = make.scene()  # another bureau may change the same rule from the same day
    other_supervisor = auth.officer(make.officer(role="supervisor", bureau_id=other.office.bureau_id))
    assert change(client, other_supervisor).status_code == 201


def test_versions_are_append_only_in_the_database(app, client, bureau):
    assert change(client, bureau.supervisor_headers).status_code == 201
    for statement in (sa.update(PointRuleVersion).values(points=100), sa.delete(PointRuleVersion)):
        with app.app_context():
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(statement)
                db.session.flush()
            db.session.rollback()
    assert count(app, PointRuleVersion) == len(DEFAULT_EVENTS) + 1


def test_a_change_is_audited_with_before_and_after(client, bureau):
    version = change(client, bureau.supervisor_headers).get_json()
    audit = client.get(f"{API}/audit", query_string={"action": "point_rules.change"},
                       headers=bureau.supervisor_headers)
    assert audit.status_code == 200, audit.get_json()
    [entry] = audit.get_json()["items"]
    assert (entry["actor_id"], entry["target_type"], entry["target_id"]) == (
        bureau.supervisor.officer.id, "point_rule_version", version["id"])
    details = entry["details"]
    assert (details["event"], details["reason"]) == ("checkin_remote", "鼓励按时签到")
    assert {k: details["before"][k] for k in ("points", "daily_cap", "bureau_id", "effective_from")} == {
        "points": 2, "daily_cap": 2, "bureau_id": None, "effective_from": "2000-01-01"}
    assert {k: details["after"][k] for k in ("version_id", "points", "daily_cap", "bureau_id", "effective_from")} == {
        "version_id": version["id"], "points": 4, "daily_cap": 4, "bureau_id": bureau.office.bureau_id,
        "effective_from": "2026-11-26"}


# --- scoring by the version of the event's date ---------------------------------------------

def rule_versions_of(app, supervisee_id: int) -> list[int | None]:
    with app.app_context():
        return list(db.session.execute(sa.select(PointEntry.rule_version_id).where(
            PointEntry.supervisee_id == supervisee_id).order_by(PointEntry.id)).scalars())


def test_a_change_from_tomorrow_leaves_todays_checkin_and_scores_tomorrows(app, client, auth, clock, bureau):
    version = change(client, bureau.supervisor_headers).get_json()
    assert post_checkin(client, bureau.phone, "remote", recorded_at=clock()).status_code == 201
    clock.set(local(2026, 11, 26, 10))
    assert post_checkin(client, bureau.phone, "remote", recorded_at=clock()).status_code == 201
    assert [delta for delta, _, _ in ledger_of(app, bureau.person_id)] == [2, 4]
    assert in_force(client, auth.officer(bureau.officer))["checkin_remote"]["current"]["id"] == version["id"]
    assert rule_versions_of(app, bureau.person_id)[1] == version["id"]
    assert rule_versions_of(app, bureau.person_id)[0] is not None
    assert balance_of(app, bureau.person_id) == 6
    assert_balances_match_ledger(app)


def test_an_event_posted_late_keeps_the_version_of_its_day(app, client, clock, bureau):
    assert change(client, bureau.supervisor_headers).status_code == 201
    clock.set(local(2026, 11, 27, 9))  # the award of a check-in made on the 25th arrives two days late
    with app.app_context():
        entry = points.award(db.session, app.config["SETTINGS"], supervisee_id=bureau.person_id,
                             office_id=bureau.office.id, event="checkin_remote", event_ref="late",
                             now=local(2026, 11, 25, 19))
        db.session.commit()
    assert entry.delta == 2


def test_a_change_in_one_bureau_does_not_touch_another(app, make, auth, client, clock, bureau):
    other = make.scene("strict", officer_login=True)
    assert change(client, bureau.supervisor_headers, effective_from="2026-11-25").status_code == 201
    assert in_force(client, other.headers)["checkin_remote"]["current"]["points"] == 2
    assert in_force(client, bureau.headers)["checkin_remote"]["current"]["points"] == 4
    for scene in (bureau, other):
        assert post_checkin(client, scene.phone, "remote", recorded_at=clock()).status_code == 201
    assert [d for d, _, _ in ledger_of(app, bureau.person_id)] == [4]
    assert [d for d, _, _ in ledger_of(app, other.person_id)] == [2]
    history = client.get(versions_url("checkin_remote"), headers=other.headers).get_json()["items"]
    assert [v["bureau_id"] for v in history] == [None]


def test_a_sister_offices_officer_sees_the_bureaus_rules(app, make, auth, client, bureau):
    [the_bureau] = rows(app, Bureau, Bureau.id == bureau.office.bureau_id)
    sister = make.office(the_bureau, name="城东街道司法所")
    sister_officer = auth.officer(make.officer(sister))
    assert change(client, bureau.supervisor_headers, effective_from="2026-11-25").status_code == 201
    assert in_force(client, sister_officer)["checkin_remote"]["current"]["points"] == 4


def test_a_deactivated_rule_awards_nothing_from_its_day(app, client, clock, bureau):
    made = change(client, bureau.supervisor_headers, active=False, points=2, daily_cap=None,
                  effective_from="2026-11-26")
    assert made.status_code == 201
    assert post_checkin(client, bureau.phone, "remote", recorded_at=clock()).status_code == 201
    clock.set(local(2026, 11, 26, 10))
    assert post_checkin(client, bureau.phone, "remote", recorded_at=clock()).status_code == 201
    assert [d for d, _, _ in ledger_of(app, bureau.person_id)] == [2]
    assert date(2026, 11, 26).isoformat() == made.get_json()["effective_from"]


@pytest.mark.postgresql_only
def test_two_changes_for_the_same_day_at_once_one_wins(app, make, auth, client, bureau):
    from tests.mall.test_concurrency import race

    second = auth.officer(make.officer(role="supervisor", bureau_id=bureau.office.bureau_id))
    answers = race(app, [lambda c, h=h: change(c, h, points=p, daily_cap=None)
                         for h, p in ((bureau.supervisor_headers, 3), (second, 7))])
    assert sorted(status for status, _ in answers) == [201, 409]
    [(_, loser)] = [answer for answer in answers if answer[0] == 409]
    assert loser["error"]["code"] in ("rule_change_exists", "conflict")
    assert count(app, PointRuleVersion, PointRuleVersion.bureau_id.is_not(None)) == 1
