"""Benchmark: 10,000 queued notices drained through a fake JPush server vs. a bare loop, same run.

PostgreSQL. N supervisees with a bound phone and a registered push id; M notices queued (one
transaction of ``notify`` calls per 1,000), then one dispatcher run drains them through the fake
JPush server of the tests (tests/delivery/fakes.py: it checks Basic auth and the v3 body). The
ceiling is the same server's own throughput measured in the same run: a bare loop posting the same
M request bodies with one keep-alive HTTP session, nothing else. Target: dispatcher ≥ 50% of it.
Latency from event (the notice's ``created_at``) to delivery (the delivery's ``finished_at``) is
reported for the drained backlog, and for a steady stream (``--stream`` notices, one transaction
each, at ``--rate`` a second) woken by the LISTEN/NOTIFY listener, as the scheduler leader runs it.
Usage: .venv/bin/python benchmarks/notify.py [--n 1000] [--m 10000] [--stream 500] [--rate 100]
       [--concurrency N] [--tag NAME]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._harness import migrated_app, one_office, scratch_database  # noqa: E402
from tests.delivery.fakes import APP_KEY, MASTER_SECRET, FakeJPush  # noqa: E402


def build(app, jpush: FakeJPush, n: int) -> list[int]:
    """N supervisees, each with an active phone whose app registered a push id; return their ids."""
    from correction.database import db
    from correction.people.models import Device, Supervisee
    from correction.time import utcnow

    now = utcnow()
    with app.app_context():
        office, officer = one_office(db.session, now)
        db.session.execute(sa.insert(Supervisee), [dict(
            office_id=office.id, officer_id=officer.id, name=f"bench{i}", phone=f"139{i:08d}", password_hash="x",
            national_id_hash=f"bench-{i}", national_id_last4="0000", sentence_type="probation",
            supervision_start=date(2026, 1, 1), supervision_end=date(2027, 12, 31), level="normal",
            status="active", failed_logins=0, created_at=now, updated_at=now) for i in range(n)])
        ids = list(db.session.execute(sa.select(Supervisee.id).order_by(Supervisee.id)).scalars())
        db.session.execute(sa.insert(Device), [dict(supervisee_id=sid, device_id=f"phone-{sid}", active=True,
                                                    bound_at=now, push_token=f"reg{sid:012d}") for sid in ids])
        db.session.commit()
    jpush.registered.update(f"reg{sid:012d}" for sid in ids)
    return ids


def queue(app, people: list[int], m: int, start: int = 0, per_transaction: int = 1000) -> None:
    from correction.database import db
    from correction.notifications.service import notify
    from correction.time import utcnow

    with app.app_context():
        for i in range(start, start + m):
            notify(db.session, supervisee_id=people[i % len(people)], kind="leave_decision", title="请假审批 Leave approved",
                   body="Your leave is approved.", now=utcnow(), data={"leave_request_id": i})
            if (i + 1) % per_transaction == 0:
                db.session.commit()
        db.session.commit()


def latencies(app, since_id: int = 0) -> list[float]:
    from correction.database import db
    from correction.delivery.models import Delivery
    from correction.notifications.models import Notification

    with app.app_context():
        return [(finished - created).total_seconds() for finished, created in db.session.execute(
            sa.select(Delivery.finished_at, Notification.created_at)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Delivery.state == "delivered", Notification.id > since_id))]


def summary(values: list[float]) -> str:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"median {statistics.median(values) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"


def bare_loop(settings, people: list[int], m: int) -> float:
    """The fake server's ceiling: the same M request bodies, one keep-alive session, nothing else."""
    from correction.delivery.channels import Message
    from correction.delivery.jpush import JPushChannel
    from correction.time import utcnow

    channel, now = JPushChannel(settings), utcnow()
    bodies = [channel.payload(Message(delivery_id=i, notification_id=i, kind="leave_decision",
                                      title="请假审批 Leave approved", body="Your leave is approved.",
                                      data={"leave_request_id": i}, push_token=f"reg{people[i % len(people)]:012d}"),
                              now) for i in range(m)]
    began = time.perf_counter()
    for body in bodies:
        response = channel.http.post(channel.url, json=body, auth=channel.auth, timeout=5)
        assert response.status_code == 200, response.text
    return m / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--m", type=int, default=10_000)
    parser.add_argument("--stream", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=None, help="DELIVERY_SEND_CONCURRENCY (default: the setting's)")
    parser.add_argument("--tag", default="")
    args = parser.parse_args()

    from correction.database import db
    from correction.delivery.dispatcher import dispatch
    from correction.delivery.wakeup import start_listener
    from correction.notifications.models import Notification
    from correction.time import utcnow

    jpush = FakeJPush()
    url = scratch_database(f"bench_notify{args.tag}")
    app = migrated_app(url)
    app.config["SETTINGS"] = app.config["SETTINGS"].model_copy(update=dict(
        DELIVERY_PUSH_CHANNEL="jpush", DELIVERY_SMS_CHANNEL="none", JPUSH_BASE_URL=jpush.url,
        JPUSH_APP_KEY=APP_KEY, JPUSH_MASTER_SECRET=MASTER_SECRET, DELIVERY_INTERVAL_SECONDS=3600))
    if args.concurrency:
        app.config["SETTINGS"] = app.config["SETTINGS"].model_copy(update={"DELIVERY_SEND_CONCURRENCY": args.concurrency})
    settings = app.config["SETTINGS"]
    people = build(app, jpush, args.n)
    print(f"{args.n} supervisees with a push id; {args.m} notices; {settings.DELIVERY_SEND_CONCURRENCY} sends at once")

    ceiling = bare_loop(settings, people, args.m)
    jpush.pushes.clear(), jpush.received_at.clear()
    print(f"bare loop (the fake server's ceiling): {ceiling:,.0f} messages/s")

    queue(app, people, args.m)
    with app.app_context():
        began = time.perf_counter()
        sent = dispatch(db.session, settings, utcnow())
        db.session.commit()
        took = time.perf_counter() - began
    assert sent == args.m == len(jpush.pushes), (sent, len(jpush.pushes))
    rate = args.m / took
    print(f"dispatcher: {rate:,.0f} messages/s ({rate / ceiling:.0%} of the bare loop; target ≥ 50%)")
    print(f"  event → delivery, a backlog of {args.m} drained: {summary(latencies(app))}")

    with app.app_context():
        last_id = db.session.execute(sa.select(sa.func.max(Notification.id))).scalar_one()
    stop = threading.Event()
    listener = start_listener(app, stop)
    assert listener is not None and listener.listening.wait(5)
    began = time.perf_counter()
    for i in range(args.stream):  # one event, one transaction, at a steady rate
        queue(app, people, 1, start=args.m + i)
        time.sleep(max(0.0, began + (i + 1) / args.rate - time.perf_counter()))
    deadline = time.time() + 30
    while len(jpush.pushes) < args.m + args.stream and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    listener.join(timeout=5)
    streamed = latencies(app, since_id=last_id)
    assert len(streamed) == args.stream, len(streamed)
    print(f"  event → delivery, {args.stream} events at {args.rate:g}/s woken by NOTIFY: {summary(streamed)}")
    jpush.close()


if __name__ == "__main__":
    main()
