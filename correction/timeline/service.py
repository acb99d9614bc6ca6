"""A supervisee's timeline: events of every feature, newest first, in one keyset-paged query.

Each source contributes a SELECT of (at, type, id) for one supervisee and a loader that turns
ids into event data. A feature adds itself by adding a source to ``SOURCES``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..alerts.models import Alert
from ..checkins.models import Checkin, SpotCheck
from ..leave.models import LeaveRequest
from ..locations.models import ZoneEvent
from ..mall.models import PointEntry
from ..schemas import PageQuery, cursor_id, cursor_instant, decode_cursor, encode_cursor, invalid_cursor
from ..time import TZDateTime, iso_z


@dataclass(frozen=True)
class Source:
    type: str
    model: Any
    at_column: str
    fields: tuple[str, ...]

    def select(self, supervisee_id: int) -> sa.Select:
        return sa.select(getattr(self.model, self.at_column).label("at"),
                         sa.literal(self.type).label("type"), self.model.id.label("id")
                         ).where(self.model.supervisee_id == supervisee_id)

    def load(self, session, ids: list[int]) -> dict[int, dict[str, Any]]:
        rows = session.execute(sa.select(self.model).where(self.model.id.in_(ids))).scalars()
        return {row.id: {name: _plain(getattr(row, name)) for name in self.fields} for row in rows}


SOURCES: tuple[Source, ...] = (
    Source("checkin", Checkin, "received_at",
           ("kind", "outcome", "refusal_code", "window_key", "station_id", "spot_check_id", "lat", "lon",
            "accuracy_m", "distance_m", "is_mock", "recorded_at")),
    Source("spot_check", SpotCheck, "requested_at",
           ("requested_by", "due_at", "status", "answered_at", "note")),
    Source("alert", Alert, "raised_at",
           ("type", "severity", "status", "subject_key", "outcome", "note", "acknowledged_at",
            "resolved_at", "evidence", "article", "explanation", "escalated_at")),
    Source("zone_event", ZoneEvent, "at", ("zone_key", "event", "lat", "lon", "accuracy_m")),
    Source("points", PointEntry, "created_at", ("delta", "event", "event_ref", "reason", "officer_id")),
    Source("leave", LeaveRequest, "created_at",
           ("destination_name", "start_at", "end_at", "days", "status", "decided_by", "decided_at",
            "returned_at")),
)


def timeline(session, supervisee_id: int, query: PageQuery, *, since: datetime | None = None,
             until: datetime | None = None) -> dict:
    """Return one page of the supervisee's events, newest first."""
    events = sa.union_all(*(source.select(supervisee_id) for source in SOURCES)).subquery()
    stmt = sa.select(events.c.at, events.c.type, events.c.id)
    if since is not None:
        stmt = stmt.where(events.c.at >= sa.literal(since, TZDateTime()))
    if until is not None:
        stmt = stmt.where(events.c.at < sa.literal(until, TZDateTime()))
    if query.cursor:
        at, type_, id_ = _cursor(query.cursor)
        stmt = stmt.where(sa.tuple_(events.c.at, events.c.type, events.c.id)
                          < sa.tuple_(sa.literal(at, TZDateTime()), sa.literal(type_), sa.literal(id_)))
    rows = session.execute(stmt.order_by(events.c.at.desc(), events.c.type.desc(), events.c.id.desc())
                           .limit(query.limit + 1)).all()
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        next_cursor = encode_cursor([iso_z(last.at), last.type, last.id])
    by_type: dict[str, list[int]] = {}
    for row in rows:
        by_type.setdefault(row.type, []).append(row.id)
    loaded = {s.type: s.load(session, by_type[s.type]) for s in SOURCES if s.type in by_type}
    items = [{"at": row.at, "type": row.type, "id": row.id, "data": loaded[row.type][row.id]}
             for row in rows]
    return {"items": items, "next_cursor": next_cursor}


def _cursor(cursor: str) -> tuple[datetime, str, int]:
    values = decode_cursor(cursor)
    try:
        at, type_, id_ = values
        if not isinstance(type_, str):
            raise ValueError
        return cursor_instant(at), type_, cursor_id(id_)
    except ValueError:
        raise invalid_cursor() from None


def _plain(value: Any) -> Any:
    return iso_z(value) if isinstance(value, datetime) else value



