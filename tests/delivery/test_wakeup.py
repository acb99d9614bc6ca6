"""On PostgreSQL a queued notice wakes the listening dispatcher: it reaches JPush within a second."""
from __future__ import annotations

import threading
import time

import pytest

from correction.delivery.wakeup import start_listener
from jobs import runner

from .helpers import ask_spot_check, deliveries, register_phone

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def settings_overrides(provider_settings) -> dict:
    # The interval job never runs here and the listener's reconnect wait is long: only NOTIFY wakes it.
    return provider_settings | {"DELIVERY_INTERVAL_SECONDS": 3600}


@pytest.fixture
def listener(app):
    stop = threading.Event()
    thread = start_listener(app, stop)
    assert thread is not None and thread.listening.wait(5)
    yield thread
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_spot_check_reaches_the_fake_jpush_within_a_second(app, client, make, jpush, listener):
    scene = make.scene(officer_login=True)
    register_phone(client, jpush, scene.phone)
    asked = time.monotonic()
    spot = ask_spot_check(client, scene)
    assert wait_for(lambda: jpush.pushes, 1.0), "no push within a second"
    assert jpush.received_at[0] - asked < 1.0
    assert jpush.pushes[0]["extras"]["spot_check_id"] == spot["id"]
    assert wait_for(lambda: [d.state for d in deliveries(app)] == ["delivered"], 1.0)
    ask_again = client.post(f"/api/v1/spot-checks", json={"supervisee_id": scene.person_id}, headers=scene.headers)
    assert ask_again.status_code == 409  # refused: it rolled back, so nothing wakes and nothing is sent
    time.sleep(0.3)
    assert len(jpush.pushes) == 1


def test_the_scheduler_leader_listens_while_it_leads(app, client, make, jpush, monkeypatch):
    scene = make.scene(officer_login=True)
    register_phone(client, jpush, scene.phone)
    monkeypatch.setattr(runner, "schedule", lambda settings: [])  # only the listener: no job may dispatch
    stop = threading.Event()
    leader = threading.Thread(target=runner.run_forever, args=(app, stop), daemon=True)
    leader.start()
    try:
        assert wait_for(lambda: any(t.name == "outbox-listener" for t in threading.enumerate()), 5)
        time.sleep(0.2)  # LISTEN in force
        ask_spot_check(client, scene)
        assert wait_for(lambda: jpush.pushes, 2.0)
    finally:
        stop.set()
        leader.join(timeout=10)
    assert not any(t.name == "outbox-listener" for t in threading.enumerate())
