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
holds for the key).

The usual case, a fix stored and later than every fix evaluated, not mocked, not impossibly fast,
and in every zone where the person was confirmed to be with nothing being confirmed, has nothing to
raise and nothing more to write. Anything else is handed to ``service.evaluate`` with the zone
states as they were, which decides as for every upload; SQLite and fixes that are refused go the
way of every upload (``service.ingest``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..database import DriverStatement, request_connection
from ..metrics import count_fixes
from ..security import hash_token
from . import ingest_keys, service, settle
from .service import IngestResult
from .shapes import ZoneShapes


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
    row = settle.read(_ONE_FIX.one_or_none(connection, {
        **fix.model_dump(), "key_hash": sender[1], "source": source, "now": now,
        "issued_after": now - timedelta(days=settings.INGEST_KEY_TTL_DAYS),
        "touch_before": now - timedelta(seconds=settings.TOKEN_TOUCH_INTERVAL_SECONDS),
        "held_zones": settle.held_zones(shapes, sender)}))
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
# takes a key share on the person's own row, meets no lock of ours. The reads that follow are settle's.
_ONE_FIX = DriverStatement("""
WITH device AS MATERIALIZED (
    SELECT id, supervisee_id, ingest_key_last_used_at FROM devices
    WHERE ingest_key_hash = :key_hash AND active AND ingest_key_issued_at > :issued_after
), person AS (
    SELECT s.id, s.office_id, d.id AS device_id, d.ingest_key_last_used_at AS last_used_at
    FROM supervisees AS s JOIN device AS d ON d.supervisee_id = s.id
    WHERE s.id = (SELECT supervisee_id FROM device) AND s.status = 'active'
),""" + settle.LOCK + """ fix AS (
    INSERT INTO location_fixes (supervisee_id, received_at, source, recorded_at, lat, lon, accuracy_m, speed_mps,
                                heading, altitude_m, battery, is_mock)
    SELECT id, :now, :source, CAST(:recorded_at AS timestamptz), CAST(:lat AS float8), CAST(:lon AS float8),
           CAST(:accuracy_m AS float8), CAST(:speed_mps AS float8), CAST(:heading AS float8),
           CAST(:altitude_m AS float8), CAST(:battery AS float8), CAST(:is_mock AS boolean)
    FROM seen
    ON CONFLICT (supervisee_id, recorded_at) DO NOTHING
    RETURNING id, recorded_at
), touch AS (
    UPDATE devices SET ingest_key_last_used_at = :now FROM seen
    WHERE devices.id = seen.device_id AND (seen.last_used_at IS NULL OR seen.last_used_at <= :touch_before)
), """ + settle.READS)
