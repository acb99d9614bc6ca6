"""The location pipeline: validate fixes one by one, store them once, evaluate them in order.

Every client (the app's batch upload, Traccar/OsmAnd, OwnTracks) ends here: in ``ingest``, or on
PostgreSQL in one statement of ``locations.batch`` or ``locations.single`` and, unless nothing
moves, in ``evaluate``. Newly
stored fixes are evaluated in time order: mocked fixes, impossible movement, and the zone
state machines (accuracy-aware, confirmed after ZONE_CONFIRM_FIXES fixes or
ZONE_CONFIRM_SECONDS). Fixes older than the last evaluated one are stored but not
re-evaluated: a late fix cannot rewrite a confirmed exit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError

from ..database import insert_for
from ..events import Breach, publish
from ..metrics import count_fixes
from ..people.models import Device, Supervisee
from ..time import UTC, iso_z
from .fixes import fix_refusal
from .geometry import compile_zone
from .judging import PERMITTED, ActiveZone, impossible_moves, observations, sides_seen, zone_keys
from .models import LocationFix, Zone, ZoneEvent, ZoneState
from .schemas import FixIn

@dataclass
class IngestResult:
    stored: int = 0
    skipped: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)


def ingest(session, settings, person: Supervisee, raw_fixes: list[Any], *, source: str,
           now: datetime) -> IngestResult:
    """Store the good fixes of a batch, refuse the bad ones with reasons, evaluate the new ones."""
    result, good = sort_out(settings, raw_fixes, now)
    if good:
        rows = [{**dict(fix), "supervisee_id": person.id, "received_at": now, "source": source} for fix in good]
        new = sorted(_store(session, rows), key=lambda f: f.recorded_at)
        result.stored = len(new)
        result.skipped = len(rows) - result.stored
        if new:
            evaluate(session, settings, person, new, now)
    finish(session, person.id, result, now)
    return result


def sort_out(settings, raw_fixes: list[Any], now: datetime) -> tuple[IngestResult, list[FixIn]]:
    """Validate a batch: the result with its refusals, and the fixes to store."""
    result, good = IngestResult(), []
    for index, fix, refusal in checked(settings, raw_fixes, now):
        if refusal:
            result.refused.append({"index": index, "code": refusal[0], "message": refusal[1]})
        else:
            good.append(fix)
    return result, good


def finish(session, supervisee_id: int, result: IngestResult, now: datetime) -> None:
    """Note the refusals on the person's phone and count the batch's outcome."""
    if result.refused:  # after the person's lock, as the one-statement ingests take it (locations.settle)
        _note_refusals(session, supervisee_id, result.refused, now)
    count_fixes(result.stored, result.skipped, [r["code"] for r in result.refused])


def _note_refusals(session, supervisee_id: int, refused: list[dict[str, Any]], now: datetime) -> None:
    """Count refused fixes on the person's phone and keep the last reason, for the officers."""
    session.execute(sa.update(Device).where(Device.supervisee_id == supervisee_id, Device.active).values(
        refused_fixes=Device.refused_fixes + len(refused), last_refusal=refused[-1]["code"], last_refusal_at=now))


_FIXES = TypeAdapter(list[FixIn])


def checked(settings, raw_fixes: list[Any], now: datetime):
    """Yield (index, fix or None, refusal or None) for every raw fix, in order.

    The whole batch is validated in one call; only a batch with a bad fix in it is
    validated again fix by fix, to keep the good ones and name what is wrong with the rest.
    """
    try:
        fixes = _FIXES.validate_python(raw_fixes)
    except ValidationError:
        fixes = None
    # The rules' bounds, once a batch: a fix within them is one fix_refusal passes; one outside is asked why.
    earliest, latest = now - timedelta(days=settings.LOCATION_RETENTION_DAYS), \
        now + timedelta(seconds=settings.FIX_FUTURE_SKEW_SECONDS)
    accuracy_max = settings.ACCURACY_MAX_M
    for index, raw in enumerate(raw_fixes):
        if fixes is not None:
            fix = fixes[index]
        else:
            try:
                fix = FixIn.model_validate(raw)
            except ValidationError as error:
                first = error.errors(include_url=False, include_input=False, include_context=False)[0]
                where = ".".join(str(p) for p in first["loc"]) or "fix"
                yield index, None, ("invalid_fix", f"{where}: {first['msg']}")
                continue
        usable = earliest <= fix.recorded_at <= latest and fix.accuracy_m <= accuracy_max
        yield index, fix, None if usable else _rule_refusal(settings, fix, now)


