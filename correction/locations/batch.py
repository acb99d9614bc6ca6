"""A batch from the app in one database round trip (PostgreSQL), as ``single`` does a real client's fix.

One statement takes the person's evaluation lock (bumping its count in ``location_locks``), stores
the batch from one JSON text, moves the zone states' last fix and reads what evaluating the
new fixes needs (``settle.READS``); ``settle`` decides whether anything more must happen. Other
databases go the way of ``service.ingest``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic_core import to_json

from ..database import DriverStatement, request_connection
from ..people.models import Supervisee
from . import service, settle
from .schemas import FixIn
from .service import IngestResult
from .shapes import ZoneShapes


def ingest(session, settings, supervisee_id: int, raw_fixes: list[Any], *, source: str, now: datetime,
           shapes: ZoneShapes) -> IngestResult:
    """Store the good fixes of a batch, refuse the bad ones with reasons, evaluate the new ones.

    The usual batch runs on the request's connection (``request_connection``) and never opens the
    ORM session; refusals to note and fixes to evaluate further do, and it takes the connection over.
    """
    connection = request_connection(session)
    if connection.dialect.name != "postgresql":
        return service.ingest(session, settings, session.get(Supervisee, supervisee_id), raw_fixes, source=source,
                              now=now)
    result, good = service.sort_out(settings, raw_fixes, now)
    if good:
        sender = ("person", supervisee_id)
        row = settle.read(_BATCH.one_or_none(connection, {"fixes": as_json(good), "supervisee_id": supervisee_id,
                                                          "received_at": now, "source": source,
                                                          "held_zones": settle.held_zones(shapes, sender)}))
        fixes = settle.stored(row, good, source)
        result.stored, result.skipped = len(fixes), len(good) - len(fixes)
        if fixes:
            settle.settle(session, settings, row, fixes, now, shapes=shapes, sender=sender)
    service.finish(session, supervisee_id, result, now)
    return result


def as_json(fixes: list[FixIn]) -> str:
    """The fixes as one JSON text for the statement (json_to_recordset reads it back in the order sent).

    pydantic_core writes the fields' values in one call, times in ISO 8601 with Z (they are UTC once
    validated); psycopg would dump nine arrays element by element in Python, and a model's own JSON
    goes through its serializers in Python, field by field.
    """
    return to_json([vars(fix) for fix in fixes]).decode()


# The lock, then the fixes, in one go (settle.LOCK, as single's statement takes it). The reads are settle's.
_BATCH = DriverStatement("""
WITH person AS (
    SELECT CAST(:supervisee_id AS int) AS id
),""" + settle.LOCK + """ fix AS (
    INSERT INTO location_fixes (supervisee_id, received_at, source, recorded_at, lat, lon, accuracy_m, speed_mps,
                                heading, altitude_m, battery, is_mock)
    SELECT seen.id, :received_at, :source, u.* FROM seen, json_to_recordset(CAST(:fixes AS json)) AS u(
        recorded_at timestamptz, lat float8, lon float8, accuracy_m float8, speed_mps float8, heading float8,
        altitude_m float8, battery float8, is_mock boolean)
    ON CONFLICT (supervisee_id, recorded_at) DO NOTHING
    RETURNING id, recorded_at
), """ + settle.READS)
