"""Judging fixes against zones and against each other: pure functions, no database.

Every path that evaluates fixes asks the same questions of them: on which side of a zone's edge
was each fix seen (``observations``, and ``sides_seen`` when only the sides matter), which zone
states watch a set of zones (``zone_keys``), and was a step between two real fixes impossibly
fast (``impossible_moves``, ``impossible_move`` for one step). Each has an array form for batches
and a plain-float form for one fix (a real client's), held to the same answers by property tests.
``service.evaluate`` and ``settle`` (the one-statement ingests' usual case) both ask them here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from .geometry import great_circle_m, haversine_m

PERMITTED = "permitted"


def impossible_moves(settings, chain) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each step of a chain of real fixes in time order: too fast?, metres, seconds.

    Too fast is faster than IMPOSSIBLE_SPEED_KMH even granting both fixes' accuracy.
    """
    lats, lons = np.array([f.lat for f in chain]), np.array([f.lon for f in chain])
    accuracy = np.array([f.accuracy_m for f in chain])
    seconds = np.array([(b.recorded_at - a.recorded_at).total_seconds() for a, b in zip(chain, chain[1:])])
    metres = haversine_m(lats[:-1], lons[:-1], lats[1:], lons[1:])
    certain = metres - accuracy[:-1] - accuracy[1:]
    limit_mps = settings.IMPOSSIBLE_SPEED_KMH / 3.6
    with np.errstate(divide="ignore", invalid="ignore"):
        too_fast = (seconds > 0) & (certain > 0) & (certain / np.where(seconds > 0, seconds, 1) > limit_mps)
    return too_fast, metres, seconds


def impossible_move(settings, before, after) -> bool:
    """``impossible_moves`` for one step, in plain floats (a real client's single fix)."""
    seconds = (after.recorded_at - before.recorded_at).total_seconds()
    certain = great_circle_m(before.lat, before.lon, after.lat, after.lon) - before.accuracy_m - after.accuracy_m
    return seconds > 0 and certain > 0 and certain / seconds > settings.IMPOSSIBLE_SPEED_KMH / 3.6


@dataclass
class ActiveZone:
    id: int
    kind: str
    name: str
    shape: Any
    starts: datetime | None
    ends: datetime | None

    def applies(self, at: datetime) -> bool:
        return (self.starts is None or self.starts <= at) and (self.ends is None or at <= self.ends)


def observations(zones: list[ActiveZone], zone_key: str, fixes) -> list[tuple[str | None, float | None]]:
    """For each fix: inside/outside (None when its accuracy leaves it open) and the signed distance."""
    if len(fixes) == 1:
        return [_observation(zones, zone_key, fixes[0])]
    nearest, accuracy = _nearest(zones, zone_key, fixes)
    if nearest is None:
        return [(None, None)] * len(fixes)
    seen = np.where(nearest > accuracy, "outside", np.where(nearest < -accuracy, "inside", ""))
    return [(s or None, d if math.isfinite(d) else None) for s, d in zip(seen.tolist(), nearest.tolist())]


def sides_seen(zones: list[ActiveZone], zone_key: str, fixes) -> set[str]:
    """The sides of a zone state's edge ("inside", "outside") that any of ``fixes`` was seen on.

    What ``observations`` says, without a tuple per fix: whether anything but the confirmed side was
    seen is the question of every upload, and the answer is nearly always no.
    """
    if len(fixes) == 1:
        seen, _ = _observation(zones, zone_key, fixes[0], sides_only=True)
        return set() if seen is None else {seen}
    nearest, accuracy = _nearest(zones, zone_key, fixes, sides_only=True)
    if nearest is None:
        return set()
    return ({"outside"} if (nearest > accuracy).any() else set()) | ({"inside"} if (nearest < -accuracy).any() else set())


def _nearest(zones: list[ActiveZone], zone_key: str, fixes,
             sides_only: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
    """Each fix's signed distance to what the zone state watches (None: no permitted zone), and its accuracy.

    ``sides_only``: a fix clear of an edge by more than its accuracy may get -inf or +inf for that zone
    (``ZoneShape.signed_distances``), which says the same side as its distance, also as the nearest of several.
    """
    accuracy = np.array([f.accuracy_m for f in fixes])
    lats, lons = np.array([f.lat for f in fixes]), np.array([f.lon for f in fixes])
    clear_of = accuracy if sides_only else None
    if zone_key != PERMITTED:
        zone_id = int(zone_key.split(":")[1])
        return next(z.shape.signed_distances(lats, lons, clear_of) for z in zones if z.id == zone_id), accuracy
    permitted = [z for z in zones if z.kind == "permitted"]
    if not permitted:
        return None, accuracy
    # A zone that does not apply at a fix's time (a leave destination) counts as infinitely far.
    return np.min([z.shape.signed_distances(lats, lons, clear_of) if z.starts is None and z.ends is None else
                   np.where([z.applies(f.recorded_at) for f in fixes], z.shape.signed_distances(lats, lons, clear_of),
                            np.inf)
                   for z in permitted], axis=0), accuracy


def _observation(zones: list[ActiveZone], zone_key: str, fix,
                 sides_only: bool = False) -> tuple[str | None, float | None]:
    """``observations`` for one fix, without arrays: a real client's single fix is the usual upload.

    ``sides_only``: as for ``_nearest``; the distance given is then not the fix's own.
    """
    clear_of = fix.accuracy_m if sides_only else None
    if zone_key == PERMITTED:
        permitted = [z for z in zones if z.kind == "permitted"]
        if not permitted:
            return None, None
        nearest = min((z.shape.signed_distance(fix.lat, fix.lon, clear_of) for z in permitted
                       if z.applies(fix.recorded_at)), default=math.inf)
    else:
        zone_id = int(zone_key.split(":")[1])
        nearest = next(z.shape.signed_distance(fix.lat, fix.lon, clear_of) for z in zones if z.id == zone_id)
    seen = "outside" if nearest > fix.accuracy_m else "inside" if nearest < -fix.accuracy_m else None
    return seen, (float(nearest) if math.isfinite(nearest) else None)


def zone_keys(zones: list[ActiveZone]) -> list[str]:
    """The zone states these zones are watched by: the permitted area (their union), each exclusion."""
    return ([PERMITTED] if any(z.kind == "permitted" for z in zones) else []) + \
        [f"exclusion:{z.id}" for z in zones if z.kind == "exclusion"]
