"""Managing zones."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..people.access import Principal, get_in_scope
from ..errors import NotFound, ValidationFailed
from ..people.models import Supervisee
from .geometry import GeometryError, validate
from .models import Zone, ZoneEvent


def create_zone(session, principal: Principal, person: Supervisee, *, kind: str, name: str,
                geometry: dict, now: datetime, leave_request_id: int | None = None,
                applies_from: datetime | None = None, applies_until: datetime | None = None) -> Zone:
    """Add a zone; a new permitted area retires the previous one (leave destinations aside).

    A zone with a period (``applies_from``, ``applies_until``) counts only within it.
    """
    try:
        validate(geometry)
    except GeometryError as error:
        raise ValidationFailed(str(error), code="invalid_geometry",
                               details={"fields": [{"path": "geometry", "code": "invalid_geometry",
                                                    "message": str(error)}]}) from None
    if kind == "permitted" and leave_request_id is None:
        session.execute(sa.update(Zone).where(Zone.supervisee_id == person.id, Zone.kind == "permitted",
                                              Zone.leave_request_id.is_(None), Zone.active)
                        .values(active=False))
    zone = Zone(supervisee_id=person.id, office_id=person.office_id, kind=kind, name=name,
                geometry=geometry, active=True, leave_request_id=leave_request_id,
                applies_from=applies_from, applies_until=applies_until, created_by=principal.id if principal.is_officer else None, created_at=now)
    session.add(zone)
    session.flush()
    return zone


def active_for(session, person_id: int) -> list[Zone]:
    return list(session.execute(sa.select(Zone).where(Zone.supervisee_id == person_id, Zone.active)
                                .order_by(Zone.id)).scalars())


def retire_zone(session, principal: Principal, zone_id: int) -> Zone:
    """Stop an active zone in the caller's scope from counting; the zone."""
    zone = get_in_scope(session, principal, Zone, zone_id, where=[Zone.active],
                        not_found=NotFound("No such zone.", code="zone_not_found"))
    zone.active = False
    return zone


def events_between(session, person_id: int, start: datetime, end: datetime) -> list[ZoneEvent]:
    """The person's confirmed zone transitions in [start, end), in time order."""
    return list(session.execute(sa.select(ZoneEvent).where(ZoneEvent.supervisee_id == person_id,
                                                           ZoneEvent.at >= start, ZoneEvent.at < end)
                                .order_by(ZoneEvent.at, ZoneEvent.id)).scalars())


def names_of(session, person_id: int, zone_ids) -> dict[int, str]:
    """The names of the person's zones ``zone_ids``, retired ones included (a past event names them)."""
    ids = set(zone_ids)
    if not ids:
        return {}
    return dict(session.execute(sa.select(Zone.id, Zone.name).where(Zone.supervisee_id == person_id,
                                                                    Zone.id.in_(ids))).all())


def end_leave_zones(session, leave_request_ids: list[int], at: datetime) -> None:
    """Stop the zones of these leave requests applying after ``at`` (the return, 销假)."""
    if leave_request_ids:
        session.execute(sa.update(Zone).where(Zone.leave_request_id.in_(leave_request_ids)).values(applies_until=at))
