"""The dispatcher: make each notification's deliveries, claim the due ones, send, record.

Sending happens outside any transaction, so the dispatcher owns its transactions (the one
exception to "services flush"): a claim commits the rows as ``sending`` before a request leaves,
and each batch's outcomes commit after. Two dispatchers never send one delivery twice: a claim
takes only ``queued`` rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock lets one
claimer at a time in). A dispatcher that dies between claim and record leaves its rows
``sending``: after DELIVERY_CLAIM_TIMEOUT_SECONDS they fail as "outcome unknown" and are not sent
again (the provider may have them); a notice that needs a text gets its text instead.
"""
from __future__ import annotations

import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..database import insert_for
from ..notifications.models import Notification, OfficerMessage, Robot
from ..people.models import Device, Supervisee
from ..time import TZDateTime
from .channels import Channel, Message, Outcome, RobotTarget, channel_for
from .models import DELIVERED, EXPIRED, FAILED, PUSH, QUEUED, ROBOT, SENDING, SMS, Delivery

log = logging.getLogger(__name__)


def dispatch(session, settings, now: datetime, *, channels: dict[str, Channel | None] | None = None) -> int:
    """Send every delivery that is due; return how many the providers accepted."""
    if channels is None:
        channels = {channel: channel_for(settings, channel) for channel in (PUSH, SMS, ROBOT)}
    began = time.monotonic()

    def current() -> datetime:  # the clock moves while we send, even when ``now`` was given
        return now + timedelta(seconds=time.monotonic() - began)

    open_channels = [name for name, adapter in channels.items() if adapter is not None]
    delivered = 0
    prepare(session, settings, now, push=channels.get(PUSH) is not None, sms=channels.get(SMS) is not None,
            robot=channels.get(ROBOT) is not None)
    session.commit()
    while True:
        messages = claim(session, settings, current(), open_channels)
        session.commit()
        if not messages:
            return delivered
        outcomes = _send_all(channels, messages, current(), settings.DELIVERY_SEND_CONCURRENCY)
        delivered += record(session, settings, outcomes, current(), channels)
        if channels.get(SMS) is not None:
            queue_sms_fallbacks(session, settings, current())
        session.commit()


def _send_all(channels, messages: list[tuple[str, Message]], now: datetime,
              concurrency: int) -> list[tuple[str, Message, Outcome]]:
    """Send a claimed batch, ``concurrency`` requests at a time (a provider's latency, not ours, is the limit)."""
    def one(item):
        channel, message = item
        return channel, message, _send(channels[channel], message, now)
    if concurrency <= 1 or len(messages) <= 1:
        return [one(item) for item in messages]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(messages))) as pool:
        return list(pool.map(one, messages))


def _send(adapter: Channel, message: Message, now: datetime) -> Outcome:
    try:
        return adapter.send(message, now)
    except Exception as exc:  # an adapter's bug must not leave the batch unrecorded
        log.exception("delivery %s: the %s adapter raised", message.delivery_id, adapter.name)
        return Outcome.failed(f"{adapter.name} adapter error: {type(exc).__name__}")


def prepare(session, settings, now: datetime, *, push: bool = True, sms: bool = True, robot: bool = True) -> None:
    """Make the push delivery of each new notification and the robot delivery of each officers' message,
    expire, give up on dead claims, add texts."""
    fan_out(session, now, push=push)
    fan_out_to_robots(session, now, robot=robot)
    session.execute(sa.update(Delivery).where(
        Delivery.state == QUEUED, Delivery.expires_at <= now).values(state=EXPIRED, finished_at=now))
    stale = now - timedelta(seconds=settings.DELIVERY_CLAIM_TIMEOUT_SECONDS)
    session.execute(sa.update(Delivery).where(Delivery.state == SENDING, Delivery.claimed_at < stale).values(
        state=FAILED, finished_at=now, last_error="claimed but never recorded: outcome unknown, not resent"))
    if sms:
        queue_sms_fallbacks(session, settings, now)


def fan_out(session, now: datetime, *, push: bool = True) -> int:
    """Queue a push delivery for each notification not dispatched yet (set-based); return how many."""
    at = sa.literal(now, TZDateTime())
    undispatched = Notification.dispatched_at.is_(None)
    if not push:
        return _rowcount(session, sa.update(Notification).where(undispatched).values(dispatched_at=now))
    insert = insert_for(session)
    made = _rowcount(session, insert(Delivery).from_select(
        ["notification_id", "channel", "state", "attempts", "next_attempt_at", "expires_at", "created_at"],
        sa.select(Notification.id, sa.literal(PUSH), sa.literal(QUEUED), sa.literal(0), Notification.created_at,
                  Notification.expires_at, at).where(undispatched)
    ).on_conflict_do_nothing(index_elements=["notification_id", "channel"]))
    # Only what has its delivery is marked: a notification committed since the INSERT waits for the next run.
    has_delivery = sa.exists().where(Delivery.notification_id == Notification.id)
    session.execute(sa.update(Notification).where(undispatched, has_delivery).values(dispatched_at=now))
    return made


