"""GET /metrics: only for operators; requests, fixes, alerts and the scheduler as Prometheus reads them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobs.runner import run_job
from jobs.schedule import schedule
from tests.assertions import error_of
from tests.factories import INSIDE, SQUARE, fix, upload

API = "/api/v1"
TOKEN = "metrics-token-for-the-tests-0123456789"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings_overrides():
    return {"METRICS_TOKEN": TOKEN}


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics", headers=OPERATOR)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def changes(before, after):
    """How much a sample moved between two scrapes: ``delta(name, **labels)``."""
    def delta(name, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)
    return delta


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0123456789abcdef"},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}])
def test_metrics_are_refused_to_anyone_without_the_token_as_if_missing(client, headers):
    error = error_of(client.get("/metrics", headers=headers), 404)
    assert error["code"] == "not_found"


@pytest.mark.parametrize("settings_overrides", [{}])
def test_without_a_metrics_token_metrics_are_off(client):
    error_of(client.get("/metrics", headers={"Authorization": "Bearer "}), 404)
    error_of(client.get("/metrics", headers=OPERATOR), 404)


def test_an_officer_token_does_not_open_metrics(client, make, auth):
    scene = make.scene(officer_login=True)
    error_of(client.get("/metrics", headers=scene.headers), 404)


def test_requests_are_counted_and_timed_by_their_rule_never_their_raw_path(client, make):
    scene = make.scene(officer_login=True)
    rule = f"{API}/supervisees/<id:supervisee_id>"
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"{API}/supervisees/{scene.person_id}", headers=scene.headers).status_code == 200
    assert client.get(f"{API}/supervisees/999999", headers=scene.headers).status_code == 404
    assert client.get("/no/such/path/12345").status_code == 404
    after = scrape(client)
    delta = changes(before, after)
    assert delta("correction_http_requests_total", endpoint=rule, method="GET", status="200") == 3
    assert delta("correction_http_requests_total", endpoint=rule, method="GET", status="404") == 1
    assert delta("correction_http_requests_total", endpoint="(unmatched)", method="GET", status="404") == 1
    assert delta("correction_http_request_duration_seconds_count", endpoint=rule, method="GET") == 4
    assert delta("correction_http_request_duration_seconds_bucket", endpoint=rule, method="GET", le="+Inf") == 4
    assert delta("correction_http_request_duration_seconds_sum", endpoint=rule, method="GET") > 0
    assert not any("12345" in str(labels) or f"/{scene.person_id}" in str(labels) for _, labels in after)


def test_fixes_stored_duplicate_and_refused_are_counted_by_code(client, clock, make):
    scene = make.scene()
    t = clock() - timedelta(minutes=10)
    before = scrape(client)
    batch = [fix(t, INSIDE), fix(t + timedelta(minutes=1), INSIDE, accuracy=99999),
             fix(clock() + timedelta(hours=1), INSIDE)]
    answer = upload(client, scene.phone, batch).get_json()
    assert answer["stored"] == 1
    assert [r["code"] for r in answer["refused"]] == ["accuracy_too_poor", "fix_in_future"]
    upload(client, scene.phone, [fix(t, INSIDE)])  # the same fix again: a duplicate
    after = scrape(client)
    delta = changes(before, after)
    assert delta("correction_location_fixes_stored_total") == 1
    assert delta("correction_location_fixes_duplicate_total") == 1
    assert delta("correction_location_fixes_refused_total", code="accuracy_too_poor") == 1
    assert delta("correction_location_fixes_refused_total", code="fix_in_future") == 1


@pytest.mark.postgresql_only
def test_fixes_judged_before_they_were_sent_are_counted_by_outcome(client, clock, make):
    scene = make.scene(officer_login=True, zone=SQUARE)
    key = client.post(f"{API}/me/ingest-key", headers=scene.phone).get_json()["ingest_key"]
    start = clock() - timedelta(minutes=10)
    before = scrape(client)
    for minute in range(3):  # the first fix is not judged first; the second is not yet the usual case
        assert client.get(f"{API}/ingest/osmand?id={key}&lat={INSIDE[0]}&lon={INSIDE[1]}&accuracy=10"
                          f"&timestamp={int((start + timedelta(minutes=minute)).timestamp())}").status_code == 200
    after = scrape(client)
    delta = changes(before, after)
    assert delta("correction_location_fixes_judged_first_total", outcome="evaluated") == 1
    assert delta("correction_location_fixes_judged_first_total", outcome="usual") == 1
    assert delta("correction_location_fixes_stored_total") == 3


def test_unresolved_alerts_are_gauged_by_severity_and_status(client, clock, make):
    scene = make.scene()
    samples = scrape(client)
    assert value(samples, "correction_alerts_unresolved", severity="high", status="open") == 0
    upload(client, scene.phone, [fix(clock() - timedelta(minutes=1), INSIDE, is_mock=True)])
    samples = scrape(client)
    assert value(samples, "correction_alerts_unresolved", severity="high", status="open") == 1
    assert sum(v for (name, _), v in samples.items() if name == "correction_alerts_unresolved") == 1
    assert value(samples, "correction_metrics_database_up") == 1


def test_sweep_lag_job_age_and_heartbeat_come_from_the_database(app, client, clock):
    spec = {s.id: s for s in schedule(app.config["SETTINGS"])}["missed_checkins"]
    assert run_job(app, spec).ok
    clock.advance(seconds=150)
    samples = scrape(client)
    assert value(samples, "correction_sweep_lag_seconds", job="missed_checkins") == 150
    assert value(samples, "correction_job_last_run_age_seconds", job="missed_checkins") == 150
    assert value(samples, "correction_job_last_run_ok", job="missed_checkins") == 1
    assert ("correction_job_last_run_age_seconds", (("job", "weekly_reports"),)) not in samples  # never ran
    assert not any(name == "correction_scheduler_heartbeat_age_seconds" for name, _ in samples)  # never led


def test_a_scrape_with_the_database_down_still_answers(client, monkeypatch):
    import sqlalchemy as sa

    from correction.ops import metrics

    def down(self, session):
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(metrics.DatabaseCollector, "_from_database", down)
    samples = scrape(client)
    assert value(samples, "correction_metrics_database_up") == 0
    assert any(name == "correction_http_requests_total" for name, _ in samples)
