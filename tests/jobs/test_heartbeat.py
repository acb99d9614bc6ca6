"""The scheduler leader writes its heartbeat while it leads; a standby does not."""
from __future__ import annotations

import threading
import time

import pytest

from correction.scheduler_state import SchedulerHeartbeat
from jobs import runner
from tests.assertions import rows


@pytest.fixture
def settings_overrides(tmp_path):
    return {"SCHEDULER_LOCK_FILE": str(tmp_path / "scheduler.lock"), "SCHEDULER_STANDBY_POLL_SECONDS": 0.1,
            "SCHEDULER_HEARTBEAT_SECONDS": 0.2}


def test_the_leader_beats_while_it_leads_and_readyz_sees_it(app, client, clock):
    stop = threading.Event()
    leader = threading.Thread(target=runner.run_forever, args=(app, stop), daemon=True)
    leader.start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not rows(app, SchedulerHeartbeat, order_by=SchedulerHeartbeat.name):
            time.sleep(0.1)
        first = rows(app, SchedulerHeartbeat, order_by=SchedulerHeartbeat.name)
        assert len(first) == 1 and first[0].beat_at == clock()
        assert client.get("/readyz").status_code == 200
        clock.advance(seconds=30)
        deadline = time.time() + 20
        while time.time() < deadline and rows(app, SchedulerHeartbeat, order_by=SchedulerHeartbeat.name)[0].beat_at != clock():
            time.sleep(0.1)
        again = rows(app, SchedulerHeartbeat, order_by=SchedulerHeartbeat.name)
        assert again[0].beat_at == clock(), "the leader stopped beating"
        assert again[0].leading_since == first[0].leading_since
    finally:
        stop.set()
        leader.join(timeout=20)
    assert not leader.is_alive()
    clock.advance(seconds=app.config["SETTINGS"].SCHEDULER_HEARTBEAT_STALE_SECONDS + 31)
    assert client.get("/readyz").get_json()["error"]["details"]["failing"] == ["scheduler"]


def test_a_heartbeat_that_cannot_be_written_is_logged_not_raised(app, caplog):
    from correction.app import create_app
    from tests.conftest import make_settings

    broken = create_app(make_settings("postgresql://postgres@127.0.0.1:1/nowhere"))
    runner.Heartbeat(broken).write()
    assert "could not write the heartbeat" in caplog.text
