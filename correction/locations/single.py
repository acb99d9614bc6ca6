"""One fix from a real location app (Traccar Client, OwnTracks) in one database round trip.

Traccar Client and OwnTracks send a request per fix, so what a fix costs besides its INSERT is
what ingest costs. On PostgreSQL one statement looks the ingest key up, takes the person's
evaluation lock (bumping ``supervisees.location_seq``), stores the fix, notes the key's use, moves
the zone states' last fix, and reads what evaluating the fix needs: the person's zones, zone states
and their last real fix before this one. The reads of one statement share the snapshot it took
before it waited for the lock; the count says whether anyone evaluated in between (it is then more
than one past what the snapshot saw), and only then are they stale. The key is read in the same
statement, so a revoked or expired key stops at once; nothing is cached but the compiled zone
shapes, by their content.

The usual case, a fix stored and later than every fix evaluated, not mocked, not impossibly fast,
and in every zone where the person was confirmed to be with nothing being confirmed, has nothing to
raise and nothing more to write. Anything else is handed to ``service.evaluate`` with the zone
states as they were, which decides as for every upload; SQLite and fixes that are refused go the
way of every upload (``service.ingest``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa

from ..metrics import count_fixes
from ..people.models import Supervisee
from ..security import hash_token
from . import ingest_keys, service
from .geometry import compile_zone_text, haversine_m
from .service import IngestResult


class _Fix(NamedTuple):
    """A stored fix, as evaluation reads it."""

    id: int
    recorded_at: datetime
    lat: float
    lon: float
    accuracy_m: float
    is_mock: bool
    source: str


class _State(NamedTuple):
    zone_key: str
    state: str | None
    candidate: str | None
    last_fix_at: datetime | None


def ingest_fix(session, settings, key: str, raw_fix: dict[str, Any], *, source: str,
               now: datetime) -> IngestResult | None:
    """Store and evaluate one fix sent with an ingest key; None when the key opens nothing."""
    (_, fix, refusal), = service.checked(settings, [raw_fix], now)
    if session.get_bind().dialect.name != "postgresql" or fix is None or refusal is not None:
        person = ingest_keys.person_for_key(session, settings, key, now)
        return None if person is None else service.ingest(session, settings, person, [raw_fix], source=source,
                                                          now=now)
    if not key or len(key) > 200:
        return None
    row = session.execute(_ONE_FIX, {
        **fix.model_dump(), "key_hash": hash_token(key), "source": source, "now": now,
        "issued_after": now - timedelta(days=settings.INGEST_KEY_TTL_DAYS),
        "touch_before": now - timedelta(seconds=settings.TOKEN_TOUCH_INTERVAL_SECONDS)}).one_or_none()
    if row is None:
        return None
    result = IngestResult(stored=int(row.fix_id is not None), skipped=int(row.fix_id is None))
    if row.fix_id is not None:
        stored = _Fix(row.fix_id, fix.recorded_at, fix.lat, fix.lon, fix.accuracy_m, fix.is_mock, source)
        zones = [service.ActiveZone(z[0], z[1], z[2], compile_zone_text(z[3]), _instant(z[4]), _instant(z[5]))
                 for z in row.zones or []]
        states = {s[0]: _State(s[0], s[1], s[2], _instant(s[3])) for s in row.states or []}
        if not (row.current and _usual(settings, stored, zones, states, row.previous)):
            if row.current:  # the statement moved the states' last fix: put it back for the evaluator
                _restore(session, row.id, [states[k] for k in service.zone_keys(zones) if k in states])
            service.evaluate(session, settings, session.get(Supervisee, row.id), [stored], now)
    count_fixes(result.stored, result.skipped, [])
    return result


def _usual(settings, fix: _Fix, zones: list, states: dict[str, _State], previous: list | None) -> bool:
    """Whether the fix leaves everything as it was: no alert, no zone state but its last fix moves."""
    if fix.is_mock:
        return False
    if previous is not None and _too_fast(settings, previous, fix):
        return False
    for key in service.zone_keys(zones):
        state = states.get(key)
        if state is None or state.state is None or state.candidate is not None \
                or (state.last_fix_at is not None and fix.recorded_at <= state.last_fix_at):
            return False
        seen, _ = service.observations(zones, key, [fix])[0]
        if seen not in (None, state.state):
            return False
    return True


def _too_fast(settings, previous: list, fix: _Fix) -> bool:
    """service's rule for impossible movement, between the last real fix and this one."""
    recorded_at, lat, lon, accuracy_m = _instant(previous[0]), previous[1], previous[2], previous[3]
    seconds = (fix.recorded_at - recorded_at).total_seconds()
    certain = float(haversine_m(lat, lon, fix.lat, fix.lon)) - accuracy_m - fix.accuracy_m
    return seconds > 0 and certain > 0 and certain / seconds > settings.IMPOSSIBLE_SPEED_KMH / 3.6


