"""Shared scene and helpers for the location, zone, leave, ingest and track tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from correction.alerts.models import Alert
from correction.database import db
from correction.locations.models import LocationFix, ZoneEvent
from correction.people.models import Office
from correction.time import iso_z
from tests.factories import API

# A square of about 9.7 km x 11 km around Jinhua: the home permitted area.
SQUARE = {"type": "Polygon", "coordinates": [[[119.60, 29.00], [119.70, 29.00], [119.70, 29.10],
                                               [119.60, 29.10], [119.60, 29.00]]]}
M_PER_DEG_LON = 111_320 * 0.87419  # at 29.05°N (cos 29.05° ≈ 0.87419)
M_PER_DEG_LAT = 110_574
INSIDE = (29.05, 119.65)  # the centre, ~4.9 km from every edge
INSIDE_2 = (29.06, 119.66)
OUTSIDE = (29.05, 119.75)  # ~4.9 km east of the east edge


def east_of_edge(metres: float) -> tuple[float, float]:
    """A point ``metres`` east of the square's east edge (negative: inside)."""
    return (29.05, 119.70 + metres / M_PER_DEG_LON)


@dataclass
class Scene:
    person_id: int
    office: Office
    officer: dict
    phone: dict
    login: object
    officer_login: object


def make_scene(client, make, auth, *, zone: dict | None = SQUARE, level: str = "normal") -> Scene:
    """An office, its officer, a supervisee with a bound phone and (by default) a permitted area."""
    office = make.office()
    officer = make.officer(office)
    person = make.supervisee(office, officer.officer, level=level)
    officer_headers, phone = auth.officer(officer), auth.supervisee(person)
    if zone is not None:
        created = add_zone(client, officer_headers, person.supervisee.id, "permitted", "辖区", zone)
        assert created.status_code == 201, created.get_json()
    return Scene(person.supervisee.id, office, officer_headers, phone, person, officer)


def add_zone(client, headers, person_id, kind, name, geometry):
    return client.post(f"{API}/supervisees/{person_id}/zones", headers=headers,
                       json={"kind": kind, "name": name, "geometry": geometry})


def fix(at: datetime, point: tuple[float, float], accuracy: float = 10.0, **extra) -> dict:
    return {"recorded_at": iso_z(at), "lat": point[0], "lon": point[1], "accuracy_m": accuracy, **extra}


def walk(start: datetime, points, minutes: float = 1.0, accuracy: float = 10.0, **extra) -> list[dict]:
    """Fixes at ``points``, one every ``minutes`` from ``start``."""
    return [fix(start + timedelta(minutes=minutes * i), p, accuracy, **extra) for i, p in enumerate(points)]


def upload(client, phone, fixes):
    return client.post(f"{API}/me/locations", headers=phone, json={"fixes": fixes})


def stored_fixes(app, person_id=None) -> list[LocationFix]:
    with app.app_context():
        stmt = sa.select(LocationFix).order_by(LocationFix.recorded_at)
        if person_id is not None:
            stmt = stmt.where(LocationFix.supervisee_id == person_id)
        found = db.session.execute(stmt).scalars().all()
        db.session.expunge_all()
        return list(found)


def alerts(app, person_id=None, type=None) -> list[Alert]:
    with app.app_context():
        stmt = sa.select(Alert).order_by(Alert.id)
        if person_id is not None:
            stmt = stmt.where(Alert.supervisee_id == person_id)
        if type is not None:
            stmt = stmt.where(Alert.type == type)
        found = db.session.execute(stmt).scalars().all()
        db.session.expunge_all()
        return list(found)


def zone_events(app, person_id) -> list[ZoneEvent]:
    with app.app_context():
        found = db.session.execute(sa.select(ZoneEvent).where(ZoneEvent.supervisee_id == person_id)
                                   .order_by(ZoneEvent.at, ZoneEvent.id)).scalars().all()
        db.session.expunge_all()
        return list(found)