def fan_out_to_robots(session, now: datetime, *, robot: bool = True) -> int:
    """Queue a robot delivery for each officers' message not dispatched yet; return how many."""
    undispatched = OfficerMessage.dispatched_at.is_(None)
    if robot:
        at = sa.literal(now, TZDateTime())
        made = _rowcount(session, insert_for(session)(Delivery).from_select(
            ["officer_message_id", "channel", "state", "attempts", "next_attempt_at", "created_at"],
            sa.select(OfficerMessage.id, sa.literal(ROBOT), sa.literal(QUEUED), sa.literal(0),
                      OfficerMessage.created_at, at).where(undispatched)
        ).on_conflict_do_nothing(index_elements=["officer_message_id", "channel"]))
        undispatched = sa.and_(undispatched, sa.exists().where(Delivery.officer_message_id == OfficerMessage.id))
    else:
        made = 0
    session.execute(sa.update(OfficerMessage).where(undispatched).values(dispatched_at=now))
    return made


def queue_sms_fallbacks(session, settings, now: datetime) -> int:
    """Queue a text for each notice of a texted kind whose push failed or was not read in time.

    Only notices still before their deadline are looked at (an index range): spot checks and
    reminders have one, and a text after it would be pointless anyway.
    """
    kinds = sorted(settings.SMS_TEMPLATES)
    if not kinds:
        return 0
    waits = settings.SMS_FALLBACK_AFTER_SECONDS
    read_by = sa.case({kind: sa.literal(now - timedelta(seconds=waits.get(kind, 0)), TZDateTime())
                       for kind in kinds}, value=Notification.kind)
    push = sa.orm.aliased(Delivery)
    texted = sa.exists().where(Delivery.notification_id == Notification.id, Delivery.channel == SMS)
    insert = insert_for(session)
    return _rowcount(session, insert(Delivery).from_select(
        ["notification_id", "channel", "state", "attempts", "next_attempt_at", "expires_at", "created_at"],
        sa.select(Notification.id, sa.literal(SMS), sa.literal(QUEUED), sa.literal(0),
                  sa.literal(now, TZDateTime()), Notification.expires_at, sa.literal(now, TZDateTime()))
        .select_from(push).join(Notification, Notification.id == push.notification_id)
        .where(push.channel == PUSH, push.state != EXPIRED, Notification.kind.in_(kinds),
               Notification.read_at.is_(None),
               Notification.expires_at > now,  # only a notice with a deadline is texted: the scan stays small
               sa.or_(push.state == FAILED,
                      sa.and_(push.state == QUEUED, push.attempts >= settings.SMS_FALLBACK_AFTER_ATTEMPTS),
                      Notification.created_at <= read_by),
               ~texted)
    ).on_conflict_do_nothing(index_elements=["notification_id", "channel"]))


def claim(session, settings, now: datetime, channels: list[str]) -> list[tuple[str, Message]]:
    """Take up to DELIVERY_BATCH_SIZE due deliveries as ``sending``; return them as messages."""
    if not channels:
        return []
    due = (sa.select(Delivery.id).where(
        Delivery.state == QUEUED, Delivery.next_attempt_at <= now, Delivery.channel.in_(channels),
        sa.or_(Delivery.expires_at.is_(None), Delivery.expires_at > now))
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(settings.DELIVERY_BATCH_SIZE)
        .with_for_update(skip_locked=True)
        # Materialized: as a plain IN (subquery) PostgreSQL may rescan it for every row it updates,
        # and each rescan finds the next queued rows, so one claim would take them all.
        .cte("due").prefix_with("MATERIALIZED", dialect="postgresql"))
    ids = list(session.execute(sa.update(Delivery).where(Delivery.id.in_(sa.select(due.c.id)), Delivery.state == QUEUED)
                               .values(state=SENDING, claimed_at=now, attempts=Delivery.attempts + 1)
                               .returning(Delivery.id)).scalars())
    if not ids:
        return []
    rows = session.execute(
        sa.select(Delivery.id, Delivery.channel, Notification.id, Notification.kind, Notification.title,
                  Notification.body, Notification.data, Notification.expires_at, Device.push_token,
                  Supervisee.phone)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Supervisee, Supervisee.id == Notification.supervisee_id)
        .outerjoin(Device, sa.and_(Device.supervisee_id == Supervisee.id, Device.active))
        .where(Delivery.id.in_(ids)).order_by(Delivery.id)).all()
    messages = [(channel, Message(delivery_id=delivery_id, notification_id=notification_id, kind=kind, title=title,
                                  body=body, data=data or {}, expires_at=expires_at, push_token=token, phone=phone))
                for delivery_id, channel, notification_id, kind, title, body, data, expires_at, token, phone in rows]
    return messages + _officer_messages(session, ids)


