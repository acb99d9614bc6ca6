"""Finish evaluating fixes that one statement stored, on what that statement read.

``single`` (a real client's fix) and ``batch`` (the app's upload) each store their fixes, take the
person's evaluation lock and read the zones, the zone states and the last real fix before the new
ones in one statement, and move the zone states' last fix when nobody evaluated since its snapshot
(``current``). In the usual case, fixes not mocked, not impossibly fast, later than every fix
evaluated and in every zone where the person was confirmed to be, with nothing being confirmed,
nothing more is written. Anything else puts the zone states back and hands the fixes to
``service.evaluate``, which decides as for every upload.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Hashable, NamedTuple

import sqlalchemy as sa
from pydantic_core import from_json

from ..people.models import Supervisee
from . import judging, service
from .shapes import Known, ZoneShapes


class Fix(NamedTuple):
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


class Read(NamedTuple):
    """What a one-statement ingest read (``READS``), from the statement's one JSON text.

    One text column, parsed in one call, costs the driver and the worker less than seven typed
    columns (arrays and JSON each set up and loaded by psycopg) for every fix.
    """

    id: int
    current: bool  # nobody evaluated the person since the statement's snapshot
    fix_ids: list[int] | None  # the stored fixes, in time order
    fix_times: list[str] | None
    zones: list[list] | None  # [id, kind, name, geometry text or None when held, applies_from, applies_until]
    states: list[list] | None  # [zone_key, state, candidate, last_fix_at]
    previous: list | None  # [recorded_at, lat, lon, accuracy_m] of the last real fix before the new ones
    zones_fingerprint: str | None  # ZONES_FINGERPRINT of the zones read


def read(row: Any) -> Read | None:
    """The statement's answer (its one column, ``read``), or None when it read nothing (no such key)."""
    return None if row is None else Read._make(from_json(row.read))


def held_zones(shapes: ZoneShapes, sender: Hashable) -> str:
    """``shapes.held_for(sender)`` as the statement's ``:held_zones`` (an int[] literal: text is cheap to send)."""
    return array_literal(shapes.held_for(sender))


def array_literal(items) -> str:
    """A PostgreSQL array literal of ``items`` (ints, or strings with no comma, quote or brace; None is NULL),
    for a statement to CAST: one text parameter costs the driver less than an array of them."""
    return "{" + ",".join("NULL" if item is None else str(item) for item in items) + "}"


class _Previous(NamedTuple):
    recorded_at: datetime
    lat: float
    lon: float
    accuracy_m: float


def settle(session, settings, row: Read, fixes: list[Fix], now: datetime, *, shapes: ZoneShapes,
           sender: Hashable) -> None:
    """Evaluate ``fixes`` (stored, in time order) with what the statement's ``row`` read for ``sender``.

    The statement sent the geometry of the zones ``shapes`` did not hold for the sender (``ZoneShapes.held_for``).
    """
    read = row.zones or []
    compiled = shapes.resolve(session, sender, [(z[0], z[3]) for z in read])
    zones = [judging.ActiveZone(z[0], z[1], z[2], compiled[z[0]], _instant(z[4]), _instant(z[5])) for z in read]
    shapes.remember(sender, Known(row.id, tuple(zones), row.zones_fingerprint or ""))
    states = {s[0]: _State(s[0], s[1], s[2], _instant(s[3])) for s in row.states or []}
    if row.current and _usual(settings, fixes, zones, states, row.previous):
        return
    if row.current:  # the statement moved the states' last fix: put it back for the evaluator
        _restore(session, row.id, [states[k] for k in judging.zone_keys(zones) if k in states])
    service.evaluate(session, settings, session.get(Supervisee, row.id), fixes, now)


def _usual(settings, fixes: list[Fix], zones: list, states: dict[str, _State], previous: list | None) -> bool:
    """Whether the fixes leave everything as it was: no alert, no zone state but its last fix moves."""
    if any(fix.is_mock for fix in fixes):
        return False
    chain = fixes if previous is None else [_Previous(_instant(previous[0]), *previous[1:4]), *fixes]
    if len(chain) == 2 and judging.impossible_move(settings, *chain):
        return False
    if len(chain) > 2 and judging.impossible_moves(settings, chain)[0].any():
        return False
    first = fixes[0].recorded_at
    for key in judging.zone_keys(zones):
        state = states.get(key)
        if state is None or state.state is None or state.candidate is not None \
                or (state.last_fix_at is not None and first <= state.last_fix_at):
            return False
        if judging.sides_seen(zones, key, fixes) - {state.state}:
            return False
    return True


def _restore(session, supervisee_id: int, states: list[_State]) -> None:
    if states:
        session.execute(_RESTORE, [{"supervisee_id": supervisee_id, "zone_key": s.zone_key,
                                    "last_fix_at": s.last_fix_at} for s in states])


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


_RESTORE = sa.text("UPDATE zone_states SET last_fix_at = :last_fix_at "
                   "WHERE supervisee_id = :supervisee_id AND zone_key = :zone_key")

