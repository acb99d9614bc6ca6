"""What follows a reported fact: one alert per breach, its points once, and no fact unheard."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.database import db
from correction.events import Breach, CheckinAccepted, publish
from correction.mall.models import PointEntry
from correction.monitoring.breaches import PENALTIES


def _ledger(person_id):
    return db.session.execute(sa.select(PointEntry.event, PointEntry.event_ref, PointEntry.delta)
                              .where(PointEntry.supervisee_id == person_id)).all()


@pytest.mark.parametrize("type_", ["mock_location", "zone_exit", "exclusion_entry", "impossible_movement",
                                   "device_changed"])
def test_a_breach_reported_twice_opens_one_alert_and_costs_its_points_once(app, make, clock, type_):
    office = make.office()
    person = make.supervisee(office).supervisee
    breach = Breach(supervisee_id=person.id, office_id=office.id, type=type_, subject_key="s:1", at=clock(),
                    evidence={"why": "test"})
    with app.app_context():
        settings = app.config["SETTINGS"]
        publish(db.session, settings, breach)
        publish(db.session, settings, breach)  # a retried upload, a second phone
        db.session.commit()
        alerts = db.session.execute(sa.select(Alert).where(Alert.supervisee_id == person.id)).scalars().all()
        assert [(a.type, a.subject_key, a.evidence) for a in alerts] == [(type_, "s:1", {"why": "test"})]
        ledger = _ledger(person.id)
    if type_ in PENALTIES:
        assert [(event, ref) for event, ref, _ in ledger] == [(PENALTIES[type_], f"alert:{alerts[0].id}")]
        assert ledger[0].delta < 0
    else:
        assert ledger == []


def test_an_accepted_check_in_earns_its_rule_once(app, make, clock):
    office = make.office()
    person = make.supervisee(office).supervisee
    accepted = CheckinAccepted(supervisee_id=person.id, office_id=office.id, kind="station", checkin_id=7,
                               at=clock())
    with app.app_context():
        publish(db.session, app.config["SETTINGS"], accepted)
        publish(db.session, app.config["SETTINGS"], accepted)
        db.session.commit()
        assert [(e, ref) for e, ref, _ in _ledger(person.id)] == [("checkin_station", "checkin:7")]


def test_a_fact_nobody_handles_is_an_error_not_a_silence(app, make, clock):
    office = make.office()
    person = make.supervisee(office).supervisee
    app.extensions["correction.events"] = {}
    with app.app_context(), pytest.raises(LookupError, match="Breach"):
        publish(db.session, app.config["SETTINGS"], Breach(supervisee_id=person.id, office_id=office.id,
                                                          type="mock_location", subject_key="x", at=clock()))