_EVALUATED = (LocationFix.id, LocationFix.recorded_at, LocationFix.lat, LocationFix.lon, LocationFix.accuracy_m,
              LocationFix.is_mock, LocationFix.source)


def _store(session, rows: list[dict[str, Any]]) -> list:
    """Insert the fixes not stored before; return the new ones with what evaluation reads.

    PostgreSQL stores a batch in locations.batch's one statement; this is the way of other databases.
    """
    insert = insert_for(session)
    stmt = (insert(LocationFix).on_conflict_do_nothing(index_elements=["supervisee_id", "recorded_at"])
            .returning(*_EVALUATED))
    return list(session.execute(stmt, rows).all())


def _rule_refusal(settings, fix: FixIn, now: datetime) -> tuple[str, str] | None:
    refused = fix_refusal(settings, recorded_at=fix.recorded_at, accuracy_m=fix.accuracy_m, now=now,
                          max_age=timedelta(days=settings.LOCATION_RETENTION_DAYS), age_limit="the retention period")
    return None if refused is None else (refused.code, refused.message)


def evaluate(session, settings, person: Supervisee, fixes: list[LocationFix], now: datetime) -> None:
    """Raise the alerts that the new fixes (sorted by time) call for, and move zone states."""
    # One evaluator per supervisee at a time: two phones' uploads must not race the state.
    session.execute(_LOCK_PERSON, {"supervisee_id": person.id})
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    _check_mock(session, settings, person, fixes, zone, now)
    _check_speed(session, settings, person, fixes, zone, now)
    _check_zones(session, settings, person, fixes, now)


def _check_mock(session, settings, person, fixes, zone, now) -> None:
    for fix in fixes:
        if fix.is_mock:
            day = fix.recorded_at.astimezone(zone).date().isoformat()
            publish(session, settings, Breach(
                supervisee_id=person.id, office_id=person.office_id, type="mock_location", subject_key=f"mock:{day}",
                at=now, evidence={"source": fix.source, "fix_id": fix.id, "lat": fix.lat, "lon": fix.lon,
                                  "recorded_at": iso_z(fix.recorded_at)}))


def _check_speed(session, settings, person, fixes, zone, now) -> None:
    """Alert on movement faster than IMPOSSIBLE_SPEED_KMH even granting both fixes' accuracy."""
    real = [f for f in fixes if not f.is_mock]
    previous = session.execute(_REAL_FIX_BEFORE, {"supervisee_id": person.id, "before": fixes[0].recorded_at}
                               ).one_or_none()
    chain = ([previous] if previous is not None else []) + real
    if len(chain) < 2:
        return
    too_fast, metres, seconds = impossible_moves(settings, chain)
    for i in np.flatnonzero(too_fast):
        before, fix = chain[i], chain[i + 1]
        day = fix.recorded_at.astimezone(zone).date().isoformat()
        publish(session, settings, Breach(
            supervisee_id=person.id, office_id=person.office_id, type="impossible_movement",
            subject_key=f"speed:{day}", at=now,
            evidence={"from_fix_id": before.id, "to_fix_id": fix.id, "metres": round(float(metres[i])),
                      "seconds": float(seconds[i]), "implied_kmh": round(float(metres[i]) / float(seconds[i]) * 3.6)}))


def active_zones(session, person_id: int, since: datetime) -> list[ActiveZone]:
    """Return the person's zones; a leave's zones carry the period they permitted.

    A leave permits its destination and route from its start until the return (销假) or its
    end, whichever is first, also for fixes that arrive after the leave was closed. Zones whose
    period ended before ``since`` are left out.
    """
    rows = session.execute(_ACTIVE_ZONES, {"supervisee_id": person_id, "since": since}).all()
    return [ActiveZone(row.id, row.kind, row.name, compile_zone(row.geometry), row.applies_from, row.applies_until)
            for row in rows]