# The person's evaluation lock in the one statement, after a CTE ``person`` (one row: the person's ``id``,
# and whatever else the statement carries along): their row of ``location_locks`` bumped with
# ``service.BUMP_LOCK``, as service._LOCK_PERSON bumps it (the first lock makes the row), and ``seen``:
# ``person`` with the count the statement set (``location_seq``) and the one its snapshot saw
# (``seen_seq``, 0 before the first lock).
LOCK = f"""
locked AS (
    INSERT INTO location_locks (supervisee_id, seq) SELECT id, 1 FROM person {service.BUMP_LOCK}
    RETURNING supervisee_id, seq
), seen AS (
    SELECT person.*, locked.seq AS location_seq,
           coalesce((SELECT seq FROM location_locks WHERE supervisee_id = person.id), 0) AS seen_seq
    FROM person JOIN locked ON locked.supervisee_id = person.id
),"""


def last_real_fix(person: str, before: str) -> str:
    """SQL selecting the last real fix of ``person`` before ``before`` (SQL expressions): none, or one row of
    ``recorded_at, lat, lon, accuracy_m``.

    Asked as service's ``_REAL_FIX_BEFORE`` is (the greatest (person, time) below theirs, then checked to
    be theirs), so that the plan PostgreSQL keeps for a prepared statement walks the index back one row,
    whatever the table's size when the plan was made.
    """
    return f"""SELECT recorded_at, lat, lon, accuracy_m FROM (
        SELECT supervisee_id, recorded_at, lat, lon, accuracy_m FROM location_fixes
        WHERE (supervisee_id, recorded_at) < ({person}, {before}) AND NOT is_mock
        ORDER BY supervisee_id DESC, recorded_at DESC LIMIT 1) AS last
    WHERE last.supervisee_id = {person}"""


# A fingerprint of the zones a statement read (a relation of zones with ``id``, ``kind``, ``applies_from``
# and ``applies_until``): what judging reads of a zone but its geometry, which never changes (an ended
# leave ends its zones, a replaced area is made inactive, and inactive zones are not read). NULL for none.
def applying_zones(since: str) -> str:
    """SQL ``FROM … WHERE`` of the zones (``z``) of the person of CTE ``seen`` that apply from ``since`` (a SQL
    expression) on: active, and not ended before it. The zones a statement judges by, and fingerprints."""
    return f"""FROM zones AS z JOIN seen ON z.supervisee_id = seen.id
    WHERE z.active AND (z.applies_until IS NULL OR z.applies_until >= {since})"""


ZONES_FINGERPRINT = """md5(string_agg(
    id || ',' || kind || ',' || coalesce(CAST(extract(epoch FROM applies_from) AS text), '') || ','
    || coalesce(CAST(extract(epoch FROM applies_until) AS text), ''), ';' ORDER BY id))"""

# The parts of the one statement that follow storing the fixes (CTE ``fix``, whose rows have
# ``recorded_at``) and locking the person (CTE ``seen``: the person's id, the count the statement set
# and the one its snapshot saw). A zone's geometry comes unless its id is in ``:held_zones``
# (``ZoneShapes.held_for``). The zone states' last fix moves only when fixes were stored and
# nobody evaluated since the snapshot; the keys are those judging.zone_keys gives for the zones that
# apply from the first new fix on.
READS = """
zone AS (
    SELECT z.id, z.kind, z.name,
           CASE WHEN z.id = ANY(CAST(:held_zones AS int[])) THEN NULL ELSE CAST(z.geometry AS text) END AS geometry,
           z.applies_from, z.applies_until
    """ + applying_zones("(SELECT min(recorded_at) FROM fix)") + """
), moved AS (
    UPDATE zone_states AS zs SET last_fix_at = greatest(zs.last_fix_at, (SELECT max(recorded_at) FROM fix))
    FROM seen
    WHERE zs.supervisee_id = seen.id AND seen.location_seq = seen.seen_seq + 1 AND EXISTS (SELECT FROM fix)
      AND zs.zone_key IN (SELECT CASE WHEN kind = 'permitted' THEN 'permitted' ELSE 'exclusion:' || id END FROM zone)
)
SELECT CAST(json_build_array(
    seen.id,
    seen.location_seq = seen.seen_seq + 1,
    (SELECT json_agg(id ORDER BY recorded_at) FROM fix),
    (SELECT json_agg(recorded_at ORDER BY recorded_at) FROM fix),
    (SELECT json_agg(json_build_array(id, kind, name, geometry, applies_from, applies_until) ORDER BY id) FROM zone),
    (SELECT json_agg(json_build_array(zone_key, state, candidate, last_fix_at))
     FROM zone_states WHERE supervisee_id = seen.id),
    (SELECT json_build_array(recorded_at, lat, lon, accuracy_m) FROM (""" + last_real_fix(
        "seen.id", "(SELECT coalesce(min(recorded_at), '-infinity') FROM fix)") + """) AS previous),
    (SELECT """ + ZONES_FINGERPRINT + """ FROM zone)) AS text) AS read
FROM seen"""


def stored(row: Read, sent: list, source: str) -> list[Fix]:
    """The fixes of ``sent`` (validated fixes) that the statement stored, in time order, with their ids."""
    if not row.fix_ids:
        return []
    if len(row.fix_ids) == len(sent) and all(a.recorded_at < b.recorded_at for a, b in zip(sent, sent[1:])):
        pairs = zip(row.fix_ids, sent)  # all stored, sent in time order: the ids come back in that order
    else:
        by_time = {fix.recorded_at: fix for fix in reversed(sent)}  # of two at one instant, the first is stored
        pairs = ((id, by_time[datetime.fromisoformat(at)]) for id, at in zip(row.fix_ids, row.fix_times))
    return [Fix(id, f.recorded_at, f.lat, f.lon, f.accuracy_m, f.is_mock, source) for id, f in pairs]
