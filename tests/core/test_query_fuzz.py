"""Every GET endpoint with query parameters, and the OsmAnd endpoint, fed hostile query strings.

The schemathesis run (tests/test_schemathesis.py) generates from the documented schemas, which
rarely reaches the values that broke the service: cursors holding Infinity, ids past 64 bits or
times without a zone, times at the ends of the calendar with extreme offsets, weeks in year 9999,
epoch timestamps of thirty digits. Here hypothesis builds each query parameter from a strategy of
such values (chosen by the parameter's name and documented format), mixed with ordinary ones, and
calls the operation as the role it admits. No answer may be a 5xx; every 4xx is the one error shape.
The number of cases per operation and in total is printed (``-s``) and must reach MIN_CASES.
"""
from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from correction.alerts.service import raise_alert
from correction.database import db
from tests.factories import API

pytestmark = pytest.mark.slow

SEED = 20261201
EXAMPLES = 160  # per operation
MIN_CASES = 2000

offsets = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                            max_value=timedelta(hours=23, minutes=59)))
moments = st.one_of(st.datetimes(timezones=st.one_of(st.none(), offsets)),
                    st.sampled_from([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)]).flatmap(
                        lambda m: offsets.map(lambda z: m.replace(tzinfo=z))))
times = st.one_of(moments.map(datetime.isoformat), moments.map(lambda m: m.isoformat().replace("+00:00", "Z")),
                  st.sampled_from(["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "Infinity", "now",
                                   "2026-11-25T02:00:00Z", "2026-11-25T10:00:00+08:00", "2026-11-25"]),
                  st.text(max_size=30))
huge = st.one_of(st.integers(), st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
                 st.integers(min_value=10**18, max_value=10**40), st.integers(max_value=-1))
cursor_values = st.recursive(
    st.one_of(st.none(), st.booleans(), huge, st.floats(), times, st.sampled_from([0, 1, 2, "alert", "checkin"])),
    lambda inner: st.lists(inner, max_size=3), max_leaves=6)
cursors = st.one_of(
    st.lists(cursor_values, max_size=4).map(json.dumps),
    st.sampled_from(["[0, \"2026-11-25T02:00:00Z\", Infinity]", "[NaN]", "[-Infinity]",
                     "[\"2026-11-25T02:00:00\", \"alert\", 1]", "[1e999]", "[" * 60 + "]" * 60]),
).map(lambda text: base64.urlsafe_b64encode(text.encode()).decode())
weeks = st.one_of(st.tuples(st.integers(0, 9999), st.integers(0, 60)).map(lambda yw: f"{yw[0]:04d}-W{yw[1]:02d}"),
                  st.sampled_from(["9999-W52", "0001-W01", "2026-W48", "2026-W53", "2020-W53"]), st.text(max_size=10))
epochs = st.one_of(huge.map(str), st.text(alphabet="0123456789-", min_size=1, max_size=40), times)
junk = st.one_of(st.text(max_size=20), huge.map(str), st.sampled_from(["", "true", "-1", "1e400", "NaN"]))


def _value_strategy(parameter: dict):
    name, schema = parameter["name"], parameter.get("schema", {})
    kinds = {schema.get("type"), schema.get("format"), *(s.get("type") for s in schema.get("anyOf", [])),
             *(s.get("format") for s in schema.get("anyOf", []))}
    enums = [*schema.get("enum", []), *(v for s in schema.get("anyOf", []) for v in s.get("enum", []))]
    if name == "cursor":
        base = cursors
    elif name == "week":
        base = weeks
    elif name == "timestamp":
        base = epochs
    elif "date-time" in kinds:
        base = times
    elif "integer" in kinds:
        base = huge.map(str)
    elif enums:
        base = st.sampled_from([str(v) for v in enums])
    else:
        base = junk
    return st.one_of(base, junk) if name != "format" else st.sampled_from(["json", "csv", "xlsx", "pdf", "geojson",
                                                                           "gpx", "x"])


def _ordinary_strategy(parameter: dict, world: "World"):
    """A value the operation accepts, so the hostile one is not the only thing that reaches it."""
    name, schema = parameter["name"], parameter.get("schema", {})
    enums = [*schema.get("enum", []), *(v for s in schema.get("anyOf", []) for v in s.get("enum", []))]
    formats = {schema.get("format"), *(s.get("format") for s in schema.get("anyOf", []))}
    if name in world.ordinary:
        return st.just(world.ordinary[name])
    if enums:
        return st.sampled_from([str(v) for v in enums])
    if "date-time" in formats:
        return st.sampled_from(["2026-11-20T00:00:00Z", "2026-11-25T10:00:00+08:00"])
    if name.endswith("_id"):
        return st.just(str(world.ids.get("supervisee_id")))
    return st.sampled_from(["1", "true"]) if name != "q" else st.just("矫正")