# The statements of every upload, composed once (see database.prebuilt).
_ACTIVE_ZONES = sa.select(Zone.id, Zone.kind, Zone.name, Zone.geometry, Zone.applies_from, Zone.applies_until).where(
    Zone.supervisee_id == sa.bindparam("supervisee_id"), Zone.active,
    sa.or_(Zone.applies_until.is_(None), Zone.applies_until >= sa.bindparam("since")))
# The person's evaluation lock: evaluators of one person queue on their row of ``location_locks`` (the
# first lock makes it). It is not the person's own row, which storing a fix takes a key share on through
# its foreign key: two uploads that both stored first cannot deadlock waiting for each other (FOR UPDATE
# of the person's row did, under Traccar Client's single-fix requests). The count tells a one-statement
# ingest that someone evaluated while it waited (its statement bumps it with the same clause: settle.LOCK).
BUMP_LOCK = "ON CONFLICT (supervisee_id) DO UPDATE SET seq = location_locks.seq + 1"
_LOCK_PERSON = sa.text(f"INSERT INTO location_locks (supervisee_id, seq) VALUES (:supervisee_id, 1) {BUMP_LOCK}")
# The person's last real fix before ``before``, asked as "the greatest (person, time) below (this
# person, before)" and then checked to be theirs: a plan cached while the table was small (PostgreSQL
# prepares a statement run often and keeps its generic plan) can read and sort every fix the person
# has for the plain question; for this one every plan walks the unique index back from one point.
_LAST_BELOW = (
    sa.select(LocationFix.supervisee_id, *_EVALUATED)
    .where(sa.tuple_(LocationFix.supervisee_id, LocationFix.recorded_at)
           < sa.tuple_(sa.bindparam("supervisee_id", type_=LocationFix.supervisee_id.type),
                       sa.bindparam("before", type_=LocationFix.recorded_at.type)), LocationFix.is_mock.is_(False))
    .order_by(LocationFix.supervisee_id.desc(), LocationFix.recorded_at.desc()).limit(1).subquery())
_REAL_FIX_BEFORE = sa.select(*(_LAST_BELOW.c[c.key] for c in _EVALUATED)).where(
    _LAST_BELOW.c.supervisee_id == sa.bindparam("supervisee_id"))
_DAWN = datetime(1970, 1, 1, tzinfo=UTC)
_REAL_FIXES_SINCE = (
    sa.select(*_EVALUATED).where(LocationFix.supervisee_id == sa.bindparam("supervisee_id"),
                                 LocationFix.recorded_at > sa.bindparam("since"), LocationFix.is_mock.is_(False))
    .order_by(LocationFix.recorded_at))
_ZONE_STATES = sa.select(ZoneState).where(ZoneState.supervisee_id == sa.bindparam("supervisee_id"),
                                          ZoneState.zone_key.in_(sa.bindparam("keys", expanding=True)))


def _check_zones(session, settings, person, fixes, now) -> None:
    zones = active_zones(session, person.id, since=fixes[0].recorded_at)
    keys = zone_keys(zones)
    if not keys:
        return
    states = {s.zone_key: s for s in session.execute(_ZONE_STATES, {"supervisee_id": person.id, "keys": keys})
              .scalars()}
    for key in keys:
        state = states.get(key)
        if state is None:
            state = ZoneState(supervisee_id=person.id, zone_key=key, candidate_count=0, episode=0)
            session.add(state)
        seen_zones = zones
        if _arrived_late(state, fixes):
            # A fix older than the last one evaluated, taken since the last confirmed change (a
            # retry, two clients, requests racing): replay what was stored since that change in
            # time order, so the state is the one the fixes would have made arriving in order.
            fresh = session.execute(_REAL_FIXES_SINCE, {"supervisee_id": person.id,
                                                        "since": state.changed_at or _DAWN}).all()
            if not fresh:
                continue
            state.candidate, state.candidate_since, state.candidate_count = None, None, 0
            state.last_fix_at = max(state.last_fix_at, fresh[-1].recorded_at)
            seen_zones = active_zones(session, person.id, since=fresh[0].recorded_at)
        else:
            fresh = [f for f in fixes if state.last_fix_at is None or f.recorded_at > state.last_fix_at]
            if not fresh:
                continue
            state.last_fix_at = fresh[-1].recorded_at
            fresh = [f for f in fresh if not f.is_mock]
            if not fresh:
                continue
        if state.candidate is None and state.state is not None \
                and not sides_seen(seen_zones, key, fresh) - {state.state}:
            continue  # still where it was confirmed: nothing moves (the usual case)
        for fix, (seen, distance) in zip(fresh, observations(seen_zones, key, fresh)):
            if seen is not None:
                _advance(session, settings, person, seen_zones, state, seen, fix, distance, now)


