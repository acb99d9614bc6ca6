"""Raising alerts: never a second unresolved one for the same subject, even under concurrency."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.alerts.service import raise_alert
from correction.database import db
from tests.assertions import rows


@pytest.fixture
def scene(make):
    """An office, its officer and two supervisees of theirs, nobody logged in."""
    return make.scene(other="normal", phone=False)


def raise_one(app, scene, *, type="missed_checkin", subject="remote:2026-W48", evidence=None,
              severity=None, person=None):
    """Raise an alert in its own transaction, as a job or a request would; return (id, created)."""
    person = person or scene.person
    with app.app_context():
        alert, created = raise_alert(db.session, app.config["SETTINGS"], supervisee_id=person.supervisee.id,
                                     office_id=person.supervisee.office_id, type=type, subject_key=subject,
                                     now=app.extensions["correction.clock"](), evidence=evidence,
                                     severity=severity)
        alert_id = alert.id
        db.session.commit()
    return alert_id, created


def set_status(app, alert_id: int, status: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(Alert).where(Alert.id == alert_id).values(status=status))
        db.session.commit()


def alerts_of(app, scene, person=None) -> list[Alert]:
    person = person or scene.person
    return rows(app, Alert, Alert.supervisee_id == person.supervisee.id)


# --- raise_alert --------------------------------------------------------------------------------

def test_raising_an_alert_opens_it_with_the_configured_severity(app, scene, clock):
    alert_id, created = raise_one(app, scene, type="signal_lost", subject="signal:1",
                                  evidence={"last_fix_at": "2026-11-24T02:00:00Z"})
    assert created is True
    (alert,) = alerts_of(app, scene)
    assert alert.id == alert_id
    assert (alert.type, alert.subject_key, alert.status, alert.severity) == (
        "signal_lost", "signal:1", "open", "high")
    assert alert.office_id == scene.office.id
    assert alert.raised_at == clock()
    assert alert.evidence == {"last_fix_at": "2026-11-24T02:00:00Z"}


def test_raising_the_same_alert_again_returns_the_open_one_unchanged(app, scene, clock):
    first_id, _ = raise_one(app, scene, evidence={"n": 1})
    clock.advance(hours=3)
    again_id, created = raise_one(app, scene, evidence={"n": 2})
    assert (again_id, created) == (first_id, False)
    (alert,) = alerts_of(app, scene)
    assert alert.evidence == {"n": 1}
    assert alert.raised_at == clock() - timedelta(hours=3)


def test_an_acknowledged_alert_still_counts_as_unresolved(app, scene):
    first_id, _ = raise_one(app, scene)
    set_status(app, first_id, "acknowledged")
    assert raise_one(app, scene) == (first_id, False)
    assert len(alerts_of(app, scene)) == 1


def test_after_the_alert_is_resolved_the_same_subject_can_alert_again(app, scene):
    first_id, _ = raise_one(app, scene)
    set_status(app, first_id, "resolved")
    second_id, created = raise_one(app, scene)
    assert created is True and second_id != first_id
    assert [(a.id, a.status) for a in alerts_of(app, scene)] == [(first_id, "resolved"), (second_id, "open")]
    assert raise_one(app, scene) == (second_id, False)


def test_another_subject_type_or_person_is_another_alert(app, scene):
    base, _ = raise_one(app, scene)
    results = [raise_one(app, scene, subject="remote:2026-W49"),
               raise_one(app, scene, type="missed_spot_check"),
               raise_one(app, scene, person=scene.other)]
    assert all(created for _, created in results)
    assert len({base, *(alert_id for alert_id, _ in results)}) == 4


def test_an_explicit_severity_wins_over_the_default(app, scene):
    raise_one(app, scene, severity="critical")
    assert alerts_of(app, scene)[0].severity == "critical"


def test_an_unknown_alert_type_is_a_programming_error(app, scene):
    with pytest.raises(ValueError, match="unknown alert type"):
        raise_one(app, scene, type="bad_mood")
    assert alerts_of(app, scene) == []


class TestSeverityIsASetting:
    @pytest.fixture
    def settings_overrides(self):
        return {"ALERT_SEVERITY": {"missed_checkin": "low"}}

    def test_the_severity_comes_from_settings(self, app, scene):
        raise_one(app, scene)
        raise_one(app, scene, type="zone_exit", subject="zone:1")  # not configured: medium
        assert [(a.type, a.severity) for a in alerts_of(app, scene)] == [
            ("missed_checkin", "low"), ("zone_exit", "medium")]


def _race(app, scene, threads: int, *, open_transaction_first: bool) -> list:
    """Raise the same alert from ``threads`` threads at once; return what each one got."""
    barrier = threading.Barrier(threads)
    results: list = [None] * threads
    settings = app.config["SETTINGS"]
    person = scene.person.supervisee

    def work(index: int) -> None:
        try:
            with app.app_context():
                if open_transaction_first:  # both transactions are open before either inserts
                    db.session.execute(sa.select(Alert.id).limit(1)).all()
                barrier.wait(timeout=10)
                alert, created = raise_alert(db.session, settings, supervisee_id=person.id,
                                             office_id=person.office_id, type="zone_exit",
                                             subject_key="zone:7", now=app.extensions["correction.clock"](),
                                             evidence={"thread": index})
                results[index] = (alert.id, created)
                db.session.commit()
        except Exception as error:  # reported below, not lost in the thread
            results[index] = error

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)
    return results


@pytest.mark.postgresql_only
def test_two_threads_raising_the_same_alert_create_exactly_one(app, scene):
    results = _race(app, scene, 2, open_transaction_first=True)
    assert not any(isinstance(r, BaseException) or r is None for r in results), results
    assert sorted(created for _, created in results) == [False, True]
    assert len({alert_id for alert_id, _ in results}) == 1
    (alert,) = alerts_of(app, scene)
    assert alert.id == results[0][0] and alert.status == "open"


def test_many_threads_raising_the_same_alert_create_exactly_one(app, scene):
    """Runs on SQLite too, where BEGIN IMMEDIATE makes the writers queue."""
    results = _race(app, scene, 6, open_transaction_first=False)
    assert not any(isinstance(r, BaseException) or r is None for r in results), results
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert len({alert_id for alert_id, _ in results}) == 1
    (alert,) = alerts_of(app, scene)
    winner = next(i for i, (_, created) in enumerate(results) if created)
    assert alert.evidence == {"thread": winner}
