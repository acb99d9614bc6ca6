"""One device, many single-fix requests at the same moment: no deadlock, every fix once, one state."""
from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.database import db
from correction.locations.models import LocationFix, ZoneState
from tests.factories import API, INSIDE, OUTSIDE, SQUARE

OSMAND = f"{API}/ingest/osmand"
REQUESTS = 16


def ingest_key(client, make) -> tuple[int, str]:
    scene = make.scene(officer_login=True, zone=SQUARE)
    issued = client.post(f"{API}/me/ingest-key", headers=scene.phone)
    assert issued.status_code == 201, issued.get_json()
    return scene.person_id, issued.get_json()["ingest_key"]


def osmand(client, key: str, at, point):
    return client.get(f"{OSMAND}?" + urlencode({"id": key, "lat": point[0], "lon": point[1], "accuracy": 10,
                                               "timestamp": int(at.timestamp())}))


def state_of(app, person_id: int):
    with app.app_context():
        zone = db.session.execute(sa.select(ZoneState.state, ZoneState.episode).where(
            ZoneState.supervisee_id == person_id, ZoneState.zone_key == "permitted")).one_or_none()
        alerts = db.session.execute(sa.select(Alert.type).where(Alert.supervisee_id == person_id)).scalars().all()
        fixes = db.session.execute(sa.select(sa.func.count()).select_from(LocationFix).where(
            LocationFix.supervisee_id == person_id)).scalar_one()
    return zone and tuple(zone), sorted(alerts), fixes


@pytest.mark.postgresql_only
@pytest.mark.parametrize("where", [INSIDE, OUTSIDE], ids=["inside", "outside"])
def test_16_single_fixes_of_one_device_at_once_store_each_fix_once_without_a_deadlock(app, client, make, clock,
                                                                                     where):
    person_id, key = ingest_key(client, make)
    replay_id, replay_key = ingest_key(client, make)
    first = clock() - timedelta(minutes=REQUESTS + 1)
    moments = [first + timedelta(minutes=i) for i in range(REQUESTS)]
    barrier, answers = threading.Barrier(REQUESTS), []

    def phone(at):
        with app.app_context():
            own = app.test_client()
            barrier.wait(timeout=20)
            answers.append(osmand(own, key, at, where))

    threads = [threading.Thread(target=phone, args=(at,)) for at in moments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(a.status_code for a in answers) == [200] * REQUESTS, [a.get_data(as_text=True) for a in answers
                                                                       if a.status_code != 200]
    for at in moments:  # the same fixes one after another, as a single phone would send them
        assert osmand(client, replay_key, at, where).status_code == 200
    concurrent, sequential = state_of(app, person_id), state_of(app, replay_id)
    assert concurrent[2] == sequential[2] == REQUESTS
    # Where the phone was decides the state: the first reading of a place is no breach, inside or out.
    assert concurrent[0] == sequential[0]
    assert concurrent[1] == sequential[1]


@pytest.mark.postgresql_only
def test_16_fixes_judged_before_they_were_sent_racing_a_stray_one_equal_their_replay(app, client, make, clock):
    """Once the application knows the person's zones, usual fixes take their own statement. Racing them, a
    stray fix outside (a candidate exit that the next fix ends) must come out as the same fixes one by one."""
    person_id, key = ingest_key(client, make)
    replay_id, replay_key = ingest_key(client, make)
    first = clock() - timedelta(minutes=5 * REQUESTS + 20)
    for minute in range(3):  # confirmed inside, and the zones known to this application for both keys
        for each in (key, replay_key):
            assert osmand(client, each, first + timedelta(minutes=minute), INSIDE).status_code == 200
    path = [INSIDE] * 7 + [OUTSIDE] + [INSIDE] * 8  # ~10 km out and back, 5 minutes apart: possible
    moments = [first + timedelta(minutes=3 + 5 * i) for i in range(REQUESTS)]
    barrier, answers = threading.Barrier(REQUESTS), []

    def phone(at, point):
        with app.app_context():
            own = app.test_client()
            barrier.wait(timeout=20)
            answers.append(osmand(own, key, at, point))

    threads = [threading.Thread(target=phone, args=pair) for pair in zip(moments, path)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(a.status_code for a in answers) == [200] * REQUESTS
    for at, point in zip(moments, path):
        assert osmand(client, replay_key, at, point).status_code == 200

    def zone_state(person):
        with app.app_context():
            return db.session.execute(sa.select(
                ZoneState.state, ZoneState.candidate, ZoneState.candidate_count, ZoneState.episode,
                ZoneState.changed_at, ZoneState.last_fix_at).where(ZoneState.supervisee_id == person)).one()
    assert state_of(app, replay_id) == (("inside", 0), [], REQUESTS + 3)
    assert state_of(app, person_id) == state_of(app, replay_id)
    assert zone_state(person_id) == zone_state(replay_id)
    assert zone_state(person_id).last_fix_at == moments[-1]


@pytest.mark.parametrize("where, expected", [(INSIDE, (("inside", 0), [])),
                                             (OUTSIDE, (("outside", 1), ["zone_exit"]))], ids=["inside", "outside"])
def test_a_fix_arriving_after_a_later_one_counts_as_if_it_had_come_in_order(app, client, make, clock, where,
                                                                             expected):
    person_id, key = ingest_key(client, make)
    later, earlier = clock() - timedelta(minutes=1), clock() - timedelta(minutes=2)
    assert osmand(client, key, later, where).status_code == 200
    assert osmand(client, key, earlier, where).status_code == 200  # a retry that lost its way
    assert state_of(app, person_id) == (*expected, 2)
