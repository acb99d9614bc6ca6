"""The last real fix before new ones: the person's own, and found without reading their history.

Impossible movement is judged against the person's last real fix before the new ones. Every path
asks for it (a real client's statement, the app's batch statement, the evaluator), and PostgreSQL
keeps a generic plan for a statement run often, made once, perhaps while the table was small: the
question must not then be answered by reading and sorting every fix the person ever sent. The
plan test makes PostgreSQL's generic plan from a table of a few thousand rows that was never
analysed (as a fresh deployment's, or any with autovacuum off): the plain question (``ORDER BY
recorded_at DESC LIMIT 1``) is then planned as a bitmap scan of all the person's fixes and a sort.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.database import db
from correction.locations import batch, service, single
from correction.security import hash_token
from tests.assertions import alerts
from tests.factories import API, INSIDE, SQUARE, fix, upload

HISTORY = 2000  # earlier fixes of the person: a plan that reads them all reads 2,000 rows
FAR = (29.5, 120.1)  # about 65 km north-east of INSIDE: over 200 km/h if reached in a minute


@pytest.fixture
def two(make, client):
    """Two supervisees with SQUARE as permitted area, the first made first (the lower id), and the
    second's ingest key: (first, second, key)."""
    first = make.scene(officer_login=True, zone=SQUARE)
    second = make.scene(officer_login=True, zone=SQUARE)
    issued = client.post(f"{API}/me/ingest-key", headers=second.phone)
    assert issued.status_code == 201
    assert first.person_id < second.person_id
    return first, second, issued.get_json()["ingest_key"]


def test_a_first_fix_is_not_judged_against_another_persons_or_a_mocked_one(app, client, clock, two):
    first, second, key = two
    at = clock() - timedelta(minutes=30)
    assert upload(client, first.phone, [fix(at, FAR)]).get_json()["stored"] == 1
    mocked = {**fix(at + timedelta(seconds=20), FAR), "is_mock": True}
    assert upload(client, second.phone, [mocked]).get_json()["stored"] == 1
    # a minute after both fixes, 65 km away: impossible only if judged against either of them
    answer = client.get(f"{API}/ingest/osmand", query_string={
        "id": key, "lat": INSIDE[0], "lon": INSIDE[1], "accuracy": 10,
        "timestamp": int((at + timedelta(minutes=1)).timestamp())})
    assert answer.status_code == 200
    assert "impossible_movement" not in [a.type for a in alerts(app, second.person_id)]
    # and against the person's own last real fix it is
    assert upload(client, second.phone, [fix(at + timedelta(minutes=2), FAR)]).get_json()["stored"] == 1
    assert "impossible_movement" in [a.type for a in alerts(app, second.person_id)]


@pytest.mark.postgresql_only
@pytest.mark.parametrize("statement", ["one fix", "batch", "evaluator"])
def test_the_last_real_fix_is_read_from_one_row_even_with_a_plan_made_for_a_small_table(app, clock, two,
                                                                                         statement):
    _, second, key = two
    newest = clock() - timedelta(hours=1)
    with app.app_context():
        db.session.execute(sa.text("""
            INSERT INTO location_fixes (supervisee_id, received_at, source, recorded_at, lat, lon, accuracy_m,
                                        is_mock)
            SELECT :person, :newest, 'app', :newest - make_interval(secs => n * 60), 29.05, 119.65, 10, false
            FROM generate_series(0, :count - 1) AS n"""),
            {"person": second.person_id, "newest": newest, "count": HISTORY})
        db.session.commit()
        (_, new_fix, refusal), = service.checked(app.config["SETTINGS"], [fix(newest + timedelta(minutes=1), INSIDE)],
                                                  clock())
        assert refusal is None
        sql, params = {
            "one fix": lambda: (single._ONE_FIX._driver_sql, {
                **new_fix.model_dump(), "key_hash": hash_token(key), "source": "osmand", "now": newest,
                "issued_after": newest - timedelta(days=365), "touch_before": newest, "held_zones": "{}"}),
            "batch": lambda: (batch._BATCH._driver_sql, {
                "fixes": batch.as_json([new_fix]), "supervisee_id": second.person_id, "received_at": newest,
                "source": "app", "held_zones": "{}"}),
            "evaluator": lambda: _driver_form(service._REAL_FIX_BEFORE, {
                "supervisee_id": second.person_id, "before": newest + timedelta(minutes=1)}),
        }[statement]()
        connection = db.session.connection()
        # the plan PostgreSQL keeps for a prepared statement, made from this small table as it is
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).scalar_one()
        db.session.rollback()
    reads = [node for node in _nodes(_as_plan(plan))
             if node.get("Relation Name") == "location_fixes" and node["Node Type"] != "ModifyTable"]
    assert reads, plan
    assert all(node["Actual Rows"] + node.get("Rows Removed by Filter", 0) <= 2 for node in reads), reads


def _driver_form(statement, params):
    compiled = statement.compile(dialect=db.session.get_bind().dialect)
    return str(compiled), compiled.construct_params(params)


def _as_plan(plan):
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)
