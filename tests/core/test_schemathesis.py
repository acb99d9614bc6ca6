"""Property-based API testing: schemathesis 4 against the app's own OpenAPI document.

Every documented operation is called with data generated from its schemas, through WSGI,
authenticated as the role the operation admits (an office officer, a bureau supervisor, or a
supervisee for the ``/me`` operations), against a database seeded so that reads find objects
and writes (enrolling and editing supervisees, zones, leave decisions, alerts) really happen.
Each answer must not be a server error, must use a documented status code and content type,
and must match the documented response schema.

Generation is seeded (``@seed(SEED)`` per operation, no example database) so a run is reproducible. The number of
cases that ran per operation and in total is printed (``-s``) and attached to the test report
(``-rA`` shows it under "schemathesis cases").
"""
from __future__ import annotations

import json
import re
import time
import traceback
from collections import Counter
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from correction.alerts.service import raise_alert
from correction.api import ApiBlueprint
from correction.database import db
from correction.notifications.service import notify
from correction.scheduler_state import beat
from tests.factories import API, valid_national_id

pytestmark = pytest.mark.slow

MAX_EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 25}  # per operation
SEED = 20261125
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def settings_overrides():
    # hypothesis logs in far more often than a person would: keep the per-client limiter out of the way
    return {"LOGIN_RATE_LIMIT": "1000000 per minute"}


class World:
    """The seeded data and the credentials each role uses."""

    def __init__(self, app, make, auth, clock):
        self.app, self.auth, self.clock = app, auth, clock
        bureau = make.bureau()
        office = make.office(bureau, name="城中街道司法所")
        other = make.office(bureau, name="城北街道司法所")
        self.station = make.station(office)
        make.station(other)
        officer = make.officer(office)
        supervisor = make.officer(role="supervisor", bureau_id=bureau.id)
        other_officer = make.officer(other)
        # the officer's own caseload: what GET/PATCH/... find
        self.caseload = [make.supervisee(office, officer.officer, level=level)
                         for level in ("strict", "normal", "lenient", "normal")]
        # the supervisee who calls /me operations lives in the other office, out of the
        # officer's reach: fuzzing PATCH /supervisees/{id} cannot end their supervision
        self.me = make.supervisee(other, other_officer.officer, level="strict")
        self.leaver = make.supervisee(other, other_officer.officer)

        self.officer_headers = auth.officer(officer)
        self.supervisor_headers = auth.officer(supervisor)
        self.me_headers = auth.supervisee(self.me)

        client = auth.client
        subject = self.caseload[0].supervisee
        zone = client.post(f"{API}/supervisees/{subject.id}/zones", headers=self.officer_headers, json={
            "kind": "permitted", "name": "婺城区",
            "geometry": {"type": "Circle", "center": [119.649, 29.083], "radius_m": 5000}})
        assert zone.status_code == 201, zone.get_json()
        self.zone_ids = [zone.get_json()["id"]]

        leave_ids = []
        for login in self.caseload[1:3]:
            headers = auth.supervisee(login)
            start = clock() + timedelta(days=2)
            answer = client.post(f"{API}/me/leave-requests", headers=headers, json={
                "destination_name": "杭州市西湖区", "reason": "探望住院的母亲",
                "destination_geometry": {"type": "Circle", "center": [120.15, 30.28], "radius_m": 3000},
                "start_at": start.isoformat().replace("+00:00", "Z"),
                "end_at": (start + timedelta(days=3)).isoformat().replace("+00:00", "Z")})
            assert answer.status_code == 201, answer.get_json()
            leave_ids.append(answer.get_json()["id"])
        self.leave_ids = leave_ids

        with app.app_context():
            cfg = app.config["SETTINGS"]
            alerts = [raise_alert(db.session, cfg, supervisee_id=login.supervisee.id, office_id=office.id,
                                  type=kind, subject_key=f"seed-{n}", now=clock())[0].id
                      for n, (login, kind) in enumerate(zip(self.caseload, (
                          "missed_checkin", "zone_exit", "signal_lost", "mock_location")))]
            my_alert = raise_alert(db.session, cfg, supervisee_id=self.me.supervisee.id,
                                   office_id=other.id, type="missed_checkin", subject_key="seed-me",
                                   now=clock())[0].id
            for n in range(3):
                notify(db.session, supervisee_id=self.me.supervisee.id, kind="reminder",
                       title="报到提醒", body="请在今天20:00前完成报到", now=clock())
            # a scheduler leads: /readyz answers 200 (its 503s are the probe tests' business)
            beat(db.session, host="scheduler", pid=1, leading_since=clock(), now=clock())
            db.session.commit()
            from correction.notifications.models import Notification
            self.notification_ids = [n.id for n in db.session.query(Notification).all()]
        self.alert_ids = [*alerts, my_alert]

        # path parameter name -> ids that exist (hypothesis also generates ids of its own)
        self.known_ids = {
            "supervisee_id": [login.supervisee.id for login in self.caseload],
            "station_id": [self.station.id],
            "zone_id": self.zone_ids,
            "leave_id": self.leave_ids,
            "alert_id": self.alert_ids,
            "notification_id": self.notification_ids,
        }

    def fresh_supervisee_headers(self) -> dict[str, str]:
        """A token of its own, for a case that may end it (logout)."""
        return self.auth.supervisee(self.leaver)

    def me_headers_alive(self) -> dict[str, str]:
        """The /me supervisee's token, renewed if an earlier operation ended it."""
        probe = self.auth.client.get(f"{API}/me", headers=self.me_headers)
        if probe.status_code == 401:
            self.me_headers = self.auth.supervisee(self.me)
        return self.me_headers


