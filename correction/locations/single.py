"""One fix from a real location app (Traccar Client, OwnTracks) in one database round trip.

Traccar Client and OwnTracks send a request per fix, so what a fix costs besides its INSERT is
what ingest costs. On PostgreSQL one statement looks the ingest key up, takes the person's
evaluation lock (bumping its count in ``location_locks``), stores the fix, notes the key's use, moves
the zone states' last fix, and reads what evaluating the fix needs: the person's zones, zone states
and their last real fix before this one. The reads of one statement share the snapshot it took
before it waited for the lock; the count says whether anyone evaluated in between (it is then more
than one past what the snapshot saw), and only then are they stale. The key is read in the same
statement, so a revoked or expired key stops at once; nothing is cached but the compiled zone
shapes, by zone id (``shapes``: the statement leaves out the geometry of the zones this application
holds for the key), and the zones the key's last statement read, which are only ever trusted as far as
their fingerprint in the next statement says (below).

The usual case, a fix stored and later than every fix evaluated, not mocked, not impossibly fast,
and in every zone where the person was confirmed to be with nothing being confirmed, has nothing to
raise and nothing more to write. Anything else is handed to ``service.evaluate`` with the zone
states as they were, which decides as for every upload; SQLite and fixes that are refused go the
way of every upload (``service.ingest``).

A fix is judged before it is sent when this process knows the sender's zones from their last fix
(``ZoneShapes.known``): if it is not mocked, the sides of each zone's edge it is on go with it, and a
statement of its own (``_USUAL_FIX``, committed as it ends: no BEGIN, no COMMIT) stores it only if what
made it the usual case holds under the person's lock: the zones are those judged (their fingerprint),
every zone state is confirmed on the side the fix is on with nothing being confirmed and no later fix
evaluated, nobody evaluated since the statement's snapshot, and the step from the last real fix is
clearly possible (measured in SQL, with a margin the two computations never differ by). So a fix is
only ever committed without its evaluation when its evaluation would change nothing. Otherwise that
statement writes nothing but the lock's count and the key's use, and the fix goes the way above.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..database import DriverStatement, idle, request_connection
from ..metrics import count_fixes, count_judged_first
from ..security import hash_token
from . import ingest_keys, judging, service, settle
from .geometry import great_circle_sql
from .schemas import FixIn
from .service import IngestResult
from .shapes import Known, ZoneShapes


def ingest_fix(session, settings, key: str, raw_fix: dict[str, Any], *, source: str, now: datetime,
               shapes: ZoneShapes) -> IngestResult | None:
    """Store and evaluate one fix sent with an ingest key; None when the key opens nothing."""
    (_, fix, refusal), = service.checked(settings, [raw_fix], now)
    connection = request_connection(session)  # the session, if it is needed, takes this over
    if connection.dialect.name != "postgresql" or fix is None or refusal is not None:
        person = ingest_keys.person_for_key(session, settings, key, now)
        return None if person is None else service.ingest(session, settings, person, [raw_fix], source=source,
                                                          now=now)
    if not key or len(key) > 200:
        return None
    sender = ("key", hash_token(key))
    params = {**fix.model_dump(), "key_hash": sender[1], "source": source, "now": now,
              "issued_after": now - timedelta(days=settings.INGEST_KEY_TTL_DAYS),
              "touch_before": now - timedelta(seconds=settings.TOKEN_TOUCH_INTERVAL_SECONDS)}
    known = shapes.known(sender)
    if known is not None and not fix.is_mock and idle(connection):
        usual = _USUAL_FIX.autocommitted(connection, {**params, **_expected(settings, known, fix)})
        if usual is None:
            return None
        count_judged_first(usual.usual)
        if usual.usual:
            result = IngestResult(stored=int(usual.stored), skipped=1 - int(usual.stored))
            count_fixes(result.stored, result.skipped, [])
            return result
    row = settle.read(_ONE_FIX.one_or_none(connection, {**params, "held_zones": settle.held_zones(shapes, sender)}))
    if row is None:
        return None
    fixes = settle.stored(row, [fix], source)
    result = IngestResult(stored=len(fixes), skipped=1 - len(fixes))
    if fixes:
        settle.settle(session, settings, row, fixes, now, shapes=shapes, sender=sender)
    count_fixes(result.stored, result.skipped, [])
    return result


# The key and the lock first (as service.evaluate takes it), then the fix (the key's device is found
# first, and the person by its primary key, whatever the planner thinks of the tables' sizes). The lock
# is the person's row of ``location_locks`` (made by the first lock), so a fix's foreign key, which
# takes a key share on the person's own row, meets no lock of ours. ``_STORE`` stores the fix for the
# one row of a CTE (``seen``, or ``usual`` below) and notes the key's use. The reads that follow are settle's.
_KEY_AND_LOCK = """
WITH device AS MATERIALIZED (
    SELECT id, supervisee_id, ingest_key_last_used_at FROM devices
    WHERE ingest_key_hash = :key_hash AND active AND ingest_key_issued_at > :issued_after
), person AS (
    SELECT s.id, s.office_id, d.id AS device_id, d.ingest_key_last_used_at AS last_used_at
    FROM supervisees AS s JOIN device AS d ON d.supervisee_id = s.id
    WHERE s.id = (SELECT supervisee_id FROM device) AND s.status = 'active'
),""" + settle.LOCK
_STORE = """
fix AS (
    INSERT INTO location_fixes (supervisee_id, received_at, source, recorded_at, lat, lon, accuracy_m, speed_mps,
                                heading, altitude_m, battery, is_mock)
    SELECT id, :now, :source, CAST(:recorded_at AS timestamptz), CAST(:lat AS float8), CAST(:lon AS float8),
           CAST(:accuracy_m AS float8), CAST(:speed_mps AS float8), CAST(:heading AS float8),
           CAST(:altitude_m AS float8), CAST(:battery AS float8), CAST(:is_mock AS boolean)
    FROM {into}
    ON CONFLICT (supervisee_id, recorded_at) DO NOTHING
    RETURNING id, recorded_at
), touch AS (
    UPDATE devices SET ingest_key_last_used_at = :now FROM seen
    WHERE devices.id = seen.device_id AND (seen.last_used_at IS NULL OR seen.last_used_at <= :touch_before)
),"""
_ONE_FIX = DriverStatement(_KEY_AND_LOCK + _STORE.format(into="seen") + settle.READS)


def _expected(settings, known: Known, fix: FixIn) -> dict[str, Any]:
    """What ``_USUAL_FIX`` checks, for a fix judged on the sender's ``known`` zones: the person, the zones'
    fingerprint, each zone state's key and the side of its edge the fix is on (NULL: too vague to say)."""
    keys = judging.zone_keys(known.zones)
    sides = [next(iter(judging.sides_seen(known.zones, key, [fix])), None) for key in keys]
    return {"person_id": known.person_id, "zones_fingerprint": known.fingerprint,
            "keys": settle.array_literal(keys), "sides": settle.array_literal(sides),
            "limit_mps": settings.IMPOSSIBLE_SPEED_KMH / 3.6 * _SPEED_MARGIN, "count": len(keys)}


