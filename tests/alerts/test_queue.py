"""The officers' alert queue (find, acknowledge, resolve) and the supervisee's side (explain).

Officers see their own office's alerts, supervisors their bureau's; anything else reads as
missing (404). The queue lists open alerts before acknowledged ones before resolved ones, each
oldest first, in keyset pages. Resolving records the outcome the officer chose and, for a
sanction, its legal article; the system only suggests a step of the ladder for 失联.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.alerts.service import raise_alert
from correction.database import db
from correction.time import iso_z
from tests.assertions import error_of
from tests.factories import API

ALERTS = f"{API}/alerts"
_subjects = itertools.count(1)


@pytest.fixture
def org(make):
    """Bureau with two offices (an officer each, one supervisor), and a second bureau with its own;
    two supervisees (one strict) in the first office, one in each other office."""
    return make.org(other="strict")


def raise_at(app, person, at: datetime, *, type: str = "missed_checkin", subject: str | None = None,
             severity: str | None = None, evidence: dict | None = None) -> int:
    """Raise an alert as a sweep would, at ``at``; return its id."""
    with app.app_context():
        alert, created = raise_alert(db.session, app.config["SETTINGS"], supervisee_id=person.supervisee.id,
                                     office_id=person.supervisee.office_id, type=type,
                                     subject_key=subject or f"{type}:{next(_subjects)}", now=at, severity=severity,
                                     evidence=evidence)
        assert created
        db.session.commit()
        return alert.id


def stored(app, alert_id: int) -> Alert:
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        db.session.expunge(alert)
    return alert


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def ack(client, headers, alert_id: int):
    return client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=headers)


def resolve(client, headers, alert_id: int, outcome: str = "excused", note: str | None = "explained by phone"):
    body = {"outcome": outcome} if note is None else {"outcome": outcome, "note": note}
    return client.post(f"{ALERTS}/{alert_id}/resolve", headers=headers, json=body)


# --- listing ----------------------------------------------------------------------------------

def test_the_queue_lists_open_then_acknowledged_then_resolved_each_oldest_first(app, client, auth, clock, org):
    t0 = clock()
    made = [raise_at(app, org.person, t0 + timedelta(minutes=m)) for m in range(9)]
    headers = auth.officer(org.officer)
    for alert_id in (made[0], made[4], made[7]):
        assert resolve(client, headers, alert_id).status_code == 200
    for alert_id in (made[1], made[5], made[8]):
        assert ack(client, headers, alert_id).status_code == 200
    listed = client.get(ALERTS, headers=headers)
    assert ids(listed) == [made[2], made[3], made[6], made[1], made[5], made[8], made[0], made[4], made[7]]
    assert [a["status"] for a in listed.get_json()["items"]] == ["open"] * 3 + ["acknowledged"] * 3 + ["resolved"] * 3
    assert listed.get_json()["next_cursor"] is None


def test_the_queue_filters_by_status_type_severity_person_office_time_and_escalation(
        app, client, auth, clock, org):
    t0 = clock()
    early = raise_at(app, org.person, t0, type="signal_lost", subject="signal:never")
    middle = raise_at(app, org.other, t0 + timedelta(hours=1), type="zone_exit", subject="zone:1", severity="critical")
    late = raise_at(app, org.person, t0 + timedelta(hours=2))
    other_office = raise_at(app, org.sister_person, t0 + timedelta(hours=3))
    with app.app_context():
        db.session.execute(sa.update(Alert).where(Alert.id == middle).values(escalated_at=t0 + timedelta(hours=2)))
        db.session.commit()
    headers = auth.officer(org.officer)
    assert ack(client, headers, late).status_code == 200

    def get(query: str) -> list[int]:
        return ids(client.get(f"{ALERTS}?{query}", headers=headers))

    assert get("") == [early, middle, late]
    assert get("status=open") == [early, middle]
    assert get("status=acknowledged") == [late]
    assert get("status=resolved") == []
    assert get("type=signal_lost") == [early]
    assert get("severity=critical") == [middle]
    assert get("severity=medium") == [late]
    assert get(f"supervisee_id={org.person.supervisee.id}") == [early, late]
    assert get(f"supervisee_id={org.sister_person.supervisee.id}") == []  # not in this officer's office
    assert get(f"office_id={org.office.id}") == [early, middle, late]
    assert get(f"office_id={org.sister_office.id}") == []
    since, until = quote(iso_z(t0 + timedelta(hours=1))), quote(iso_z(t0 + timedelta(hours=2)))
    assert get(f"since={since}") == [middle, late]  # since is inclusive
    assert get(f"until={until}") == [early, middle]  # until is exclusive
    assert get(f"since={since}&until={until}") == [middle]
    assert get("escalated=true") == [middle]
    assert get("escalated=false") == [early, late]
    assert get("status=open&type=zone_exit&escalated=true") == [middle]

    boss = auth.officer(org.supervisor)
    assert ids(client.get(f"{ALERTS}?office_id={org.sister_office.id}", headers=boss)) == [other_office]
    assert ids(client.get(f"{ALERTS}?office_id={org.office.id}&status=open", headers=boss)) == [early, middle]


@pytest.mark.parametrize("query", ["status=closed", "type=bad_mood", "severity=urgent", "escalated=maybe",
                                   "since=yesterday", "supervisee_id=0", "limit=0", "limit=201"])
def test_bad_queue_filters_are_validation_errors(client, auth, org, query):
    error_of(client.get(f"{ALERTS}?{query}", headers=auth.officer(org.officer)), 422)


def test_pages_cover_the_queue_without_gaps_or_duplicates(app, client, auth, clock, org):
    t0 = clock()
    made = [raise_at(app, org.person if n % 2 else org.other, t0 + timedelta(minutes=n % 4)) for n in range(11)]
    headers = auth.officer(org.officer)
    for alert_id in made[::3]:
        assert ack(client, headers, alert_id).status_code == 200
    for alert_id in made[1::5]:
        assert resolve(client, headers, alert_id).status_code == 200
    whole = ids(client.get(f"{ALERTS}?limit=200", headers=headers))
    assert sorted(whole) == sorted(made)

    for size in (1, 2, 3, 4, 10, 11):
        seen, cursor, pages = [], None, 0
        while True:
            url = f"{ALERTS}?limit={size}" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(url, headers=headers)
            assert page.status_code == 200, page.get_json()
            body = page.get_json()
            assert len(body["items"]) <= size
            seen += [item["id"] for item in body["items"]]
            pages += 1
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == whole, size  # same order, nothing missed, nothing twice
        assert pages == -(-len(made) // size)  # the last page says there is no next one


def test_a_forged_cursor_is_refused(client, auth, org):
    response = client.get(f"{ALERTS}?cursor=bm90LWEtY3Vyc29y", headers=auth.officer(org.officer))
    assert error_of(response, 422)["code"] == "invalid_cursor"


# --- scope ---------------------------------------------------------------------------------

def test_another_offices_alerts_are_invisible_and_untouchable(app, client, auth, clock, org):
    mine = raise_at(app, org.person, clock())
    theirs = raise_at(app, org.sister_person, clock())
    foreign = raise_at(app, org.foreign_person, clock())
    headers = auth.officer(org.sister_officer)
    assert ids(client.get(ALERTS, headers=headers)) == [theirs]
    for response in (client.get(f"{ALERTS}/{mine}", headers=headers), ack(client, headers, mine),
                     resolve(client, headers, mine, outcome="warning"),
                     client.get(f"{ALERTS}/{foreign}", headers=headers)):
        assert error_of(response, 404)["code"] == "alert_not_found"
    missing = client.get(f"{ALERTS}/{foreign + 1000}", headers=headers)
    assert error_of(missing, 404)["code"] == "alert_not_found"  # the same answer as a missing alert
    untouched = stored(app, mine)
    assert (untouched.status, untouched.acknowledged_at, untouched.outcome) == ("open", None, None)


def test_a_supervisor_sees_and_works_the_whole_bureau_but_not_another(app, client, auth, clock, org):
    in_a = raise_at(app, org.person, clock())
    in_c = raise_at(app, org.sister_person, clock() + timedelta(minutes=1))
    foreign = raise_at(app, org.foreign_person, clock() + timedelta(minutes=2))
    boss = auth.officer(org.supervisor)
    assert ids(client.get(ALERTS, headers=boss)) == [in_a, in_c]
    assert client.get(f"{ALERTS}/{in_c}", headers=boss).status_code == 200
    acknowledged = ack(client, boss, in_a)
    assert acknowledged.status_code == 200
    assert acknowledged.get_json()["acknowledged_by"] == org.supervisor.officer.id
    assert error_of(client.get(f"{ALERTS}/{foreign}", headers=boss), 404)["code"] == "alert_not_found"
    other_boss = auth.officer(org.foreign_supervisor)
    assert ids(client.get(ALERTS, headers=other_boss)) == [foreign]
    assert error_of(ack(client, other_boss, in_a), 404)["code"] == "alert_not_found"


def test_supervisees_cannot_read_the_queue(app, client, auth, clock, org):
    raise_at(app, org.person, clock())
    phone = auth.supervisee(org.person)
    assert client.get(ALERTS, headers=phone).status_code == 403
    assert client.get(ALERTS).status_code == 401


# --- acknowledge and resolve ---------------------------------------------------------------------

def test_acknowledging_takes_an_open_alert_once(app, client, auth, clock, org):
    alert_id = raise_at(app, org.person, clock())
    headers = auth.officer(org.officer)
    first = ack(client, headers, alert_id)
    assert first.status_code == 200
    body = first.get_json()
    assert (body["status"], body["acknowledged_by"], body["acknowledged_at"]) == (
        "acknowledged", org.officer.officer.id, iso_z(clock()))
    clock.advance(minutes=5)
    again = ack(client, headers, alert_id)
    assert error_of(again, 409)["code"] == "alert_already_acknowledged"
    assert stored(app, alert_id).acknowledged_at == clock() - timedelta(minutes=5)  # the first one stands

    assert resolve(client, headers, alert_id).status_code == 200
    assert error_of(ack(client, headers, alert_id), 409)["code"] == "alert_already_resolved"


SANCTIONS = ("commendation", "admonition", "warning", "revocation_requested")


@pytest.mark.parametrize("outcome", ["false_alarm", "excused", *SANCTIONS])
def test_resolving_records_the_outcome_the_note_and_for_a_sanction_its_article(
        app, client, auth, clock, org, outcome):
    alert_id = raise_at(app, org.person, clock(), type="signal_lost", subject="signal:never")
    headers = auth.officer(org.officer)
    response = resolve(client, headers, alert_id, outcome=outcome, note="  谈话教育，已说明情况  ")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    articles = app.config["SETTINGS"].SANCTION_ARTICLES
    expected_article = articles[outcome] if outcome in SANCTIONS else None
    assert (body["status"], body["outcome"], body["note"], body["article"]) == (
        "resolved", outcome, "谈话教育，已说明情况", expected_article)
    if outcome in SANCTIONS:
        assert "第二十八条" in body["article"]  # Art. 28, the sanction ladder
    assert body["resolved_by"] == org.officer.officer.id and body["resolved_at"] == iso_z(clock())
    assert body["acknowledged_at"] == iso_z(clock())  # resolving an open alert also takes it
    row = stored(app, alert_id)
    assert (row.status, row.outcome, row.article) == ("resolved", outcome, expected_article)


@pytest.mark.parametrize("body, field", [
    ({"outcome": "excused"}, "note"),
    ({"outcome": "excused", "note": "   "}, "note"),
    ({"outcome": "excused", "note": "x" * 2001}, "note"),
    ({"outcome": "pardoned", "note": "no such outcome"}, "outcome"),
    ({"note": "no outcome"}, "outcome"),
])
def test_a_resolution_needs_a_known_outcome_and_a_note(app, client, auth, clock, org, body, field):
    alert_id = raise_at(app, org.person, clock())
    response = client.post(f"{ALERTS}/{alert_id}/resolve", headers=auth.officer(org.officer), json=body)
    error = error_of(response, 422)
    assert field in {item["path"] for item in error["details"]["fields"]}
    assert stored(app, alert_id).status == "open"


def test_resolving_twice_is_a_conflict_and_the_first_outcome_stands(app, client, auth, clock, org):
    alert_id = raise_at(app, org.person, clock())
    headers = auth.officer(org.officer)
    assert ack(client, headers, alert_id).status_code == 200
    assert resolve(client, headers, alert_id, outcome="admonition", note="first").status_code == 200
    again = resolve(client, auth.officer(org.supervisor), alert_id, outcome="false_alarm", note="second")
    assert error_of(again, 409)["code"] == "alert_already_resolved"
    row = stored(app, alert_id)
    assert (row.outcome, row.note, row.resolved_by) == ("admonition", "first", org.officer.officer.id)


def test_every_action_on_an_alert_is_audited_and_shows_on_the_timeline(app, client, auth, clock, org):
    alert_id = raise_at(app, org.person, clock(), type="signal_lost", subject="signal:never")
    headers = auth.officer(org.officer)
    assert client.get(f"{ALERTS}/{alert_id}", headers=headers).status_code == 200
    assert ack(client, headers, alert_id).status_code == 200
    assert ack(client, headers, alert_id).status_code == 409
    assert resolve(client, headers, alert_id, outcome="warning", note="out of contact").status_code == 200
    assert resolve(client, headers, alert_id).status_code == 409
    assert ack(client, auth.officer(org.sister_officer), alert_id).status_code == 404

    boss = auth.officer(org.supervisor)
    audit = client.get(f"{API}/audit?target_type=alert&target_id={alert_id}&limit=200", headers=boss)
    assert audit.status_code == 200, audit.get_json()
    entries = list(reversed(audit.get_json()["items"]))  # newest first on the wire
    assert [(e["action"], e["outcome"], e["actor_id"]) for e in entries] == [
        ("alert.read", "ok", org.officer.officer.id),
        ("alert.acknowledge", "ok", org.officer.officer.id),
        ("alert.acknowledge", "alert_already_acknowledged", org.officer.officer.id),
        ("alert.resolve", "ok", org.officer.officer.id),
        ("alert.resolve", "alert_already_resolved", org.officer.officer.id),
        ("alert.acknowledge", "alert_not_found", org.sister_officer.officer.id),
    ]
    assert all(e["actor_type"] == "officer" and e["target_type"] == "alert" for e in entries)
    assert entries[3]["details"] == {"outcome": "warning"}

    timeline = client.get(f"{API}/supervisees/{org.person.supervisee.id}/timeline", headers=boss)
    assert timeline.status_code == 200, timeline.get_json()
    [event] = [e for e in timeline.get_json()["items"] if e["type"] == "alert"]
    assert event["id"] == alert_id
    data = event["data"]
    assert (data["type"], data["status"], data["outcome"], data["note"]) == (
        "signal_lost", "resolved", "warning", "out of contact")
    assert data["article"] == app.config["SETTINGS"].SANCTION_ARTICLES["warning"]
    assert data["acknowledged_at"] is not None and data["resolved_at"] is not None


# --- 失联: the ladder's suggestion ---------------------------------------------------------------

@pytest.mark.parametrize("silent, suggested", [
    (timedelta(hours=3), "admonition"),
    (timedelta(days=10), "admonition"),
    (timedelta(days=10, hours=1), "warning"),
    (timedelta(days=30), "warning"),
    (timedelta(days=30, hours=1), "revocation_requested"),
    (timedelta(days=90), "revocation_requested"),
])
def test_signal_lost_alerts_carry_how_long_out_of_contact_and_the_ladders_step(
        app, client, auth, clock, org, silent, suggested):
    headers = auth.officer(org.officer)  # first: logging in moves the clock 30 s
    last_fix = clock() - silent  # exactly at the boundary: the boundaries are inclusive
    alert_id = raise_at(app, org.person, clock() - timedelta(hours=1), type="signal_lost", subject="signal:7",
                        evidence={"last_fix_at": iso_z(last_fix), "silent_since": iso_z(last_fix)})
    body = client.get(f"{ALERTS}/{alert_id}", headers=headers).get_json()
    contact = body["out_of_contact"]
    assert contact["since"] == iso_z(last_fix)
    assert contact["days"] == round(silent.total_seconds() / 86400, 2)
    assert contact["suggested_outcome"] == suggested
    assert contact["article"] == app.config["SETTINGS"].SANCTION_ARTICLES[suggested]
    assert "officer decides" in contact["note"]
    assert body["status"] == "open"  # a suggestion decides nothing
    listed = client.get(f"{ALERTS}?type=signal_lost", headers=headers).get_json()["items"]
    assert listed[0]["out_of_contact"] == contact


def test_out_of_contact_counts_from_enrolment_without_a_fix_and_stops_at_resolution(app, client, auth, clock, org):
    enrolled = clock() - timedelta(days=4)
    never = raise_at(app, org.person, clock(), type="signal_lost", subject="signal:never",
                     evidence={"last_fix_at": None, "silent_since": iso_z(enrolled)})
    other = raise_at(app, org.person, clock())
    headers = auth.officer(org.officer)
    assert client.get(f"{ALERTS}/{other}", headers=headers).get_json()["out_of_contact"] is None
    assert resolve(client, headers, never, outcome="admonition").status_code == 200
    clock.advance(days=20)  # three weeks later the episode still measures four days
    headers = auth.officer(org.officer)
    contact = client.get(f"{ALERTS}/{never}", headers=headers).get_json()["out_of_contact"]
    assert contact["since"] == iso_z(enrolled)
    assert contact["days"] == pytest.approx(4.0, abs=0.01)
    assert contact["suggested_outcome"] == "admonition"


# --- the supervisee's side --------------------------------------------------------------------

def test_a_supervisee_lists_their_own_unresolved_alerts_newest_first(app, client, auth, clock, org):
    t0 = clock()
    older = raise_at(app, org.person, t0)
    newer = raise_at(app, org.person, t0 + timedelta(hours=1), type="signal_lost", subject="signal:never")
    done = raise_at(app, org.person, t0 + timedelta(hours=2), type="leave_overdue", subject="leave:1")
    raise_at(app, org.person, t0 + timedelta(hours=3), type="device_changed", subject="device:2")  # nothing to explain
    raise_at(app, org.other, t0)  # someone else's
    assert resolve(client, auth.officer(org.officer), done).status_code == 200
    headers = auth.officer(org.officer)
    assert ack(client, headers, older).status_code == 200
    mine = client.get(f"{API}/me/alerts", headers=auth.supervisee(org.person))
    assert mine.status_code == 200
    assert [(a["id"], a["type"], a["status"]) for a in mine.get_json()["items"]] == [
        (newer, "signal_lost", "open"), (older, "missed_checkin", "acknowledged")]
    assert set(mine.get_json()["items"][0]) == {"id", "type", "raised_at", "status", "explanation", "explained_at"}
    assert client.get(f"{API}/me/alerts", headers=headers).status_code == 403  # officers use the queue


def test_a_supervisee_explains_their_alert_and_the_officer_reads_it(app, client, auth, clock, org):
    alert_id = raise_at(app, org.person, clock(), type="signal_lost", subject="signal:never")
    phone = auth.supervisee(org.person)
    clock.advance(minutes=10)
    response = client.post(f"{API}/me/alerts/{alert_id}/explanation", headers=phone,
                           json={"explanation": "手机坏了 the phone broke"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["explanation"] == "手机坏了 the phone broke"
    assert response.get_json()["explained_at"] == iso_z(clock())
    seen = client.get(f"{ALERTS}/{alert_id}", headers=auth.officer(org.officer)).get_json()
    assert (seen["explanation"], seen["explained_at"], seen["status"]) == (
        "手机坏了 the phone broke", iso_z(clock() - timedelta(seconds=30)), "open")
    assert stored(app, alert_id).explanation == "手机坏了 the phone broke"


def test_a_supervisee_cannot_explain_someone_elses_or_a_resolved_alert(app, client, auth, clock, org):
    theirs = raise_at(app, org.other, clock())
    resolved = raise_at(app, org.person, clock(), type="signal_lost", subject="signal:never")
    device = raise_at(app, org.person, clock(), type="device_changed", subject="device:2")
    assert resolve(client, auth.officer(org.officer), resolved).status_code == 200
    phone = auth.supervisee(org.person)

    def explain(alert_id: int, text: str = "sorry"):
        return client.post(f"{API}/me/alerts/{alert_id}/explanation", headers=phone, json={"explanation": text})

    assert error_of(explain(theirs), 404)["code"] == "alert_not_found"
    assert error_of(explain(theirs + 1000), 404)["code"] == "alert_not_found"
    assert error_of(explain(device), 404)["code"] == "alert_not_found"  # nothing asked of the supervisee
    assert error_of(explain(resolved), 409)["code"] == "alert_already_resolved"
    error_of(explain(theirs, "   "), 422)
    assert stored(app, theirs).explanation is None and stored(app, resolved).explanation is None