def _query_strategy(parameters: list[dict], world: "World"):
    """Ordinary values for some parameters, and hostile ones for one or more of them."""
    ordinary = st.fixed_dictionaries({}, optional={p["name"]: _ordinary_strategy(p, world) for p in parameters
                                                   if p["name"] != "cursor"})
    hostile = st.fixed_dictionaries({}, optional={p["name"]: _value_strategy(p) for p in parameters})
    return st.tuples(ordinary, hostile).map(lambda pair: {**pair[0], **pair[1]})


class World:
    def __init__(self, app, make, auth, clock):
        bureau = make.bureau()
        office = make.office(bureau)
        officer = make.officer(office)
        self.officer = auth.officer(officer)
        self.supervisor = auth.officer(make.officer(role="supervisor", bureau_id=bureau.id))
        person = make.supervisee(office, officer.officer, level="strict")
        self.me = auth.supervisee(person)
        self.ids = {"supervisee_id": person.supervisee.id, "station_id": make.station(office).id}
        key = auth.client.post(f"{API}/me/ingest-key", headers=self.me).get_json()["ingest_key"]
        self.ordinary = {"id": key, "lat": "29.08", "lon": "119.65", "accuracy": "12", "week": "2026-W47",
                         "office_id": str(office.id), "limit": "5", "timestamp": str(int(clock().timestamp())),
                         "from": "2026-11-24T00:00:00Z", "to": "2026-11-25T00:00:00Z"}
        with app.app_context():
            cfg = app.config["SETTINGS"]
            for n, kind in enumerate(("missed_checkin", "zone_exit", "signal_lost")):
                raise_alert(db.session, cfg, supervisee_id=person.supervisee.id, office_id=office.id, type=kind,
                            subject_key=f"fuzz-{n}", now=clock() - timedelta(hours=n))
            db.session.commit()

    def headers(self, path: str) -> dict[str, str]:
        if path.startswith(f"{API}/me"):
            return self.me
        if path in (f"{API}/audit", f"{API}/jobs"):
            return self.supervisor
        return self.officer


def _operations(client) -> list[tuple[str, list[dict]]]:
    doc = client.get(f"{API}/openapi.json").get_json()
    found = []
    for path, operations in doc["paths"].items():
        get = operations.get("get")
        query = [p for p in (get or {}).get("parameters", []) if p["in"] == "query"]
        if query:
            found.append((path, query))
    # OsmAnd reads its parameters itself; the document does not list them
    osmand = [{"name": name, "schema": {"type": "string"}} for name in ("id", "lat", "lon", "accuracy", "speed")]
    found.append((f"{API}/ingest/osmand", [*osmand, {"name": "timestamp", "schema": {"type": "string"}}]))
    return found


def _check(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if response.status_code >= 400:
        body = response.get_json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body


def test_no_query_string_makes_a_server_error(app, client, make, auth, clock, request):
    world = World(app, make, auth, clock)
    ran: dict[str, Counter] = {}
    for path, parameters in _operations(client):
        statuses = ran[path] = Counter()
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(world.ids[m.group(1)]), path)
        headers = world.headers(path)

        @seed(SEED)
        @settings(max_examples=EXAMPLES, database=None, deadline=None, suppress_health_check=list(HealthCheck),
                  print_blob=True)
        @given(query=_query_strategy(parameters, world))
        def call(query):
            response = client.get(concrete, query_string=query, headers=headers)
            statuses[response.status_code] += 1
            _check(response)

        call()
    total = sum(sum(c.values()) for c in ran.values())
    summary = "\n".join([*(f"GET {path:<60} {sum(c.values()):>4} cases  statuses {dict(sorted(c.items()))}"
                           for path, c in ran.items()), f"{len(ran)} operations, {total} cases, seed={SEED}"])
    print("\nquery fuzz cases\n" + summary)
    request.node.add_report_section("call", "query fuzz cases", summary)
    assert total >= MIN_CASES, summary
    # the strategies reach past validation too: each operation answered something other than 422
    assert all(set(c) - {422} for c in ran.values()), summary