# Speeds within this fraction of the limit are judged by service.evaluate, not by the statement: SQL's
# great circle and geometry's agree to far less than this, so the statement never calls possible a
# step that judging.impossible_move calls too fast.
_SPEED_MARGIN = 0.999_999

# The usual fix, judged before it is sent: the key, the person and the lock as in _ONE_FIX, then the
# premises of the usual case (``usual``: one row, or none), and only under them the fix and its zone
# states' last fix. ``:keys`` and ``:sides`` are text[] literals of equal length; ``:count`` their length.
_USUAL_FIX = DriverStatement(_KEY_AND_LOCK + """ zone AS (
    SELECT z.id, z.kind, z.applies_from, z.applies_until
    """ + settle.applying_zones("CAST(:recorded_at AS timestamptz)") + """
), previous AS (""" + settle.last_real_fix("(SELECT id FROM seen)", "CAST(:recorded_at AS timestamptz)") + """
), usual AS (
    SELECT seen.* FROM seen
    WHERE seen.location_seq = seen.seen_seq + 1 AND seen.id = CAST(:person_id AS bigint)
      AND coalesce((SELECT """ + settle.ZONES_FINGERPRINT + """ FROM zone), '') = :zones_fingerprint
      AND (SELECT count(*) FROM zone_states AS zs
           JOIN unnest(CAST(:keys AS text[]), CAST(:sides AS text[])) AS expected (zone_key, side)
             ON zs.zone_key = expected.zone_key
           WHERE zs.supervisee_id = seen.id AND zs.state = coalesce(expected.side, zs.state)
             AND zs.candidate IS NULL
             AND (zs.last_fix_at IS NULL OR zs.last_fix_at < CAST(:recorded_at AS timestamptz))
          ) = CAST(:count AS int)
      AND NOT EXISTS (SELECT FROM previous WHERE """ + great_circle_sql(
          "previous.lat", "previous.lon", "CAST(:lat AS float8)", "CAST(:lon AS float8)") + """
              - previous.accuracy_m - CAST(:accuracy_m AS float8)
          > CAST(:limit_mps AS float8) * extract(epoch FROM CAST(:recorded_at AS timestamptz) - previous.recorded_at))
),""" + _STORE.format(into="usual") + """ moved AS (
    UPDATE zone_states AS zs SET last_fix_at = CAST(:recorded_at AS timestamptz) FROM usual
    WHERE zs.supervisee_id = usual.id AND zs.zone_key = ANY(CAST(:keys AS text[])) AND EXISTS (SELECT FROM fix)
)
SELECT EXISTS (SELECT FROM usual) AS usual, EXISTS (SELECT FROM fix) AS stored FROM seen""")
