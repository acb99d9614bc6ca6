"""Location retention: every copy of a position, purged or blurred on one clock, and all of an ended supervision's."""
from __future__ import annotations

from datetime import timedelta

import pytest

from correction.alerts.models import Alert
from correction.checkins.models import Checkin
from correction.database import db
from correction.leave.models import LeaveRequest
from correction.locations.models import LocationFix, Zone, ZoneEvent
from correction.monitoring.retention import purge_location_data
from jobs import runner as job_runner
from jobs.schedule import schedule
from tests.assertions import rows

CIRCLE = {"type": "Circle", "center": [119.65, 29.08], "radius_m": 500}
EVIDENCE = {"source": "app", "fix_id": 1, "lat": 29.08, "lon": 119.65, "accuracy_m": 12.0,
            "recorded_at": "2026-01-01T00:00:00Z"}


@pytest.fixture
def settings_overrides():
    return {"LOCATION_RETENTION_DAYS": 180, "ENDED_SUPERVISION_LOCATION_DAYS": 30}


class Scene:
    """One active supervisee with location data just before and just after the cutoff, and one
    whose supervision ended long enough ago, with only recent data."""

    def __init__(self, app, make, clock):
        self.app, self.now = app, clock()
        self.cutoff = self.now - timedelta(days=180)
        office = make.office()
        officer = make.officer(office)
        self.active = make.supervisee(office, officer.officer).supervisee
        self.ended = make.supervisee(office, officer.officer, status="ended",
                                     end=(self.now - timedelta(days=40)).date()).supervisee
        self.recently_ended = make.supervisee(office, officer.officer, status="ended",
                                              end=(self.now - timedelta(days=10)).date()).supervisee
        self.old, self.new = self.cutoff - timedelta(minutes=1), self.cutoff + timedelta(minutes=1)
        with app.app_context():
            for person in (self.active, self.ended, self.recently_ended):
                times = (self.old, self.new) if person is self.active else (self.new,)
                for at in times:
                    self._location_rows(person, at)
            db.session.commit()

    def _location_rows(self, person, at):
        s = db.session
        s.add(LocationFix(supervisee_id=person.id, recorded_at=at, received_at=at, lat=29.08, lon=119.65,
                          accuracy_m=10.0, is_mock=False, source="app"))
        s.add(ZoneEvent(supervisee_id=person.id, zone_key="permitted", event="exit", at=at, lat=29.2, lon=119.7,
                        accuracy_m=15.0))
        s.add(Checkin(supervisee_id=person.id, office_id=person.office_id, kind="remote", outcome="accepted",
                      window_key=f"remote:{at.isoformat()}", lat=29.08, lon=119.65, accuracy_m=12.0,
                      distance_m=30.0, is_mock=False, recorded_at=at, received_at=at))
        s.add(Alert(supervisee_id=person.id, office_id=person.office_id, type="zone_exit", severity="high",
                    subject_key=f"permitted:{at.isoformat()}", evidence={**EVIDENCE, "zones": ["辖区"]},
                    status="resolved", raised_at=at))
        leave = LeaveRequest(supervisee_id=person.id, office_id=person.office_id, destination_name="杭州",
                             destination_geometry=CIRCLE, reason="探亲", start_at=at - timedelta(days=3),
                             end_at=at, days=3, approver_role="officer", status="closed", created_at=at,
                             returned_at=None)
        s.add(leave)
        s.flush()
        s.add(Zone(supervisee_id=person.id, office_id=person.office_id, kind="permitted", name="请假目的地 杭州",
                   geometry=CIRCLE, active=False, leave_request_id=leave.id, applies_from=leave.start_at,
                   applies_until=at, created_at=at))
        if at == self.new:  # the home area, drawn once
            s.add(Zone(supervisee_id=person.id, office_id=person.office_id, kind="permitted", name="辖区",
                       geometry=CIRCLE, active=True, created_at=at))

    def purge(self) -> int:
        with self.app.app_context():
            touched = purge_location_data(db.session, self.app.config["SETTINGS"], self.now)
            db.session.commit()
            return touched


@pytest.fixture
def scene(app, make, clock):
    return Scene(app, make, clock)


def by_person(app, model, person, *where):
    return rows(app, model, model.supervisee_id == person.id, *where)


