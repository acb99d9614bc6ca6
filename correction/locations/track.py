"""Track export for officers: GeoJSON or GPX, bounded in time range and size."""
from __future__ import annotations

from datetime import datetime, timedelta

import gpxpy.gpx
import sqlalchemy as sa
from flask import current_app

from ..errors import ValidationFailed
from ..time import iso_z
from .models import LocationFix


def fixes_between(session, settings, person, start: datetime, end: datetime) -> tuple[list[LocationFix], bool]:
    """The person's fixes in [start, end) in time order, at most TRACK_MAX_POINTS; and whether more were left out."""
    if end <= start:
        raise _range_error("to must be after from")
    if end - start > timedelta(days=settings.TRACK_MAX_DAYS):
        raise _range_error(f"at most {settings.TRACK_MAX_DAYS} days at a time")
    fixes = list(session.execute(
        sa.select(LocationFix).where(LocationFix.supervisee_id == person.id,
                                     LocationFix.recorded_at >= start, LocationFix.recorded_at < end)
        .order_by(LocationFix.recorded_at).limit(settings.TRACK_MAX_POINTS + 1)).scalars())
    return fixes[: settings.TRACK_MAX_POINTS], len(fixes) > settings.TRACK_MAX_POINTS


def export(session, settings, person, start: datetime, end: datetime, fmt: str):
    """Return a response with the person's fixes in [start, end), at most TRACK_MAX_POINTS."""
    fixes, truncated = fixes_between(session, settings, person, start, end)
    if fmt == "gpx":
        body, mimetype = _gpx(person, fixes), "application/gpx+xml"
    else:
        body, mimetype = current_app.json.dumps(_geojson(person, start, end, fixes, truncated)), "application/geo+json"
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["X-Track-Points"] = str(len(fixes))
    response.headers["X-Track-Truncated"] = "true" if truncated else "false"
    return response


def _geojson(person, start, end, fixes, truncated: bool) -> dict:
    return {
        "type": "FeatureCollection",
        "properties": {"supervisee_id": person.id, "from": iso_z(start), "to": iso_z(end),
                       "points": len(fixes), "truncated": truncated},
        "features": [{
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
            "properties": {"recorded_at": iso_z(f.recorded_at), "accuracy_m": f.accuracy_m,
                           "speed_mps": f.speed_mps, "is_mock": f.is_mock, "source": f.source},
        } for f in fixes],
    }


def _gpx(person, fixes) -> str:
    document = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name=f"supervisee {person.id}")
    segment = gpxpy.gpx.GPXTrackSegment()
    for f in fixes:
        segment.points.append(gpxpy.gpx.GPXTrackPoint(f.lat, f.lon, elevation=f.altitude_m, time=f.recorded_at))
    track.segments.append(segment)
    document.tracks.append(track)
    return document.to_xml()


def _range_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_range",
                            details={"fields": [{"path": "query.to", "code": "invalid_range", "message": message}]})