def _restore(session, supervisee_id: int, states: list[_State]) -> None:
    if states:
        session.execute(_RESTORE, [{"supervisee_id": supervisee_id, "zone_key": s.zone_key,
                                    "last_fix_at": s.last_fix_at} for s in states])


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


_RESTORE = sa.text("UPDATE zone_states SET last_fix_at = :last_fix_at "
                   "WHERE supervisee_id = :supervisee_id AND zone_key = :zone_key")

# The key and the lock first (as service.evaluate takes it), then the fix (the key's device is found
# first, and the person by its primary key, whatever the planner thinks of the tables' sizes): a fix's foreign key takes a
# key share on the person's row, which the lock's FOR NO KEY UPDATE does not conflict with. The zone
# states' last fix moves only when the fix was stored and nobody evaluated since the snapshot; the
# keys are those service.zone_keys gives for the zones that apply.
_ONE_FIX = sa.text("""
WITH device AS MATERIALIZED (
    SELECT id, supervisee_id, ingest_key_last_used_at FROM devices
    WHERE ingest_key_hash = :key_hash AND active AND ingest_key_issued_at > :issued_after
), person AS (
    UPDATE supervisees AS s SET location_seq = s.location_seq + 1
    FROM device AS d
    WHERE s.id = (SELECT supervisee_id FROM device) AND d.supervisee_id = s.id AND s.status = 'active'
    RETURNING s.id, s.office_id, s.location_seq, d.id AS device_id, d.ingest_key_last_used_at AS last_used_at
), seen AS (
    SELECT person.*, (SELECT location_seq FROM supervisees WHERE id = person.id) AS seen_seq FROM person
), fix AS (
    INSERT INTO location_fixes (supervisee_id, received_at, source, recorded_at, lat, lon, accuracy_m, speed_mps,
                                heading, altitude_m, battery, is_mock)
    SELECT id, :now, :source, CAST(:recorded_at AS timestamptz), CAST(:lat AS float8), CAST(:lon AS float8),
           CAST(:accuracy_m AS float8), CAST(:speed_mps AS float8), CAST(:heading AS float8),
           CAST(:altitude_m AS float8), CAST(:battery AS float8), CAST(:is_mock AS boolean)
    FROM person
    ON CONFLICT (supervisee_id, recorded_at) DO NOTHING
    RETURNING id
), touch AS (
    UPDATE devices SET ingest_key_last_used_at = :now FROM person
    WHERE devices.id = person.device_id AND (person.last_used_at IS NULL OR person.last_used_at <= :touch_before)
), zone AS (
    SELECT z.id, z.kind, z.name, CAST(z.geometry AS text) AS geometry, z.applies_from, z.applies_until
    FROM zones AS z JOIN person ON z.supervisee_id = person.id
    WHERE z.active AND (z.applies_until IS NULL OR z.applies_until >= CAST(:recorded_at AS timestamptz))
), moved AS (
    UPDATE zone_states AS zs SET last_fix_at = greatest(zs.last_fix_at, CAST(:recorded_at AS timestamptz))
    FROM seen, fix
    WHERE zs.supervisee_id = seen.id AND seen.location_seq = seen.seen_seq + 1
      AND zs.zone_key IN (SELECT CASE WHEN kind = 'permitted' THEN 'permitted' ELSE 'exclusion:' || id END FROM zone)
)
SELECT seen.id, seen.location_seq = seen.seen_seq + 1 AS current, (SELECT id FROM fix) AS fix_id,
       (SELECT json_agg(json_build_array(id, kind, name, geometry, applies_from, applies_until) ORDER BY id)
        FROM zone) AS zones,
       (SELECT json_agg(json_build_array(zone_key, state, candidate, last_fix_at))
        FROM zone_states WHERE supervisee_id = seen.id) AS states,
       (SELECT json_build_array(recorded_at, lat, lon, accuracy_m) FROM location_fixes
        WHERE supervisee_id = seen.id AND recorded_at < CAST(:recorded_at AS timestamptz) AND NOT is_mock
        ORDER BY recorded_at DESC LIMIT 1) AS previous
FROM seen
""")
