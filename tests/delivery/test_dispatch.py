"""The dispatcher: a notice reaches the phone once, falls back to a text, expires, survives outages."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from correction.config import Settings
from correction.database import db
from correction.delivery import dispatcher
from correction.people.models import Device
from correction.time import iso_z
from jobs import runner
from jobs.schedule import schedule
from tests.assertions import rows
from tests.factories import local, post_checkin

from .helpers import PUSH_TOKEN, ask_spot_check, deliveries, queue, register_phone, run_dispatcher


@pytest.fixture
def scene(make, client, jpush):
    """An officer logged in, and their supervisee's phone with its push id registered."""
    scene = make.scene(officer_login=True)
    register_phone(client, jpush, scene.phone)
    return scene


def test_a_spot_check_reaches_the_phone_by_push_once(app, client, scene, jpush, sms):
    spot = ask_spot_check(client, scene)
    run_dispatcher(app)
    run_dispatcher(app)
    [push] = jpush.pushes
    assert push["extras"]["spot_check_id"] == spot["id"] and push["extras"]["due_at"] == spot["due_at"]
    assert push["title"] == "实时签到 Spot check"
    [delivery] = deliveries(app)
    assert (delivery.channel, delivery.state, delivery.attempts, delivery.provider, delivery.provider_message_id) == (
        "push", "delivered", 1, "jpush", push["msg_id"])
    assert iso_z(delivery.expires_at) == spot["due_at"]
    assert sms.texts == []


def test_an_expired_spot_check_notice_is_never_sent(app, client, scene, jpush, sms, clock):
    jpush.down = True
    ask_spot_check(client, scene)
    run_dispatcher(app)  # tried once, JPush is down
    clock.advance(minutes=15)  # due: the notice is pointless now
    jpush.down = False
    run_dispatcher(app)
    [delivery] = deliveries(app)
    assert (delivery.state, delivery.attempts) == ("expired", 1)
    assert jpush.pushes == [] and sms.texts == []
    ask_spot_check(client, scene)
    clock.advance(minutes=16)  # nobody dispatched in time
    run_dispatcher(app)
    assert [d.state for d in deliveries(app)] == ["expired", "expired"]
    assert jpush.pushes == [] and sms.texts == []


def test_a_push_failing_three_times_is_followed_by_a_text(app, client, scene, jpush, sms, clock):
    jpush.down = True
    ask_spot_check(client, scene)
    run_dispatcher(app)
    # Each advance is past the wait (at most 10, 20, 40 s) by a margin for the real time a run takes:
    # the dispatcher's clock moves on with it while it works (seconds, on a loaded machine).
    clock.advance(seconds=15)
    run_dispatcher(app)
    assert sms.texts == []
    clock.advance(seconds=25)
    run_dispatcher(app)
    [text] = sms.texts
    assert text == {"phone": scene.person.supervisee.phone, "template": "SMS_SPOT_CHECK",
                    "params": {"time": "10:15"}, "biz_id": text["biz_id"]}  # due 10:15 Shanghai time
    jpush.down = False
    clock.advance(seconds=45)
    run_dispatcher(app)
    push, text_row = deliveries(app)
    assert (push.channel, push.state, push.attempts, push.last_error) == ("push", "delivered", 4, None)
    assert (text_row.channel, text_row.state, text_row.provider_message_id) == ("sms", "delivered", text["biz_id"])
    assert len(jpush.pushes) == 1 and len(sms.texts) == 1


def test_an_unread_spot_check_is_texted_and_an_answered_one_is_not(app, client, scene, jpush, sms, clock):
    ask_spot_check(client, scene)
    run_dispatcher(app)
    clock.advance(seconds=179)
    run_dispatcher(app)
    assert sms.texts == []
    clock.advance(seconds=2)  # SMS_FALLBACK_AFTER_SECONDS["spot_check"] unread on the phone
    run_dispatcher(app)
    assert len(sms.texts) == 1
    assert post_checkin(client, scene.phone, "spot", recorded_at=clock()).status_code == 201
    ask_spot_check(client, scene)
    run_dispatcher(app)
    assert post_checkin(client, scene.phone, "spot", recorded_at=clock()).status_code == 201  # answered at once
    clock.advance(minutes=5)
    run_dispatcher(app)
    assert len(jpush.pushes) == 2 and len(sms.texts) == 1


