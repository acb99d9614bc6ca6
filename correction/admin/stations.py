"""Check-in stations of the bureau's offices: create, move, rotate the secret, retire, list."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..errors import Conflict, NotFound
from ..people.access import Principal, get_in_scope, office_scope
from ..people.models import Station
from .changes import Change, difference, snapshot
from .offices import open_office_for

FIELDS = ("office_id", "name", "lat", "lon", "radius_m", "active", "secret_rotated_at")


def new_station_secret() -> str:
    """Return a fresh signing secret for a station's codes (256 bits, hex)."""
    return secrets.token_hex(32)


def search_stations(principal: Principal, filters: dict[str, Any]) -> sa.Select:
    """Return the query of the bureau's stations matching ``filters`` (office, active)."""
    stmt = sa.select(Station).where(office_scope(principal, Station.office_id))
    for name in ("office_id", "active"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Station, name) == filters[name])
    return stmt


def get_station(session, principal: Principal, station_id: int) -> Station:
    """Return a station of the caller's bureau; 404 otherwise."""
    return get_in_scope(session, principal, Station, station_id,
                        not_found=NotFound("No such station.", code="station_not_found"))


def create_station(session, principal: Principal, data: dict[str, Any]) -> Change:
    """Create a station of an open office of the bureau, with its own signing secret."""
    office = open_office_for(session, principal, data["office_id"])
    station = Station(office_id=office.id, name=data["name"], lat=data["lat"], lon=data["lon"],
                      radius_m=data["radius_m"], qr_secret=new_station_secret(), active=True)
    session.add(station)
    session.flush()
    return Change(station, difference({}, snapshot(station, FIELDS)))


def update_station(session, principal: Principal, station_id: int, changes: dict[str, Any]) -> Change:
    """Move, rename or resize a station; check-ins are judged against the new place at once."""
    station = get_station(session, principal, station_id)
    before = snapshot(station, FIELDS)
    for name, value in changes.items():
        setattr(station, name, value)
    session.flush()
    return Change(station, difference(before, snapshot(station, FIELDS)))


def rotate_secret(session, principal: Principal, station_id: int, now: datetime) -> Change:
    """Give a station a new signing secret: codes signed with the old one are refused from now on.

    The screen shows a code of the new secret at its next refresh (within one step); a phone
    that read the old code in the same step must scan again.
    """
    station = get_station(session, principal, station_id)
    if not station.active:
        raise Conflict("The station is retired.", code="station_retired")
    before = snapshot(station, FIELDS)
    station.qr_secret = new_station_secret()
    station.secret_rotated_at = now
    session.flush()
    return Change(station, difference(before, snapshot(station, FIELDS), secret_rotated=True))


def retire_station(session, principal: Principal, station_id: int) -> Change:
    """Retire a station: its codes are refused and it is not shown for check-in. Retiring again changes nothing."""
    station = get_station(session, principal, station_id)
    before = snapshot(station, FIELDS)
    station.active = False
    session.flush()
    return Change(station, difference(before, snapshot(station, FIELDS)))
