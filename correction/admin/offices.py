"""Offices of the admin's bureau: create, rename, close, list."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..errors import Conflict, NotFound, ValidationFailed
from ..people.access import Principal
from ..people.models import Office, Station, Supervisee
from .changes import Change, difference, snapshot

FIELDS = ("code", "name", "closed_at")


def search_offices(principal: Principal, closed: bool | None) -> sa.Select:
    """Return the query of the bureau's offices, closed ones included unless ``closed`` says."""
    stmt = sa.select(Office).where(Office.bureau_id == principal.bureau_id)
    if closed is not None:
        stmt = stmt.where(Office.closed_at.is_not(None) if closed else Office.closed_at.is_(None))
    return stmt


def get_office(session, principal: Principal, office_id: int, *, for_update: bool = False) -> Office:
    """Return an office of the caller's bureau; 404 otherwise, as for a missing one."""
    stmt = sa.select(Office).where(Office.id == office_id, Office.bureau_id == principal.bureau_id)
    office = session.execute(stmt.with_for_update() if for_update else stmt).scalar_one_or_none()
    if office is None:
        raise NotFound("No such office.", code="office_not_found")
    return office


def open_office_for(session, principal: Principal, office_id: int, field: str = "office_id") -> Office:
    """Return the named office of the bureau to put something in: 422 if unknown, 409 if closed.

    The row is share-locked, so an office being closed meanwhile is seen closed, or waits.
    """
    office = session.execute(sa.select(Office).where(Office.id == office_id, Office.bureau_id == principal.bureau_id)
                             .with_for_update(read=True)).scalar_one_or_none()
    if office is None:
        message = "No such office in your bureau."
        raise ValidationFailed(message, details={"fields": [{"path": field, "code": "unknown", "message": message}]})
    if office.closed:
        raise Conflict(f"The office {office.name} is closed.", code="office_closed", details={"office_id": office.id})
    return office


def create_office(session, principal: Principal, *, code: str, name: str) -> Change:
    """Create an office in the caller's bureau; office codes are unique across bureaus."""
    if session.execute(sa.select(Office.id).where(Office.code == code)).first():
        raise Conflict("An office with this code already exists.", code="office_code_taken")
    office = Office(bureau_id=principal.bureau_id, code=code, name=name)
    session.add(office)
    session.flush()
    return Change(office, difference({}, snapshot(office, FIELDS)))


def rename_office(session, principal: Principal, office_id: int, name: str) -> Change:
    office = get_office(session, principal, office_id)
    before = snapshot(office, FIELDS)
    office.name = name
    session.flush()
    return Change(office, difference(before, snapshot(office, FIELDS)))


def close_office(session, principal: Principal, office_id: int, now: datetime) -> Change:
    """Close an office with no active supervisees and retire its stations; closing again changes nothing.

    The office row is locked first, so an enrolment into it either finished before (and is
    counted) or waits and then finds the office closed.
    """
    office = get_office(session, principal, office_id, for_update=True)
    before = snapshot(office, FIELDS)
    if office.closed:
        return Change(office, difference(before, before))
    active = session.execute(sa.select(sa.func.count()).select_from(Supervisee).where(
        Supervisee.office_id == office.id, Supervisee.status == "active")).scalar_one()
    if active:
        raise Conflict(f"The office still supervises {active} active supervisee(s); transfer or end them first.",
                       code="office_has_supervisees", details={"active_supervisees": active})
    retired = session.execute(sa.update(Station).where(Station.office_id == office.id, Station.active)
                              .values(active=False)).rowcount
    office.closed_at = now
    session.flush()
    return Change(office, difference(before, snapshot(office, FIELDS), stations_retired=retired))
