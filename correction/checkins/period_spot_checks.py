"""A period's spot-check quota: so many spot checks (点验) per covered person per ISO week.

Each person's moments for a week are drawn once, at random but reproducibly (seeded with a keyed
hash of the period, the person and the week, so nobody can work them out), inside the period's
windows of that week's days (or the regular window hours when it has none), leaving the answer
time before the window closes. The job issues a moment's spot check once it has come, while one of
the period's windows is open, to a person with no spot check pending; a moment that could not be
issued (a pending one, the scheduler down) is issued at the next chance in the same week. Each
moment is a slot, ``period:<id>:<person>:<ISO week>:<n>``, unique on the spot check: two
schedulers issue it once. The spot check is the same as an officer's, asked by the declarer.
"""
from __future__ import annotations

import hashlib
import hmac
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..database import insert_for
from ..people.models import Supervisee
from .models import SpotCheck, SupervisionPeriod
from .period_windows import covered, local_today
from .service import tell_spot_check
from .windows import _at, _clock_time


def issue_period_spot_checks(session, settings, now: datetime) -> int:
    """Issue every quota spot check whose moment has come; return how many were issued."""
    today = local_today(settings, now)
    periods = session.execute(sa.select(SupervisionPeriod).where(
        SupervisionPeriod.spot_checks_per_week > 0, SupervisionPeriod.starts_on <= today,
        SupervisionPeriod.ends_on >= today,
        sa.or_(SupervisionPeriod.cancelled_at.is_(None), SupervisionPeriod.cancelled_at > now)
    ).order_by(SupervisionPeriod.id)).scalars().all()
    issued = 0
    for period in periods:
        if not any(opens <= now < closes for opens, closes in _spans(settings, period, today)):
            continue
        monday = today - timedelta(days=today.weekday())
        week = "{}-W{:02d}".format(*today.isocalendar()[:2])
        prefix = f"period:{period.id}:"
        taken = set(session.execute(sa.select(SpotCheck.period_slot).where(
            SpotCheck.period_slot.like(prefix + "%:" + week + ":%"))).scalars())
        pending = sa.exists().where(SpotCheck.supervisee_id == Supervisee.id, SpotCheck.status == "pending",
                                    SpotCheck.due_at > now)
        people = session.execute(sa.select(Supervisee.id, Supervisee.office_id).where(
            covered(session, period, on=today), ~pending).order_by(Supervisee.id)).all()
        for person_id, office_id in people:
            slot = next((f"{prefix}{person_id}:{week}:{n}"
                         for n, moment in enumerate(planned_moments(settings, period, person_id, monday), start=1)
                         if moment <= now and f"{prefix}{person_id}:{week}:{n}" not in taken), None)
            if slot is not None and _issue(session, settings, period, person_id, office_id, slot, now):
                issued += 1
    return issued


def planned_moments(settings, period: SupervisionPeriod, person_id: int, monday: date) -> list[datetime]:
    """The moments of the person's quota in the ISO week starting ``monday``, in order."""
    answer = timedelta(minutes=settings.SPOT_CHECK_MINUTES)
    spans = []
    for day in (monday + timedelta(days=i) for i in range(7)):
        for opens, closes in _spans(settings, period, day, cancelled_too=True):
            last = closes - answer if closes - answer > opens else closes - timedelta(minutes=1)
            spans.append((opens, int((last - opens).total_seconds() // 60) + 1))
    minutes = sum(length for _, length in spans)
    if minutes <= 0:
        return []
    seed = hmac.new(settings.SECRET_KEY.encode(), f"period-spot:{period.id}:{person_id}:{monday.isoformat()}"
                    .encode(), hashlib.sha256).digest()
    picks = sorted(random.Random(seed).sample(range(minutes), min(period.spot_checks_per_week, minutes)))
    moments = []
    for pick in picks:
        for opens, length in spans:
            if pick < length:
                moments.append(opens + timedelta(minutes=pick))
                break
            pick -= length
    return moments


def _spans(settings, period: SupervisionPeriod, day: date, *, cancelled_too: bool = False):
    """The (opens, closes) instants of the period's windows on ``day``, or of the regular window hours."""
    if not period.starts_on <= day <= period.ends_on:
        return []
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    clock = period.windows or [{"opens": settings.CHECKIN_WINDOW_OPENS, "closes": settings.CHECKIN_WINDOW_CLOSES}]
    spans = [(_at(day, _clock_time(w["opens"]), zone), _at(day, _clock_time(w["closes"]), zone)) for w in clock]
    if period.cancelled_at is not None and not cancelled_too:
        spans = [(opens, closes) for opens, closes in spans if opens < period.cancelled_at]
    return spans


def _issue(session, settings, period: SupervisionPeriod, person_id: int, office_id: int, slot: str,
           now: datetime) -> bool:
    minutes = settings.SPOT_CHECK_MINUTES
    insert = insert_for(session)
    spot_id = session.execute(insert(SpotCheck).values(
        supervisee_id=person_id, office_id=office_id, requested_by=period.declared_by, requested_at=now,
        due_at=now + timedelta(minutes=minutes), status="pending", note=f"临时加强监管：{period.name}"[:500],
        period_slot=slot).on_conflict_do_nothing(index_elements=["period_slot"]).returning(SpotCheck.id)
    ).scalar_one_or_none()
    if spot_id is None:  # another scheduler issued this slot first
        return False
    tell_spot_check(session, session.get(SpotCheck, spot_id), minutes, now)
    return True
