"""Points: the one way anything earns or loses points, and the balance kept equal to the ledger.

Every change appends a ledger line and moves the balance by the same amount in the same
transaction, so the balance equals the ledger's sum at every commit. (supervisee, event,
event_ref) is unique, so an event replayed by a retry or a second scheduler awards nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..database import insert_for, json_object, prebuilt
from ..notifications.models import Notification
from ..notifications.service import notify, wake_dispatcher
from ..people.models import Office
from .models import PointBalance, PointEntry, PointRuleVersion


def lock_balance(session, supervisee_id: int) -> int:
    """Create the balance row if needed, lock it for this transaction, and return the balance.

    Every change to one person's points goes through this lock first, so their redemptions,
    awards and refunds queue instead of interleaving.
    """
    session.execute(_create_balance(session), {"supervisee_id": supervisee_id, "balance": 0})
    return session.execute(_LOCKED_BALANCE, {"supervisee_id": supervisee_id}).scalar_one()


POINTS_TITLE = "积分变动 Points posted"


def post(session, *, supervisee_id: int, office_id: int, delta: int, event: str, event_ref: str,
         reason: str, now: datetime, officer_id: int | None = None,
         rule_version_id: int | None = None) -> PointEntry | None:
    """Append one ledger line and move the balance with it; None if the event was already posted."""
    values = dict(supervisee_id=supervisee_id, office_id=office_id, delta=delta, event=event, event_ref=event_ref,
                  reason=reason, officer_id=officer_id, created_at=now, rule_version_id=rule_version_id)
    entry_id = session.execute(_append_entry(session), values).scalar_one_or_none()
    if entry_id is None:
        return None
    # One upsert both creates the balance row and moves it; it takes the row lock that every
    # other change to this person's points waits for.
    session.execute(_move_balance(session), {"supervisee_id": supervisee_id, "balance": delta})
    if officer_id is not None:  # the phone's own requests answer with their points; an officer's act is news
        notify(session, supervisee_id=supervisee_id, kind="points_posted", title=POINTS_TITLE,
               body=f"{delta:+d} 积分 points：{reason}", now=now, dedupe_key=f"points:{entry_id}",
               data={"entry_id": entry_id, "delta": delta, "event": event})
    return PointEntry(id=entry_id, **values)  # what was written, without reading it back


def award(session, settings, *, supervisee_id: int, office_id: int, event: str, event_ref: str,
          now: datetime) -> PointEntry | None:
    """Post the points the rule version in force at ``now`` gives for ``event`` (capped per local day and ISO week).

    ``now`` is when the event happened: a late posting still gets that day's version of the rule,
    the bureau's own if it has one (see ``rules``).
    """
    rule = session.execute(_RULE, {"event": event, "office_id": office_id, "at": now}).one_or_none()
    if rule is None or not rule.active or rule.points == 0:
        return None
    points = rule.points
    if points > 0 and (rule.daily_cap is not None or rule.weekly_cap is not None):
        lock_balance(session, supervisee_id)  # caps are read and used under the person's lock
        zone = ZoneInfo(settings.LOCAL_TIMEZONE)
        local = now.astimezone(zone)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        week_start = day_start - timedelta(days=local.weekday())
        for cap, since in ((rule.daily_cap, day_start), (rule.weekly_cap, week_start)):
            if cap is not None:
                earned = session.execute(_EARNED_SINCE, {"supervisee_id": supervisee_id, "event": event,
                                                         "since": since}).scalar_one()
                points = min(points, cap - earned)
        if points <= 0:
            return None
    return post(session, supervisee_id=supervisee_id, office_id=office_id, delta=points, event=event,
                event_ref=event_ref, reason=rule.description, now=now, rule_version_id=rule.id)


# The statements of every award, composed once (see database.prebuilt).
_ENTRIES, _BALANCES = PointEntry.__table__, PointBalance.__table__
_V = PointRuleVersion
# The one-row form of rules.in_force_id: the bureau's latest version started by then, else the default's.
_RULE = (sa.select(_V.id, _V.points, _V.active, _V.daily_cap, _V.weekly_cap, _V.description)
         .where(_V.event == sa.bindparam("event"), _V.effective_at <= sa.bindparam("at", type_=_V.effective_at.type),
                sa.or_(_V.bureau_id.is_(None), _V.bureau_id == sa.select(Office.bureau_id).where(
                    Office.id == sa.bindparam("office_id")).scalar_subquery()))
         .order_by(_V.bureau_id.is_(None), _V.effective_at.desc()).limit(1))
_LOCKED_BALANCE = (sa.select(_BALANCES.c.balance).where(_BALANCES.c.supervisee_id == sa.bindparam("supervisee_id"))
                   .with_for_update())
_EARNED_SINCE = sa.select(sa.func.coalesce(sa.func.sum(_ENTRIES.c.delta), 0)).where(
    _ENTRIES.c.supervisee_id == sa.bindparam("supervisee_id"), _ENTRIES.c.event == sa.bindparam("event"),
    _ENTRIES.c.created_at >= sa.bindparam("since"))


@prebuilt
def _append_entry(insert):
    return (insert(_ENTRIES).on_conflict_do_nothing(index_elements=["supervisee_id", "event", "event_ref"])
            .returning(_ENTRIES.c.id))


@prebuilt
def _create_balance(insert):
    return insert(_BALANCES).on_conflict_do_nothing(index_elements=["supervisee_id"])


@prebuilt
def _move_balance(insert):
    stmt = insert(_BALANCES)
    return stmt.on_conflict_do_update(index_elements=["supervisee_id"],
                                      set_={"balance": _BALANCES.c.balance + stmt.excluded.balance})


def recompute_balances(session, supervisee_ids) -> None:
    """Set the balances of ``supervisee_ids`` (a subquery) to their ledger sums, set-based."""
    insert = insert_for(session)
    session.execute(insert(PointBalance).from_select(
        ["supervisee_id", "balance"], sa.select(supervisee_ids.c.supervisee_id, sa.literal(0)))
        .on_conflict_do_nothing(index_elements=["supervisee_id"]))
    total = (sa.select(sa.func.coalesce(sa.func.sum(PointEntry.delta), 0))
             .where(PointEntry.supervisee_id == PointBalance.supervisee_id).scalar_subquery())
    session.execute(sa.update(PointBalance)
                    .where(PointBalance.supervisee_id.in_(sa.select(supervisee_ids.c.supervisee_id)))
                    .values(balance=total))


def post_set(session, rows: sa.Select, event: str, now: datetime) -> int:
    """Append ledger lines from ``rows``, move each balance by exactly what was appended; return how many.

    ``rows`` selects supervisee_id, office_id, delta, event, event_ref, reason, created_at and
    rule_version_id, in that order.
    """
    insert = insert_for(session)
    # Lines of an earlier run at the same instant are not "new": only ids above this mark are.
    before = session.execute(sa.select(sa.func.coalesce(sa.func.max(PointEntry.id), 0))).scalar_one()
    session.execute(insert(PointEntry).from_select(
        ["supervisee_id", "office_id", "delta", "event", "event_ref", "reason", "created_at", "rule_version_id"], rows)
        .on_conflict_do_nothing(index_elements=["supervisee_id", "event", "event_ref"]))
    new = sa.and_(PointEntry.event == event, PointEntry.created_at == now, PointEntry.id > before)
    session.execute(insert(PointBalance).from_select(
        ["supervisee_id", "balance"], sa.select(PointEntry.supervisee_id, sa.literal(0)).where(new).distinct())
        .on_conflict_do_nothing(index_elements=["supervisee_id"]))
    appended = (sa.select(sa.func.sum(PointEntry.delta))
                .where(new, PointEntry.supervisee_id == PointBalance.supervisee_id).scalar_subquery())
    session.execute(sa.update(PointBalance).where(PointBalance.supervisee_id.in_(
        sa.select(PointEntry.supervisee_id).where(new))).values(balance=PointBalance.balance + appended))
    told = session.execute(insert_for(session)(Notification).from_select(
        ["supervisee_id", "kind", "title", "body", "data", "dedupe_key", "created_at"],
        sa.select(PointEntry.supervisee_id, sa.literal("points_posted"), sa.literal(POINTS_TITLE),
                  sa.case((PointEntry.delta > 0, "+"), else_="") + sa.cast(PointEntry.delta, sa.String)
                  + sa.literal(" 积分 points：") + PointEntry.reason,
                  json_object(session, entry_id=PointEntry.id, delta=PointEntry.delta, event=PointEntry.event),
                  sa.literal("points:") + sa.cast(PointEntry.id, sa.String), PointEntry.created_at).where(new)
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]), execution_options={"preserve_rowcount": True}).rowcount
    if told:
        wake_dispatcher(session)
    return session.execute(sa.select(sa.func.count()).select_from(PointEntry).where(new)).scalar_one()
