"""Points: rules as data, one service that posts, an append-only ledger, balances equal to its sum.

The clock starts on Wednesday 2026-11-25 at 10:00 in Shanghai (02:00Z). A ``normal`` supervisee
has a weekly remote window (Mon 23rd – Sun 29th) and a monthly station window open then; a
``strict`` one has a daily remote window 08:00–20:00.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from correction.database import db
from correction.mall import points
from correction.mall.models import PointEntry, PointRuleVersion
from tests.assertions import balance_of, code_of, ledger_of, ledger_sum
from tests.factories import ADJUST, API, LEDGER, ME_POINTS, local, post_checkin, station_code

DEFAULT_RULES = {
    # event: (points, daily cap, weekly cap)
    "checkin_remote": (2, 2, None),
    "checkin_station": (5, None, None),
    "spot_check_passed": (3, None, None),
    "compliant_week": (10, None, 10),
    "missed_checkin": (-5, None, None),
    "zone_breach": (-10, None, None),
    "mock_location": (-20, None, None),
}


@pytest.fixture
def mall(make):
    """An office, its officer, and one ``normal`` supervisee logged in on their phone."""
    return make.scene()


def award(app, clock, person, event: str, ref: str, at: datetime | None = None):
    """Award ``event`` through the one service; return the ledger delta posted (None: nothing)."""
    with app.app_context():
        entry = points.award(db.session, app.config["SETTINGS"], supervisee_id=person.supervisee.id,
                             office_id=person.supervisee.office_id, event=event, event_ref=ref,
                             now=at or clock())
        delta = entry.delta if entry is not None else None
        db.session.commit()
    return delta


@pytest.fixture
def rule_book(app, clock):
    """Change a default point rule for one test: append a default version in force from long ago."""
    changes = iter(range(1, 1000))

    def change(event: str, **values):
        with app.app_context():
            latest = db.session.execute(sa.select(PointRuleVersion).where(
                PointRuleVersion.event == event, PointRuleVersion.bureau_id.is_(None))
                .order_by(PointRuleVersion.effective_from.desc()).limit(1)).scalar_one()
            day = date(2001, 1, 1) + timedelta(days=next(changes))
            fields = {name: getattr(latest, name) for name in ("points", "daily_cap", "weekly_cap", "active",
                                                               "description")}
            db.session.add(PointRuleVersion(
                event=event, bureau_id=None, **{**fields, **values}, effective_from=day,
                effective_at=datetime(day.year, day.month, day.day, tzinfo=timezone.utc), reason="test",
                created_at=clock()))
            db.session.commit()

    return change


# --- rules as data -------------------------------------------------------------------------

def test_the_default_rules_are_seeded_as_data(app):
    with app.app_context():
        versions = db.session.execute(sa.select(PointRuleVersion)).scalars().all()
    assert {v.event: (v.points, v.daily_cap, v.weekly_cap) for v in versions} == DEFAULT_RULES
    assert all(v.active and v.bureau_id is None and v.effective_from == date(2000, 1, 1) for v in versions)
    assert len(versions) == len(DEFAULT_RULES)


@pytest.mark.parametrize("event", sorted(DEFAULT_RULES))
def test_each_default_rule_posts_its_points_through_the_one_service(app, clock, mall, event):
    assert award(app, clock, mall.person, event, "ref-1") == DEFAULT_RULES[event][0]
    assert ledger_of(app, mall.person_id) == [(DEFAULT_RULES[event][0], event, "ref-1")]
    assert balance_of(app, mall.person_id) == DEFAULT_RULES[event][0]


def test_the_same_event_never_awards_twice(app, clock, mall):
    assert award(app, clock, mall.person, "checkin_station", "checkin:7") == 5
    clock.advance(days=1)
    assert award(app, clock, mall.person, "checkin_station", "checkin:7") is None
    assert ledger_of(app, mall.person_id) == [(5, "checkin_station", "checkin:7")]
    assert balance_of(app, mall.person_id) == 5


def test_the_daily_cap_holds_per_local_day(app, clock, mall):
    assert award(app, clock, mall.person, "checkin_remote", "checkin:1") == 2
    assert award(app, clock, mall.person, "checkin_remote", "checkin:2") is None  # cap 2 already earned
    # 23:59 Shanghai is still the same day; 00:00 the next is a new one (16:00Z on the 25th)
    assert award(app, clock, mall.person, "checkin_remote", "checkin:3", at=local(2026, 11, 25, 23, 59)) is None
    assert award(app, clock, mall.person, "checkin_remote", "checkin:4", at=local(2026, 11, 26, 0, 0)) == 2
    assert [ref for _, _, ref in ledger_of(app, mall.person_id)] == ["checkin:1", "checkin:4"]
    assert balance_of(app, mall.person_id) == 4


def test_a_cap_awards_only_what_is_left(app, clock, mall, rule_book):
    rule_book("checkin_remote", points=3, daily_cap=5)
    assert award(app, clock, mall.person, "checkin_remote", "a") == 3
    assert award(app, clock, mall.person, "checkin_remote", "b") == 2
    assert award(app, clock, mall.person, "checkin_remote", "c") is None
    assert balance_of(app, mall.person_id) == ledger_sum(app, mall.person_id) == 5


def test_a_weekly_cap_spans_the_iso_week(app, clock, mall, rule_book):
    rule_book("checkin_station", weekly_cap=10)
    assert award(app, clock, mall.person, "checkin_station", "mon", at=local(2026, 11, 23, 9)) == 5
    assert award(app, clock, mall.person, "checkin_station", "sat", at=local(2026, 11, 28, 9)) == 5
    assert award(app, clock, mall.person, "checkin_station", "sun", at=local(2026, 11, 29, 23, 59)) is None
    assert award(app, clock, mall.person, "checkin_station", "next-mon", at=local(2026, 11, 30, 0, 0)) == 5
    assert balance_of(app, mall.person_id) == 15


def test_rules_are_data_changing_one_changes_the_award(app, clock, mall, rule_book):
    rule_book("checkin_station", points=7)
    assert award(app, clock, mall.person, "checkin_station", "a") == 7
    rule_book("checkin_station", active=False)
    assert award(app, clock, mall.person, "checkin_station", "b") is None
    assert award(app, clock, mall.person, "no_such_event", "c") is None
    assert ledger_of(app, mall.person_id) == [(7, "checkin_station", "a")]


# --- the award hooks -----------------------------------------------------------------------

def test_accepted_remote_checkin_awards_2_and_its_repeat_nothing_more(client, app, clock, mall):
    first = post_checkin(client, mall.phone, "remote", recorded_at=clock())
    assert first.status_code == 201, first.get_json()
    clock.advance(hours=2)
    again = post_checkin(client, mall.phone, "remote", recorded_at=clock())
    assert (again.status_code, again.get_json()["id"]) == (200, first.get_json()["id"])
    assert ledger_of(app, mall.person_id) == [(2, "checkin_remote", f"checkin:{first.get_json()['id']}")]
    assert balance_of(app, mall.person_id) == 2


def test_accepted_station_checkin_awards_5(client, app, make, clock, mall):
    station = make.station(mall.office)
    response = post_checkin(client, mall.phone, "station", qr_text=station_code(station, clock()),
                            recorded_at=clock())
    assert response.status_code == 201, response.get_json()
    assert ledger_of(app, mall.person_id) == [(5, "checkin_station", f"checkin:{response.get_json()['id']}")]
    assert balance_of(app, mall.person_id) == 5


def test_answered_spot_check_awards_3(client, app, auth, clock, mall):
    asked = client.post(f"{API}/spot-checks", json={"supervisee_id": mall.person_id},
                        headers=auth.officer(mall.officer))
    assert asked.status_code == 201, asked.get_json()
    clock.advance(minutes=5)
    response = post_checkin(client, mall.phone, "spot", recorded_at=clock())
    assert response.status_code == 201, response.get_json()
    assert ledger_of(app, mall.person_id) == [(3, "spot_check_passed", f"checkin:{response.get_json()['id']}")]


def test_a_refused_checkin_awards_nothing(client, app, clock, mall):
    response = post_checkin(client, mall.phone, "remote", recorded_at=clock(), accuracy_m=5_000.0)
    assert response.status_code == 422
    assert ledger_of(app, mall.person_id) == []
    assert balance_of(app, mall.person_id) in (None, 0)


# --- the ledger ----------------------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    sa.update(PointEntry).values(delta=1000),
    sa.delete(PointEntry),
], ids=["update", "delete"])
def test_the_ledger_is_append_only_in_the_database(app, make, clock, mall, statement):
    make.give(mall.person, 5)
    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(statement)
            db.session.flush()
        db.session.rollback()
    assert ledger_of(app, mall.person_id)[0][0] == 5


def test_my_points_shows_balance_and_this_months_earned_and_spent(client, app, make, clock, mall):
    clock.set(datetime(2026, 10, 31, 12, tzinfo=timezone.utc))  # October: counts for the balance only
    make.give(mall.person, 40)
    clock.set(datetime(2026, 11, 25, 2, tzinfo=timezone.utc))
    make.give(mall.person, 7, event="checkin_station")
    make.give(mall.person, -3, event="missed_checkin")
    make.give(mall.person, -20, event="redemption")
    make.give(mall.person, 20, event="refund")
    make.give(mall.person, -15, event="redemption")
    response = client.get(ME_POINTS, headers=mall.phone)
    assert response.status_code == 200
    assert response.get_json() == {"supervisee_id": mall.person_id, "balance": 29,
                                   "earned_this_month": 7, "spent_this_month": 15}
    assert balance_of(app, mall.person_id) == 29


def test_my_ledger_pages_newest_first_without_gaps(client, app, make, clock, mall):
    for delta in (1, 2, 3, 4, 5):
        make.give(mall.person, delta)
        clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        response = client.get(LEDGER, query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                              headers=mall.phone)
        assert response.status_code == 200
        page = response.get_json()
        assert len(page["items"]) <= 2
        seen += [item["delta"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]
    assert set(page["items"][0]) == {"id", "delta", "event", "event_ref", "reason", "officer_id", "created_at"}


def test_my_ledger_is_mine_only(client, app, make, auth, clock, mall):
    other = make.supervisee(mall.office, mall.officer.officer)
    make.give(other, 9)
    make.give(mall.person, 1)
    assert [i["delta"] for i in client.get(LEDGER, headers=mall.phone).get_json()["items"]] == [1]
    assert client.get(ME_POINTS, headers=mall.phone).get_json()["balance"] == 1
    assert client.get(LEDGER, headers=auth.officer(mall.officer)).status_code == 403


def test_officers_see_ledger_lines_on_the_timeline(client, app, auth, clock, mall):
    headers = auth.officer(mall.officer)
    made = client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": 8, "reason": "协助社区服务"},
                       headers=headers)
    assert made.status_code == 201
    response = client.get(f"{API}/supervisees/{mall.person_id}/timeline", headers=headers)
    assert response.status_code == 200
    [line] = [i for i in response.get_json()["items"] if i["type"] == "points"]
    assert line["id"] == made.get_json()["id"]
    assert line["data"] == {"delta": 8, "event": "adjustment", "event_ref": made.get_json()["event_ref"],
                            "reason": "协助社区服务", "officer_id": mall.officer.officer.id}


# --- adjustments ---------------------------------------------------------------------------

def test_an_officer_awards_or_deducts_with_a_reason(client, app, auth, clock, mall):
    headers = auth.officer(mall.officer)
    award_ = client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": 100, "reason": "见义勇为"},
                         headers=headers)
    assert award_.status_code == 201, award_.get_json()
    body = award_.get_json()
    assert (body["delta"], body["event"], body["reason"], body["officer_id"]) == (
        100, "adjustment", "见义勇为", mall.officer.officer.id)
    deduct = client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": -100, "reason": "违反规定"},
                         headers=headers)
    assert deduct.status_code == 201
    assert [d for d, _, _ in ledger_of(app, mall.person_id)] == [100, -100]
    assert balance_of(app, mall.person_id) == 0


@pytest.mark.parametrize("body, field", [
    ({"delta": 5}, "reason"),
    ({"delta": 5, "reason": ""}, "reason"),
    ({"delta": 0, "reason": "零"}, "delta"),
    ({"delta": 101, "reason": "太多"}, "delta"),
    ({"delta": -101, "reason": "太多"}, "delta"),
    ({"delta": 5, "reason": "x", "bonus": 1}, "bonus"),
])
def test_adjustments_out_of_bounds_or_without_a_reason_are_422(client, app, auth, mall, body, field):
    response = client.post(ADJUST, json={"supervisee_id": mall.person_id, **body},
                           headers=auth.officer(mall.officer))
    assert response.status_code == 422, response.get_json()
    assert field in {f["path"] for f in response.get_json()["error"]["details"]["fields"]}
    assert ledger_of(app, mall.person_id) == []


class TestAdjustmentLimitIsASetting:
    @pytest.fixture
    def settings_overrides(self):
        return {"POINT_ADJUSTMENT_MAX": 20}

    def test_the_limit_comes_from_the_settings(self, client, auth, mall):
        headers = auth.officer(mall.officer)
        assert client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": 21, "reason": "r"},
                           headers=headers).status_code == 422
        assert client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": -20, "reason": "r"},
                           headers=headers).status_code == 201


def test_another_offices_supervisee_is_not_found(client, app, make, auth, clock, mall):
    stranger = make.supervisee(make.office())
    response = client.post(ADJUST, json={"supervisee_id": stranger.supervisee.id, "delta": 5, "reason": "r"},
                           headers=auth.officer(mall.officer))
    assert (response.status_code, code_of(response)) == (404, "supervisee_not_found")
    assert ledger_of(app, stranger.supervisee.id) == []


def test_supervisees_cannot_adjust_points(client, app, mall):
    response = client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": 5, "reason": "r"},
                           headers=mall.phone)
    assert response.status_code in (401, 403)
    assert ledger_of(app, mall.person_id) == []


def test_a_reused_request_id_is_refused_not_silently_dropped(client, app, auth, mall):
    headers = {**auth.officer(mall.officer), "X-Request-ID": "req-0123456789abcdef"}
    first = client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": 5, "reason": "a"}, headers=headers)
    assert first.status_code == 201
    again = client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": 7, "reason": "b"}, headers=headers)
    assert (again.status_code, code_of(again)) == (409, "adjustment_already_posted")
    assert [d for d, _, _ in ledger_of(app, mall.person_id)] == [5]
    assert balance_of(app, mall.person_id) == 5


def test_adjustments_are_audited(client, app, make, auth, mall):
    response = client.post(ADJUST, json={"supervisee_id": mall.person_id, "delta": -7, "reason": "迟到"},
                           headers=auth.officer(mall.officer))
    assert response.status_code == 201
    supervisor = make.officer(role="supervisor", bureau_id=mall.office.bureau_id)
    audit = client.get(f"{API}/audit", query_string={"action": "points.adjust"}, headers=auth.officer(supervisor))
    assert audit.status_code == 200, audit.get_json()
    [entry] = audit.get_json()["items"]
    assert (entry["actor_type"], entry["actor_id"], entry["outcome"]) == ("officer", mall.officer.officer.id, "ok")
    assert (entry["target_type"], entry["target_id"], entry["details"]) == (
        "supervisee", mall.person_id, {"delta": -7})