def _officer_messages(session, ids: list[int]) -> list[tuple[str, Message]]:
    """The claimed officers' messages, each with its office's robot, or else its bureau's."""
    office_robot, bureau_robot = sa.orm.aliased(Robot), sa.orm.aliased(Robot)
    rows = session.execute(
        sa.select(Delivery.id, OfficerMessage.kind, OfficerMessage.title, OfficerMessage.text,
                  sa.func.coalesce(office_robot.provider, bureau_robot.provider),
                  sa.func.coalesce(office_robot.webhook_url, bureau_robot.webhook_url),
                  sa.case((office_robot.id.is_not(None), office_robot.secret), else_=bureau_robot.secret))
        .join(OfficerMessage, OfficerMessage.id == Delivery.officer_message_id)
        .outerjoin(office_robot, office_robot.office_id == OfficerMessage.office_id)
        .outerjoin(bureau_robot, sa.and_(bureau_robot.bureau_id == OfficerMessage.bureau_id,
                                         bureau_robot.office_id.is_(None)))
        .where(Delivery.id.in_(ids)).order_by(Delivery.id)).all()
    return [(ROBOT, Message(delivery_id=delivery_id, notification_id=None, kind=kind, title=title, body=text,
                            robot=RobotTarget(provider, url, secret) if url else None))
            for delivery_id, kind, title, text, provider, url, secret in rows]


def record(session, settings, outcomes: list[tuple[str, Message, Outcome]], now: datetime,
           channels: dict[str, Channel | None]) -> int:
    """Write each claimed delivery's outcome (one executemany); a retry waits with backoff. Return how many
    were delivered."""
    ids = [message.delivery_id for _, message, _ in outcomes]
    attempts = dict(session.execute(sa.select(Delivery.id, Delivery.attempts).where(Delivery.id.in_(ids))).all())
    rows = []
    for channel, message, outcome in outcomes:
        tries = attempts.get(message.delivery_id, 1)
        row = {"delivery_id": message.delivery_id, "new_state": FAILED, "new_provider": channels[channel].name,
               "new_message_id": None, "new_error": outcome.reason, "new_next": now, "new_finished": now}
        if outcome.status == "delivered":
            row |= {"new_state": DELIVERED, "new_message_id": outcome.message_id, "new_error": None}
        elif outcome.status == "retry" and tries < settings.DELIVERY_MAX_ATTEMPTS:
            row |= {"new_state": QUEUED, "new_finished": None,
                    "new_next": now + backoff(settings, tries, outcome.retry_after)}
        elif outcome.status == "retry":
            row["new_error"] = f"{outcome.reason} (gave up after {tries} tries)"[:500]
        else:
            row["new_error"] = outcome.reason or "failed"
        rows.append(row)
    gone = [message.push_token for _, message, outcome in outcomes if outcome.address_gone and message.push_token]
    if gone:  # the provider no longer knows this phone's push id: stop sending to it
        session.execute(sa.update(Device).where(Device.push_token.in_(gone)).values(push_token=None))
    table, when = Delivery.__table__, TZDateTime()
    session.execute(sa.update(table).where(table.c.id == sa.bindparam("delivery_id"), table.c.state == SENDING)
                    .values(state=sa.bindparam("new_state"), provider=sa.bindparam("new_provider"),
                            provider_message_id=sa.bindparam("new_message_id"), last_error=sa.bindparam("new_error"),
                            next_attempt_at=sa.bindparam("new_next", type_=when),
                            finished_at=sa.bindparam("new_finished", type_=when)), rows)
    return sum(row["new_state"] == DELIVERED for row in rows)


def backoff(settings, tries: int, retry_after: float | None = None) -> timedelta:
    """The wait after the ``tries``-th failed try: doubling from the base to the cap, less some jitter."""
    wait = min(settings.DELIVERY_BACKOFF_MAX_SECONDS, settings.DELIVERY_BACKOFF_BASE_SECONDS * 2 ** (tries - 1))
    wait -= wait * settings.DELIVERY_BACKOFF_JITTER * random.random()  # spread retries of one outage apart
    return timedelta(seconds=max(wait, retry_after or 0.0))


def _rowcount(session, stmt) -> int:
    return session.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount
