"""Doubts about an accepted station check-in: a forwarded code, or a phone that was elsewhere.

A station's code rotates every QR_STEP_SECONDS, but a picture of it sent to another phone within
that time still verifies, and a faked position puts that phone at the station. Two things betray
it, and each is flagged for an officer (a ``doubtful_checkin`` alert), never refused: an honest
person at the station must not be turned away by a GPS error.

- **One code, two places.** Everyone who reads one screen in one time step stands in front of it.
  Two phones that used the same code from points farther apart than their accuracies and
  QR_SHARED_SCREEN_SLACK_M allow cannot both have been there: both are flagged.
- **Elsewhere just before or after.** The phone's own location fixes (Traccar Client, the app)
  within PRESENCE_LOOKBACK_MINUTES of the check-in put it farther from the station, beyond their
  accuracy and the station's radius, than PRESENCE_MAX_SPEED_KMH could cover in the time between.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ..locations.geometry import distance_m
from ..locations.models import LocationFix
from ..people.models import Station
from ..time import iso_z
from .models import Checkin


@dataclass(frozen=True)
class Doubt:
    """A reason to doubt a check-in: whom it concerns, its alert subject and what an officer sees."""

    supervisee_id: int
    office_id: int
    subject_key: str
    evidence: dict[str, Any]


def station_checkin_doubts(session, settings, checkin: Checkin, station: Station) -> list[Doubt]:
    """Return what speaks against ``checkin`` (accepted, at ``station``) having been made there."""
    return [*_shared_code(session, settings, checkin, station), *_elsewhere(session, settings, checkin, station)]


def _shared_code(session, settings, checkin: Checkin, station: Station) -> list[Doubt]:
    # Phones within my accuracy plus the slack of me cannot be flagged, whatever their own accuracy:
    # the database leaves out those in the square inside that circle (everyone in front of the
    # screen, usually), so a crowd at one station in one step costs nothing here.
    near_m = (checkin.accuracy_m + settings.QR_SHARED_SCREEN_SLACK_M) / math.sqrt(2)
    near_lat = near_m / _MAX_M_PER_DEGREE
    near_lon = near_m / (_MAX_M_PER_DEGREE * max(math.cos(math.radians(checkin.lat)), 1e-6))
    others = session.execute(_SAME_CODE, {
        "station_id": station.id, "qr_step": checkin.qr_step, "supervisee_id": checkin.supervisee_id,
        "lat_low": checkin.lat - near_lat, "lat_high": checkin.lat + near_lat,
        "lon_low": checkin.lon - near_lon, "lon_high": checkin.lon + near_lon}).all()
    subject = f"shared_code:{station.id}:{checkin.qr_step}"
    doubts = []
    for other in others:
        apart = distance_m(checkin.lat, checkin.lon, other.lat, other.lon)
        if apart <= checkin.accuracy_m + other.accuracy_m + settings.QR_SHARED_SCREEN_SLACK_M:
            continue
        for mine, theirs in ((checkin, other), (other, checkin)):
            doubts.append(Doubt(mine.supervisee_id, mine.office_id, subject, {
                "reason": "shared_code", "station_id": station.id, "checkin_id": mine.id,
                "other_checkin_id": theirs.id, "other_supervisee_id": theirs.supervisee_id,
                "metres_apart": round(apart), "accuracy_m": [mine.accuracy_m, theirs.accuracy_m]}))
    return doubts


def _elsewhere(session, settings, checkin: Checkin, station: Station) -> list[Doubt]:
    lookback = timedelta(minutes=settings.PRESENCE_LOOKBACK_MINUTES)
    fixes = session.execute(_FIXES_AROUND, {"supervisee_id": checkin.supervisee_id,
                                            "since": checkin.recorded_at - lookback,
                                            "until": checkin.recorded_at + lookback}).all()
    speed_mps = settings.PRESENCE_MAX_SPEED_KMH / 3.6
    worst, worst_excess = None, 0.0
    for fix in fixes:
        seconds = abs((checkin.recorded_at - fix.recorded_at).total_seconds())
        away = distance_m(fix.lat, fix.lon, station.lat, station.lon) - fix.accuracy_m - station.radius_m
        excess = away - seconds * speed_mps
        if excess > worst_excess:
            worst, worst_excess = (fix, away, seconds), excess
    if worst is None:
        return []
    fix, away, seconds = worst
    return [Doubt(checkin.supervisee_id, checkin.office_id, f"presence:{checkin.id}", {
        "reason": "elsewhere", "station_id": station.id, "checkin_id": checkin.id,
        "fix_recorded_at": iso_z(fix.recorded_at), "metres_from_station": round(away),
        "minutes_apart": round(seconds / 60, 1), "fix_source": fix.source})]


_MAX_M_PER_DEGREE = 111_700.0  # a degree of latitude is at most this long: a span in degrees errs short
_SAME_CODE = sa.select(Checkin.id, Checkin.supervisee_id, Checkin.office_id, Checkin.lat, Checkin.lon,
                       Checkin.accuracy_m).where(
    Checkin.station_id == sa.bindparam("station_id"), Checkin.qr_step == sa.bindparam("qr_step"),
    Checkin.outcome == "accepted", Checkin.supervisee_id != sa.bindparam("supervisee_id"),
    ~sa.and_(Checkin.lat.between(sa.bindparam("lat_low"), sa.bindparam("lat_high")),
             Checkin.lon.between(sa.bindparam("lon_low"), sa.bindparam("lon_high"))))
_FIXES_AROUND = sa.select(LocationFix.recorded_at, LocationFix.lat, LocationFix.lon, LocationFix.accuracy_m,
                          LocationFix.source).where(
    LocationFix.supervisee_id == sa.bindparam("supervisee_id"), LocationFix.is_mock.is_(False),
    LocationFix.recorded_at.between(sa.bindparam("since"), sa.bindparam("until")))
