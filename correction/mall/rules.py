"""Point rules as versions: what each event is worth in a bureau on a local date, and changing it.

A change never edits a row: it appends a version that takes over from a local date on (today or
later), so a past event keeps the rule it was scored by, even when it is posted late. A bureau
starts with the defaults (``bureau_id`` NULL, seeded by the migration); its supervisors append
the bureau's own versions. The version in force for (event, bureau, instant) is the bureau's
latest that started by then, else the default's: ``in_force_id`` says it once, in SQL, for the
single awards, the set-based sweeps and the listing alike.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..errors import Conflict, NotFound, ValidationFailed
from ..people.access import Principal
from .models import PointRuleVersion

RULE_FIELDS = ("points", "daily_cap", "weekly_cap", "active", "description")
_EVENT_NAME = re.compile(r"[a-z_]{1,40}")


def in_force_id(event, bureau_id, at) -> sa.ScalarSelect:
    """The id of the version in force for ``event`` in ``bureau_id`` at instant ``at`` (SQL expressions).

    Correlates with the enclosing query, so a sweep joins each row to its own version.
    """
    v = aliased(PointRuleVersion)
    return (sa.select(v.id)
            .where(v.event == event, v.effective_at <= at, sa.or_(v.bureau_id == bureau_id, v.bureau_id.is_(None)))
            .order_by(v.bureau_id.is_(None), v.effective_at.desc())  # the bureau's own first, then the latest
            .limit(1).scalar_subquery())


def local_midnight(settings, day: date) -> datetime:
    """The instant (UTC) a local date begins."""
    return datetime.combine(day, time.min, ZoneInfo(settings.LOCAL_TIMEZONE)).astimezone(ZoneInfo("UTC"))


def known_events(session) -> list[str]:
    """The events that have rules: those with a default."""
    return list(session.execute(sa.select(PointRuleVersion.event).where(PointRuleVersion.bureau_id.is_(None))
                                .distinct().order_by(PointRuleVersion.event)).scalars())


def _check_event(session, event: str) -> None:
    # A name no rule could have is not sent to the database (PostgreSQL refuses a NUL in text).
    if not _EVENT_NAME.fullmatch(event) or event not in known_events(session):
        raise NotFound("No such point rule.", code="point_rule_not_found")


def rules_in_force(session, bureau_id: int, now: datetime) -> list[dict[str, Any]]:
    """Every event's version in force now for the bureau, with the next scheduled change, if any."""
    V = PointRuleVersion
    events = sa.select(V.event).where(V.bureau_id.is_(None)).distinct().subquery()
    current = dict(session.execute(sa.select(events.c.event, in_force_id(events.c.event, bureau_id, now))).all())
    # Each later start of a version that concerns the bureau may change what is in force from then on.
    starts = (sa.select(V.event, V.effective_at)
              .where(sa.or_(V.bureau_id == bureau_id, V.bureau_id.is_(None)), V.effective_at > now)
              .distinct().subquery())
    upcoming: dict[str, int] = {}
    for event, _at, version_id in session.execute(
            sa.select(starts.c.event, starts.c.effective_at, in_force_id(starts.c.event, bureau_id, starts.c.effective_at))
            .order_by(starts.c.event, starts.c.effective_at)):
        if event not in upcoming and version_id != current.get(event):
            upcoming[event] = version_id
    ids = set(current.values()) | set(upcoming.values())
    versions = {v.id: v for v in session.execute(sa.select(V).where(V.id.in_(ids))).scalars()}
    return [{"event": event, "current": versions[current[event]],
             "upcoming": versions.get(upcoming.get(event))} for event in sorted(current)]


def history(session, bureau_id: int, event: str) -> list[PointRuleVersion]:
    """The versions of ``event`` that concern the bureau (its own and the defaults), newest first."""
    _check_event(session, event)
    V = PointRuleVersion
    return list(session.execute(
        sa.select(V).where(V.event == event, sa.or_(V.bureau_id == bureau_id, V.bureau_id.is_(None)))
        .order_by(V.effective_from.desc(), V.id.desc())).scalars())


def change(session, settings, principal: Principal, event: str, data: dict[str, Any],
           now: datetime) -> tuple[PointRuleVersion, PointRuleVersion]:
    """Append the bureau's version of ``event`` from ``data["effective_from"]`` on; (new, the one it follows).

    The date is local and not in the past; one change per bureau, event and date (a second is a
    409: the first stays, and a correction is a change of its own). A penalty stays a penalty and
    an award an award; caps belong to awards.
    """
    _check_event(session, event)
    V = PointRuleVersion
    day: date = data["effective_from"]
    today = now.astimezone(ZoneInfo(settings.LOCAL_TIMEZONE)).date()
    if day < today:
        raise _field("effective_from", "in_the_past", f"must be today ({today.isoformat()}) or later")
    bound = settings.POINT_RULE_MAX_POINTS
    if abs(data["points"]) > bound:
        raise _field("points", "out_of_bounds", f"at most {bound} either way")
    starts = local_midnight(settings, day)
    before = session.execute(sa.select(V).where(V.id == in_force_id(event, principal.bureau_id, starts))).scalar_one()
    default_sign = session.execute(sa.select(V.points).where(V.event == event, V.bureau_id.is_(None))
                                   .order_by(V.effective_at.desc()).limit(1)).scalar_one()
    if data["points"] * default_sign < 0:
        raise _field("points", "wrong_sign", "a penalty stays at or below 0, an award at or above 0")
    if data["points"] <= 0:
        for cap in ("daily_cap", "weekly_cap"):
            if data.get(cap) is not None:
                raise _field(cap, "cap_on_penalty", "caps apply only to rules that award points")
    taken = session.execute(sa.select(V.id).where(V.event == event, V.bureau_id == principal.bureau_id,
                                                  V.effective_from == day)).scalar_one_or_none()
    if taken is not None:
        raise Conflict("Your bureau already has a change of this rule from that date.", code="rule_change_exists",
                       details={"version_id": taken})
    version = V(event=event, bureau_id=principal.bureau_id, points=data["points"], daily_cap=data.get("daily_cap"),
                weekly_cap=data.get("weekly_cap"), active=data["active"],
                description=data.get("description") or before.description, effective_from=day, effective_at=starts,
                reason=data["reason"], changed_by=principal.id, created_at=now)
    session.add(version)
    session.flush()
    return version, before


def rule_values(version: PointRuleVersion) -> dict[str, Any]:
    """What a version says, for the audit trail."""
    return {"version_id": version.id, "bureau_id": version.bureau_id,
            "effective_from": version.effective_from.isoformat(),
            **{name: getattr(version, name) for name in RULE_FIELDS}}


def _field(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(details={"fields": [{"path": path, "code": code, "message": message}]})