def test_an_outage_then_recovery_delivers_every_message_once(app, client, scene, jpush, sms, clock):
    queue(app, scene.person_id, 20)
    ask_spot_check(client, scene, minutes=30)
    jpush.down = True
    for step in range(46):  # 15 minutes, the dispatcher every 20 s; JPush back after 10 minutes
        jpush.down = step * 20 < 600
        run_dispatcher(app)
        clock.advance(seconds=20)
    sent = Counter(push["extras"]["notification_id"] for push in jpush.pushes)
    assert len(sent) == 21 and set(sent.values()) == {1}
    assert {d.state for d in deliveries(app, "push")} == {"delivered"}
    assert jpush.requests > 21 * 3  # it did retry through the outage
    assert len(sms.texts) == 1  # the spot check's text after its third failed push


def test_two_dispatchers_at_once_never_send_one_message_twice(app, scene, jpush, settings_overrides, db_kind):
    # The fake provider answers in this process, beside the two dispatchers: on a loaded machine an
    # answer can take longer than the suite's short timeout, and a send is then (rightly) not counted
    # as delivered. What this test holds is that no message goes twice, so give answers time to come.
    app.config["SETTINGS"] = app.config["SETTINGS"].model_copy(update={"DELIVERY_BATCH_SIZE": 5,
                                                                       "DELIVERY_HTTP_TIMEOUT_SECONDS": 10.0})
    # A listening dispatcher that an earlier test's scheduler is still stopping would take a share of
    # these messages (the queue NOTIFYs it) and the two counts below would miss it: let it end first.
    deadline = time.monotonic() + 15
    while any(t.name == "outbox-listener" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.1)
    queue(app, scene.person_id, 150)
    jpush.delay = 0.05  # a far provider: the run lasts long enough for both to be at work
    sent: dict[str, int] = {}
    start = threading.Barrier(2)

    def dispatcher_thread(name: str):
        with app.app_context():
            start.wait()
            sent[name] = dispatcher.dispatch(db.session, app.config["SETTINGS"], app.extensions["correction.clock"]())
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=dispatcher_thread, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    counts = Counter(push["extras"]["notification_id"] for push in jpush.pushes)
    assert len(counts) == 150 and set(counts.values()) == {1}
    assert sent["a"] + sent["b"] == 150, (sent, [(d.id, d.state, d.attempts, d.last_error) for d in deliveries(app)
                                                 if d.state != "delivered"],
                                          sorted(t.name for t in threading.enumerate()))
    if db_kind == "postgresql":  # SKIP LOCKED: both claim and send side by side
        assert min(sent.values()) > 0, sent
    assert {d.state for d in deliveries(app)} == {"delivered"}


def test_a_dispatcher_that_died_mid_send_does_not_send_again(app, client, scene, jpush, sms, clock):
    ask_spot_check(client, scene)
    with app.app_context():  # claim, then die before sending or recording
        settings = app.config["SETTINGS"]
        dispatcher.prepare(db.session, settings, clock())
        [(channel, message)] = dispatcher.claim(db.session, settings, clock(), ["push", "sms"])
        db.session.commit()
        db.session.remove()
    run_dispatcher(app)
    assert jpush.pushes == []  # still claimed: another run leaves it alone
    clock.advance(seconds=301)
    run_dispatcher(app)
    push, text = deliveries(app)
    assert (push.state, push.last_error) == ("failed", "claimed but never recorded: outcome unknown, not resent")
    assert jpush.pushes == [] and (text.channel, text.state) == ("sms", "delivered")


def test_a_push_to_a_phone_without_a_push_id_fails_and_a_text_follows(app, client, make, jpush, sms):
    scene = make.scene(officer_login=True)  # the app never registered
    ask_spot_check(client, scene)
    run_dispatcher(app)
    push, text = deliveries(app)
    assert (push.state, push.attempts, push.last_error) == ("failed", 1, "no push id: the phone has not registered one")
    assert text.state == "delivered" and len(sms.texts) == 1 and jpush.pushes == []


