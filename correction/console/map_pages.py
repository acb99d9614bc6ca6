"""The maps of one supervisee: a day's track and the zones, drawn and set on the map.

The same services, scope and audit actions as the API: the track is read through
``locations.track.fixes_between`` (``track.read``, like ``GET /supervisees/<id>/track``), zones are
listed, created and retired through ``locations.zones`` (``zone.list``, ``zone.create``,
``zone.retire``) with the API's own input schema (``ZoneIn``). What the map draws travels as JSON in
one ``data-map`` attribute, read by ``static/console/map.js``.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from flask import current_app, g, render_template, request, url_for
from pydantic import BaseModel, ConfigDict, Field

from ..database import db
from ..errors import ValidationFailed
from ..locations import track, zones
from ..locations.api import TRACK_LIMIT
from ..locations.schemas import ZoneIn
from ..people.access import current_principal
from ..people.service import get_supervisee
from ..time import UTC, local_zone, now
from . import queries
from .blueprint import bp
from .forms import form_of, query_of
from .labels import label
from .web import see_other


class DayQuery(BaseModel):
    """Which local day of the track to show; today when not given."""

    model_config = ConfigDict(extra="ignore")

    day: Annotated[date, Field(ge=date(1900, 1, 2), le=date(8999, 12, 31))] | None = None


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in the office's time zone, as aware UTC."""
    zone = local_zone()
    return tuple(datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC) for d in (day, day + timedelta(days=1)))


def _when(value: datetime, fmt: str = "%H:%M:%S") -> str:
    return value.astimezone(local_zone()).strftime(fmt)


def map_data(*, tile_url: str, fixes=(), zone_rows=(), stations=(), events=()) -> dict[str, Any]:
    """Everything a map draws, as plain JSON: fixes, zones, stations and zone events."""
    return {
        "tiles": tile_url,
        "fixes": [{"lat": f.lat, "lon": f.lon, "accuracy_m": f.accuracy_m, "time": _when(f.recorded_at),
                   "mock": f.is_mock} for f in fixes],
        "zones": [{"id": z.id, "name": z.name, "kind": z.kind, "geometry": z.geometry} for z in zone_rows],
        "stations": [{"name": s.name, "lat": s.lat, "lon": s.lon, "radius_m": s.radius_m} for s in stations],
        "events": [{"lat": e["lat"], "lon": e["lon"], "time": e["time"], "label": e["label"]} for e in events],
    }


def _exclusion_id(zone_key: str) -> int | None:
    """The zone an exclusion event is about (its key is ``exclusion:<id>``); None for the permitted area."""
    return int(zone_key.split(":")[1]) if zone_key.startswith("exclusion:") else None


def _events(person_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The day's zone events, each with its local time and what it was, naming its zone."""
    rows = zones.events_between(db.session, person_id, start, end)
    names = zones.names_of(db.session, person_id, {_exclusion_id(e.zone_key) for e in rows} - {None})
    out = []
    for e in rows:
        zone_name = names.get(_exclusion_id(e.zone_key), "")  # the permitted area is one, unnamed
        what = label(f"zone_{e.event}") + (f" · {zone_name}" if zone_name else "")
        out.append({"at": e.at, "time": _when(e.at), "event": e.event, "what": what,
                    "label": f"{_when(e.at, '%H:%M')} {what}", "lat": e.lat, "lon": e.lon})
    return out


@bp.page("GET", "/supervisees/<id:supervisee_id>/track", audit="track.read",
         audit_target=("supervisee", "supervisee_id"), rate_limit=TRACK_LIMIT)
def supervisee_track(supervisee_id: int):
    """One local day of a supervisee's track: fixes with their accuracy, zones, stations and zone events."""
    settings = current_app.config["SETTINGS"]
    query = query_of(DayQuery)
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    today = now().astimezone(local_zone()).date()
    day = query.day or today
    start, end = local_day_bounds(day)
    g.audit.details = {"from": start.isoformat(), "to": end.isoformat(), "format": "console"}
    fixes, truncated = track.fixes_between(db.session, settings, person, start, end)
    zone_rows = zones.active_for(db.session, person.id)
    stations = queries.office_stations(db.session, person.office_id)
    events = _events(person.id, start, end)
    return render_template(
        "track.html", supervisee=person, day=day, fixes=fixes, truncated=truncated, events=events,
        mock_count=sum(1 for f in fixes if f.is_mock), zones=zone_rows, stations=stations,
        previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1) if day < today else None,
        map_data=map_data(tile_url=settings.MAP_TILE_URL, fixes=fixes, zone_rows=zone_rows, stations=stations,
                           events=events))


@bp.page("GET", "/supervisees/<id:supervisee_id>/zones", audit="zone.list",
         audit_target=("supervisee", "supervisee_id"))
def supervisee_zones(supervisee_id: int):
    """A supervisee's active zones, listed and drawn, with the form that draws a new one."""
    settings = current_app.config["SETTINGS"]
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    zone_rows = zones.active_for(db.session, person.id)
    stations = queries.office_stations(db.session, person.office_id)
    return render_template("zones.html", supervisee=person, zones=zone_rows, stations=stations,
                           map_data=map_data(tile_url=settings.MAP_TILE_URL, zone_rows=zone_rows,
                                              stations=stations))


@bp.page("POST", "/supervisees/<id:supervisee_id>/zones", audit="zone.create",
         audit_target=("supervisee", "supervisee_id"), error_page="zone_refused.html")
def create_zone(supervisee_id: int):
    """Save the zone drawn on the map: the API's body, its validation and its service."""
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    body = form_of(ZoneIn, {"kind": request.form.get("kind", ""), "name": request.form.get("name", ""),
                            "geometry": geometry_field(request.form.get("geometry", ""))})
    zones.create_zone(db.session, current_principal(), person, kind=body.kind, name=body.name,
                      geometry=body.geometry, now=now())
    return see_other(url_for("console.supervisee_zones", supervisee_id=supervisee_id))


@bp.page("POST", "/zones/<id:zone_id>/retire", audit="zone.retire", audit_target=("zone", "zone_id"))
def retire_zone(zone_id: int):
    """Retire a zone (it stops counting at once); back to the person's zones."""
    zone = zones.retire_zone(db.session, current_principal(), zone_id)
    return see_other(url_for("console.supervisee_zones", supervisee_id=zone.supervisee_id))


def geometry_field(text: str) -> dict:
    """The drawn shape, which the page's script writes into the form as GeoJSON text."""
    try:
        value = json.loads(text) if len(text) <= 200_000 else None
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        value = None
    if not isinstance(value, dict):
        raise ValidationFailed(details={"fields": [{"path": "geometry", "code": "missing",
                                                    "message": "draw the zone on the map"}]})
    return value