def _requirements(app) -> dict[tuple[str, str], str | None]:
    """(METHOD, documented path) -> the auth requirement the operation declares."""
    out = {}
    for bp in app.blueprints.values():
        if isinstance(bp, ApiBlueprint):
            for op in bp.operations:
                out[(op.method, API + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.rule))] = op.auth
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(value):
    """``value`` with control characters taken out of every string (the API refuses them)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value).strip() or "x"
    if isinstance(value, dict):
        return {key: _printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_printable(item) for item in value]
    return value


def _z(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _body_fixer(operation, world: World):
    """Rules the schema cannot say (check characters, dates in order, GeoJSON, fresh fixes):
    a second strategy per write that follows them, so writes succeed, not only get refused."""
    path, method = operation.path, operation.method.upper()
    circle = {"type": "Circle", "center": [119.65, 29.08], "radius_m": 800}

    def fix(body: dict) -> dict:
        now = world.clock()
        if method == "POST" and path == f"{API}/supervisees":
            body["national_id"] = valid_national_id()
            body["supervision_start"], body["supervision_end"] = "2026-01-01", "2027-06-30"
            body.pop("office_id", None)
            body.pop("officer_id", None)
        elif path == f"{API}/supervisees/lookup":
            body["national_id"] = valid_national_id()
        elif path.endswith("/zones"):
            body["geometry"] = circle
        elif path == f"{API}/me/leave-requests":
            body["destination_geometry"] = circle
            body["start_at"] = _z(now + timedelta(days=1))
            body["end_at"] = _z(now + timedelta(days=3))
        elif path == f"{API}/me/checkins":
            body.update(kind="remote", recorded_at=_z(now), lat=29.08, lon=119.65, is_mock=False)
            body.pop("qr", None)
        elif path == f"{API}/me/locations":
            body["fixes"] = [{"recorded_at": _z(now - timedelta(seconds=n)), "lat": 29.08, "lon": 119.65,
                              "accuracy_m": 10} for n in range(3)]
        return body

    def apply(case):
        if isinstance(case.body, dict):
            case.body = fix(_printable(dict(case.body)))
        return case

    return apply


def _strategy(operation, world: World, mode):
    base = operation.as_strategy(generation_mode=mode)
    options = [base]
    for parameter in operation.path_parameters:
        for known in world.known_ids.get(parameter.name, []):
            options.append(operation.as_strategy(generation_mode=mode,
                                                 path_parameters={parameter.name: known}))
    if mode is GenerationMode.POSITIVE and operation.body:
        fixed = [option.map(_body_fixer(operation, world)) for option in options]
        options.extend(fixed)
    return st.one_of(options)


def _headers_for(operation, requirement: str | None, world: World) -> dict[str, str]:
    if requirement is None:
        return {}
    if operation.path == f"{API}/auth/logout":
        return world.fresh_supervisee_headers()
    if requirement == "supervisee" or operation.path.startswith(f"{API}/me/"):
        return world.me_headers_alive()
    if requirement == "supervisor":
        return world.supervisor_headers
    return world.officer_headers


def _run_operation(operation, world: World, requirement, mode, statuses: Counter) -> int:
    ran = 0
    strategy = _strategy(operation, world, mode)
    is_logout = operation.path == f"{API}/auth/logout"
    fixed_headers = None if is_logout else _headers_for(operation, requirement, world)

    @seed(SEED)
    @settings(max_examples=MAX_EXAMPLES[mode], database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False,
              phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @given(case=strategy)
    def run(case):
        nonlocal ran
        ran += 1
        headers = fixed_headers if fixed_headers is not None else _headers_for(operation, requirement, world)
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    return ran


def _negatable(operation) -> bool:
    """Whether negative generation has anything to break (parameters or a body)."""
    return bool(operation.body) or any(True for _ in operation.iter_parameters())


@pytest.mark.timeout(1200)  # grows with the operations: 181 s on PostgreSQL on a busy 2-core machine (2026-12)
def test_schemathesis_against_own_openapi(app, make, auth, clock, request):
    world = World(app, make, auth, clock)
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app)
    requirements = _requirements(app)

    ran: dict[str, int] = {}
    statuses: dict[str, Counter] = {}
    failures: dict[str, str] = {}
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) == len(requirements), "every registered operation is documented"
    # reads first, then writes; logout (which ends tokens) last
    operations.sort(key=lambda op: (op.path == f"{API}/auth/logout", op.method.upper() != "GET"))
    runs = [(mode, op) for mode in MAX_EXAMPLES for op in operations
            if mode is GenerationMode.POSITIVE or _negatable(op)]
    for mode, operation in runs:
        label = f"{operation.method.upper()} {operation.path} [{mode.value}]"
        counter = Counter()
        statuses[label] = counter
        try:
            ran[label] = _run_operation(operation, world, requirements[(operation.method.upper(),
                                                                        operation.path)], mode, counter)
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - FailureGroup is a BaseExceptionGroup; collect them all
            ran[label] = sum(counter.values())
            failures[label] = "".join(traceback.format_exception(error))[-6000:]
    elapsed = time.monotonic() - started

    total = sum(ran.values())
    per_mode = {mode.value: sum(n for label, n in ran.items() if label.endswith(f"[{mode.value}]"))
                for mode in MAX_EXAMPLES}
    lines = [f"{label:<72} {count:>4} cases  statuses {dict(sorted(statuses[label].items()))}"
             for label, count in ran.items()]
    summary = "\n".join([*lines, f"{len(operations)} operations, {len(ran)} runs, {total} cases {per_mode} "
                                 f"in {elapsed:.1f}s (max_examples={ {m.value: n for m, n in MAX_EXAMPLES.items()} }, "
                                 f"seed={SEED}), {len(failures)} runs failed"])
    print("\nschemathesis cases\n" + summary)
    request.node.add_report_section("call", "schemathesis cases", summary)
    request.node.user_properties.append(("schemathesis_cases", json.dumps(ran)))

    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())
    # generation must reach the operations, and writes must really succeed, not only be refused
    assert all(count > 0 for count in ran.values())
    succeeded = {label for label, counter in statuses.items() if any(200 <= s < 300 for s in counter)}
    for label in (f"POST {API}/supervisees", f"PATCH {API}/supervisees/{{supervisee_id}}",
                  f"GET {API}/supervisees/{{supervisee_id}}", f"GET {API}/supervisees",
                  f"POST {API}/me/checkins", f"POST {API}/me/leave-requests"):
        assert f"{label} [positive]" in succeeded, (label, statuses.get(f"{label} [positive]"))


# --- what the run above found, pinned as plain regression tests --------------------------------

def _cursor(values) -> str:
    import base64
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.fixture
def officer_scene(make):
    """An office, its officer (logged in) and a supervisee of theirs."""
    return make.scene(officer_login=True, phone=False)


@pytest.mark.parametrize("path", ["/supervisees/{id}", "/stations/{id}/qr", "/alerts/{id}",
                                  "/supervisees/{id}/zones"])
def test_an_id_past_the_integer_columns_is_a_404_not_a_500(client, officer_scene, path):
    # PostgreSQL INTEGER ids: 2**31 used to reach SQL and fail with "integer out of range"
    headers = officer_scene.headers
    response = client.get(API + path.format(id=2**31), headers=headers)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("values", [[2**31], [True], [1e300], [-1]])
def test_a_list_cursor_past_the_id_range_is_refused(client, officer_scene, values):
    headers = officer_scene.headers
    response = client.get(f"{API}/supervisees", query_string={"cursor": _cursor(values)}, headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("last", [2**31, 1e300, True])
def test_a_timeline_cursor_past_the_id_range_is_refused(client, officer_scene, last):
    supervisee, headers = officer_scene.person.supervisee, officer_scene.headers
    cursor = _cursor(["2026-11-25T02:00:00Z", "checkin", last])
    response = client.get(f"{API}/supervisees/{supervisee.id}/timeline", query_string={"cursor": cursor},
                          headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "invalid_cursor"


def test_a_phone_longer_than_its_column_is_a_validation_error(client, officer_scene):
    # "+" and 20 digits matched the pattern but not VARCHAR(20): a 500 on PostgreSQL
    supervisee, headers = officer_scene.person.supervisee, officer_scene.headers
    response = client.patch(f"{API}/supervisees/{supervisee.id}", json={"phone": "+" + "1" * 20},
                            headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert {f["path"] for f in response.get_json()["error"]["details"]["fields"]} == {"phone"}