def _arrived_late(state: ZoneState, fixes) -> bool:
    """Whether a real fix came after a later one was evaluated, but after the last confirmed change."""
    return state.last_fix_at is not None and any(
        not f.is_mock and f.recorded_at < state.last_fix_at
        and (state.changed_at is None or f.recorded_at > state.changed_at) for f in fixes)


def _advance(session, settings, person, zones, state: ZoneState, seen: str, fix, distance, now) -> None:
    """Move one zone state machine by one observation."""
    if seen == state.state:
        state.candidate, state.candidate_since, state.candidate_count = None, None, 0
        return
    if state.candidate != seen:
        state.candidate, state.candidate_since, state.candidate_count = seen, fix.recorded_at, 0
    state.candidate_count += 1
    lasted = (fix.recorded_at - state.candidate_since).total_seconds()
    if state.candidate_count < settings.ZONE_CONFIRM_FIXES and lasted < settings.ZONE_CONFIRM_SECONDS:
        return
    first_reading = state.state is None
    state.state, state.changed_at = seen, fix.recorded_at
    state.candidate, state.candidate_since, state.candidate_count = None, None, 0
    permitted = state.zone_key == PERMITTED
    breach = (seen == "outside") if permitted else (seen == "inside")
    if first_reading and not breach:
        return  # where someone already was when evaluation began is no event
    event = ("exit" if breach else "return") if permitted else ("entry" if breach else "departure")
    session.add(ZoneEvent(supervisee_id=person.id, zone_key=state.zone_key, event=event,
                          at=fix.recorded_at, lat=fix.lat, lon=fix.lon, accuracy_m=fix.accuracy_m))
    if not breach:
        return
    state.episode += 1
    names = [z.name for z in zones if (z.kind == "permitted") == permitted
             and (permitted or f"exclusion:{z.id}" == state.zone_key)]
    publish(session, settings, Breach(
        supervisee_id=person.id, office_id=person.office_id, type="zone_exit" if permitted else "exclusion_entry",
        subject_key=f"{state.zone_key}:{state.episode}", at=now,
        evidence={"zones": names, "fix_id": fix.id, "lat": fix.lat, "lon": fix.lon, "accuracy_m": fix.accuracy_m,
                  "metres_from_edge": round(abs(distance)), "recorded_at": iso_z(fix.recorded_at)}))


def purge_expired_fixes(session, settings, now: datetime) -> int:
    """Delete fixes older than the retention setting; return how many went."""
    cutoff = now - timedelta(days=settings.LOCATION_RETENTION_DAYS)
    return session.execute(sa.delete(LocationFix).where(LocationFix.recorded_at < cutoff)).rowcount


def purge_locations(session, *, before: datetime, people: sa.Select) -> int:
    """Delete fixes and zone events older than ``before``, and all of them, and the zones, of ``people``.

    ``people`` selects the ids of supervisees whose location data is no longer needed at all
    (supervision ended). A zone event is a copy of the fix that confirmed it; the alert it raised is
    the supervision record, and stays. Return the rows deleted.
    """
    gone = session.execute(sa.delete(LocationFix).where(
        sa.or_(LocationFix.recorded_at < before, LocationFix.supervisee_id.in_(people)))).rowcount
    gone += session.execute(sa.delete(ZoneEvent).where(
        sa.or_(ZoneEvent.at < before, ZoneEvent.supervisee_id.in_(people)))).rowcount
    gone += session.execute(sa.delete(Zone).where(Zone.supervisee_id.in_(people))).rowcount
    return gone