def test_fixes_and_zone_events_before_the_cutoff_are_deleted_and_after_it_kept(app, scene):
    scene.purge()
    for model, column in ((LocationFix, LocationFix.recorded_at), (ZoneEvent, ZoneEvent.at)):
        kept = by_person(app, model, scene.active)
        assert [getattr(r, column.key) for r in kept] == [scene.new], model


def test_old_checkins_stay_as_records_without_their_coordinates(app, scene):
    scene.purge()
    old, new = by_person(app, Checkin, scene.active)
    assert (old.received_at, new.received_at) == (scene.old, scene.new)
    assert (old.lat, old.lon, old.accuracy_m, old.distance_m) == (None, None, None, None)
    assert old.outcome == "accepted" and old.window_key
    assert (new.lat, new.lon, new.accuracy_m, new.distance_m) == (29.08, 119.65, 12.0, 30.0)


def test_old_alerts_keep_their_evidence_but_not_the_coordinates(app, scene):
    scene.purge()
    old, new = by_person(app, Alert, scene.active)
    assert old.evidence == {"source": "app", "fix_id": 1, "recorded_at": "2026-01-01T00:00:00Z", "zones": ["辖区"]}
    assert old.status == "resolved" and old.type == "zone_exit"
    assert new.evidence == {**EVIDENCE, "zones": ["辖区"]}


def test_leave_over_before_the_cutoff_loses_its_area_and_its_zones(app, scene):
    scene.purge()
    old, new = by_person(app, LeaveRequest, scene.active)
    assert old.destination_geometry is None and old.destination_name == "杭州" and old.status == "closed"
    assert new.destination_geometry == CIRCLE
    zones = by_person(app, Zone, scene.active)
    assert {(z.leave_request_id, z.name) for z in zones} == {(new.id, "请假目的地 杭州"), (None, "辖区")}


def test_everything_located_of_a_supervision_ended_long_enough_ago_goes(app, scene):
    scene.purge()
    for model in (LocationFix, ZoneEvent, Zone):
        assert by_person(app, model, scene.ended) == [], model
    (checkin,) = by_person(app, Checkin, scene.ended)
    assert checkin.lat is None and checkin.distance_m is None
    (alert,) = by_person(app, Alert, scene.ended)
    assert "lat" not in alert.evidence and alert.evidence["zones"] == ["辖区"]
    (leave,) = by_person(app, LeaveRequest, scene.ended)
    assert leave.destination_geometry is None
    # ended ten days ago: within the grace the setting gives, nothing of theirs is touched
    assert len(by_person(app, LocationFix, scene.recently_ended)) == 1
    assert len(by_person(app, Zone, scene.recently_ended)) == 2
    assert by_person(app, Checkin, scene.recently_ended)[0].lat == 29.08
    assert "lat" in by_person(app, Alert, scene.recently_ended)[0].evidence


def test_the_purge_is_idempotent(scene):
    assert scene.purge() > 0
    assert scene.purge() == 0


def test_the_nightly_job_runs_the_whole_purge(app, scene):
    spec = next(s for s in schedule(app.config["SETTINGS"]) if s.id == "purge_location_fixes")
    with app.app_context():
        clock = app.extensions["correction.clock"]
        assert clock() == scene.now
    run = job_runner.run_job(app, spec)
    assert run.rows > 0
    assert rows(app, Checkin, Checkin.received_at < scene.cutoff, Checkin.lat.is_not(None)) == []
    assert rows(app, LeaveRequest, LeaveRequest.end_at < scene.cutoff,
                LeaveRequest.destination_geometry.is_not(None)) == []


def test_a_pending_request_whose_area_was_purged_cannot_be_approved(app, make, auth, client, clock):
    office = make.office()
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer).supervisee
    old = clock() - timedelta(days=200)
    with app.app_context():
        leave = LeaveRequest(supervisee_id=person.id, office_id=office.id, destination_name="杭州",
                             destination_geometry=CIRCLE, reason="探亲", start_at=old, end_at=old + timedelta(days=2),
                             days=2, approver_role="officer", status="pending", created_at=old)
        db.session.add(leave)
        db.session.commit()
        purge_location_data(db.session, app.config["SETTINGS"], clock())
        db.session.commit()
    answer = client.post(f"/api/v1/leave-requests/{leave.id}/approve", headers=auth.officer(officer), json={})
    assert answer.status_code == 409, answer.get_json()
    assert answer.get_json()["error"]["code"] == "leave_destination_purged"
    assert rows(app, LeaveRequest, LeaveRequest.id == leave.id)[0].status == "pending"
