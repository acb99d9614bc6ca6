"""Managing zones and the ingest keys of real location apps."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..people.access import Principal, get_in_scope
from ..errors import NotFound, ValidationFailed
from ..people.models import Device, Supervisee
from ..security import hash_token, new_token
from .geometry import GeometryError, validate
from .models import Zone


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


def retire_zone(session, principal: Principal, zone_id: int) -> None:
    zone = get_in_scope(session, principal, Zone, zone_id, where=[Zone.active],
                        not_found=NotFound("No such zone.", code="zone_not_found"))
    zone.active = False


def end_leave_zones(session, leave_request_ids: list[int], at: datetime) -> None:
    """Stop the zones of these leave requests applying after ``at`` (the return, 销假)."""
    if leave_request_ids:
        session.execute(sa.update(Zone).where(Zone.leave_request_id.in_(leave_request_ids)).values(applies_until=at))


def issue_ingest_key(session, principal: Principal) -> str:
    """Give the bound phone a new ingest key (the old one stops working); return it once."""
    # the login's phone is the bound one: unbinding a phone revokes its logins (Principal.device_id)
    device = session.get(Device, principal.device_id) if principal.device_id is not None else None
    if device is None or not device.active:
        raise NotFound("No bound phone for this login.", code="device_not_bound")
    key, key_hash = new_token()
    device.ingest_key_hash = key_hash
    return key


def person_for_ingest_key(session, key: str) -> Supervisee | None:
    """Return the active supervisee whose bound phone holds ``key``."""
    if not key or len(key) > 200:
        return None
    return session.execute(
        sa.select(Supervisee).join(Device, Device.supervisee_id == Supervisee.id)
        .where(Device.ingest_key_hash == hash_token(key), Device.active, Supervisee.status == "active")
    ).scalar_one_or_none()