def test_retries_back_off_exponentially_with_jitter_and_give_up():
    plain = Settings(DELIVERY_BACKOFF_JITTER=0.0)
    assert [dispatcher.backoff(plain, n).total_seconds() for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]
    assert dispatcher.backoff(plain, 1, retry_after=42).total_seconds() == 42
    jittered = Settings()
    waits = {dispatcher.backoff(jittered, 3).total_seconds() for _ in range(50)}
    assert all(20 <= w <= 40 for w in waits) and len(waits) > 1


def test_a_delivery_gives_up_after_its_last_try(app, client, scene, jpush, clock):
    app.config["SETTINGS"] = app.config["SETTINGS"].model_copy(update={"DELIVERY_MAX_ATTEMPTS": 2})
    queue(app, scene.person_id, 1)
    jpush.down = True
    run_dispatcher(app)
    clock.advance(seconds=15)  # past the first wait (at most 10 s), with a margin for the run's own time
    run_dispatcher(app)
    [delivery] = deliveries(app)
    assert (delivery.state, delivery.attempts) == ("failed", 2)
    assert delivery.last_error == "jpush 1000: Server busy (gave up after 2 tries)"


def test_one_claim_takes_at_most_a_batch(app, scene, clock):
    settings = app.config["SETTINGS"].model_copy(update={"DELIVERY_BATCH_SIZE": 5})
    queue(app, scene.person_id, 12)
    with app.app_context():
        dispatcher.prepare(db.session, settings, clock())
        claimed = [len(dispatcher.claim(db.session, settings, clock(), ["push"])) for _ in range(4)]
        db.session.commit()
    assert claimed == [5, 5, 2, 0]
    assert Counter(d.state for d in deliveries(app)) == {"sending": 12}


def test_an_unread_reminder_is_texted_before_its_window_closes_and_a_check_in_stops_it(
        app, client, make, auth, jpush, sms, clock):
    scene = make.scene("strict", other="strict", officer_login=True)
    register_phone(client, jpush, scene.phone)
    other_phone = auth.supervisee(scene.other)
    register_phone(client, jpush, other_phone, token="1a0018970af9e3b3e25")
    clock.set(local(2026, 11, 25, 18, 0))  # two hours before the daily window closes at 20:00
    [spec] = [s for s in schedule(app.config["SETTINGS"]) if s.id == "window_reminders"]
    assert runner.run_job(app, spec).rows == 2
    run_dispatcher(app)
    assert len(jpush.pushes) == 2
    assert post_checkin(client, other_phone, "remote", recorded_at=clock()).status_code == 201
    clock.advance(seconds=1801)  # SMS_FALLBACK_AFTER_SECONDS["reminder"] unread
    run_dispatcher(app)
    assert sms.texts == [{"phone": scene.person.supervisee.phone, "template": "SMS_CHECKIN_REMINDER",
                          "params": {"time": "20:00"}, "biz_id": sms.texts[0]["biz_id"]}]
    clock.set(local(2026, 11, 25, 20, 0))
    run_dispatcher(app)
    assert len(sms.texts) == 1 and len(jpush.pushes) == 2


def test_jpush_not_knowing_the_push_id_fails_once_and_forgets_it(app, client, make, jpush, clock):
    scene = make.scene(officer_login=True)
    assert client.post(PUSH_TOKEN, json={"registration_id": "1a0018970af9e3b3e99"},
                       headers=scene.phone).status_code == 204  # JPush has never heard of it (app reinstalled)
    queue(app, scene.person_id, 2)
    run_dispatcher(app)
    first, second = deliveries(app)
    assert (first.state, first.attempts, first.last_error) == (
        "failed", 1, "jpush 1011: cannot find user by this audience")
    [device] = rows(app, Device, Device.supervisee_id == scene.person_id, Device.active)
    assert device.push_token is None
    clock.advance(minutes=10)
    run_dispatcher(app)
    assert jpush.requests <= 2 and {d.state for d in deliveries(app)} == {"failed"}
