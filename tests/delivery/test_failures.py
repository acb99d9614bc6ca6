"""Notices that reach no phone raise one delivery_failed alert per supervisee, kind and day, in the queue."""
from __future__ import annotations

from correction.alerts.models import Alert
from jobs import runner
from jobs.schedule import schedule
from tests.assertions import rows
from tests.factories import API

from .helpers import queue, register_phone, run_dispatcher


def sweep(app):
    [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == "delivery_failures"]
    result = runner.run_job(app, spec)
    assert result is not None and result.ok, result and result.error
    return result.rows


def test_failed_notices_raise_one_delivery_failed_alert_per_person_kind_and_day(app, client, make, auth, jpush, clock):
    org = make.org()
    register_phone(client, jpush, auth.supervisee(org.person))  # org.person's phone gets its pushes
    queue(app, org.sister_person.supervisee.id, 3)  # nobody registered: all three fail
    queue(app, org.person.supervisee.id, 2)
    run_dispatcher(app)
    assert sweep(app) == 0  # the text fallback and a late read still have their half hour
    clock.advance(minutes=31)
    assert sweep(app) == 1
    assert sweep(app) == 0
    [alert] = rows(app, Alert, Alert.type == "delivery_failed")
    assert (alert.supervisee_id, alert.office_id, alert.severity) == (
        org.sister_person.supervisee.id, org.sister_office.id, "medium")
    assert alert.evidence["deliveries"] == 3 and alert.evidence["kind"] == "leave_decision"
    assert alert.evidence["last_errors"] == {"push": "no push id: the phone has not registered one"}
    # in the sister office's queue (the supervisor's bureau), not in the other office's
    queue_of = lambda headers: [a["type"] for a in client.get(  # noqa: E731
        f"{API}/alerts", query_string={"type": "delivery_failed"}, headers=headers).get_json()["items"]]
    supervisor = auth.officer(org.supervisor)
    assert queue_of(supervisor) == ["delivery_failed"]
    assert queue_of(auth.officer(org.officer)) == []
    # resolved, the day's failures of that kind are not raised again
    for step, body in (("acknowledge", None), ("resolve", {"outcome": "excused", "note": "换了手机"})):
        answer = client.post(f"{API}/alerts/{alert.id}/{step}", json=body, headers=supervisor)
        assert answer.status_code == 200, answer.get_json()
    assert sweep(app) == 0
    queue(app, org.sister_person.supervisee.id, 1, kind="points_posted")
    run_dispatcher(app)
    clock.advance(minutes=31)
    assert sweep(app) == 1  # another kind of notice: its own alert
    assert len(rows(app, Alert, Alert.type == "delivery_failed")) == 2
