"""Distances on the earth and zone geometry: the one place positions are measured.

``distance_m`` is the geodesic (geopy, WGS-84) between two points: exact, for one pair at a
time (a check-in against its station). ``haversine_m`` is its fast path for arrays: the
great-circle distance, within 0.5% of the geodesic, for a batch of fixes in one vectorised call;
``great_circle_m`` is the same for one pair in plain floats (a real client's single fix, where
building arrays would cost more than the sums).
Polygon distances are computed in a local planar projection (equirectangular around the
zone), which errs by well under 0.1% across a district; circles use ``haversine_m`` to the centre.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from geopy.distance import geodesic
from shapely.geometry import shape
from shapely.validation import explain_validity

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0
MAX_CIRCLE_RADIUS_M = 200_000.0
MAX_VERTICES = 5_000
CLEAR_M = 200.0  # a fix at most this vague and this far inside a polygon is inside without measuring


class GeometryError(ValueError):
    """The zone is not a geometry we can use; the message says why."""


@dataclass(frozen=True)
class ZoneShape:
    """A zone ready for distance questions.

    Where only the side of the edge matters (``clear_of``: each point's accuracy), a polygon answers a
    point well clear of its edge without measuring: -inf inside its ``core`` (the polygon shrunk by a
    little more than CLEAR_M, for accuracies up to CLEAR_M), +inf outside its bounding box widened by
    the accuracy. Measuring a point against a county's 4,000-vertex boundary is what that saves.
    """

    kind: str  # "polygon" or "circle"
    lat0: float
    lon0: float
    polygon: Any = None  # shapely geometry in local metres
    boundary: Any = None  # its boundary, prepared
    radius_m: float = 0.0
    core: Any = None  # the polygon shrunk by more than CLEAR_M, prepared; None when nothing is left
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # the polygon's box in local metres

    def signed_distance(self, lat: float, lon: float, clear_of: float | None = None) -> float:
        """Metres from the zone's edge for one point: negative inside, positive outside (no arrays).

        With ``clear_of`` the point may be answered -inf or +inf when it is further inside or outside
        than that: its side, not its distance.
        """
        if self.kind == "circle":
            return great_circle_m(lat, lon, self.lat0, self.lon0) - self.radius_m
        x, y = _project(lat, lon, self.lat0, self.lon0)
        if clear_of is not None:
            if clear_of <= CLEAR_M and self.core is not None and shapely.contains_xy(self.core, x, y):
                return -math.inf
            minx, miny, maxx, maxy = self.bounds
            if x < minx - clear_of or x > maxx + clear_of or y < miny - clear_of or y > maxy + clear_of:
                return math.inf
        distance = self.boundary.distance(shapely.Point(x, y))
        return -distance if shapely.contains_xy(self.polygon, x, y) else distance

    def signed_distances(self, lats: np.ndarray, lons: np.ndarray, clear_of: np.ndarray | None = None) -> np.ndarray:
        """The signed distance of each (lat, lon) pair, in metres (``clear_of``: as ``signed_distance``)."""
        if self.kind == "circle":
            return haversine_m(lats, lons, self.lat0, self.lon0) - self.radius_m
        x, y = _project(lats, lons, self.lat0, self.lon0)
        result = np.full(len(x), np.nan)
        if clear_of is not None:
            if self.core is not None:
                result[(clear_of <= CLEAR_M) & shapely.contains_xy(self.core, x, y)] = -np.inf
            minx, miny, maxx, maxy = self.bounds
            result[(x < minx - clear_of) | (x > maxx + clear_of) | (y < miny - clear_of) | (y > maxy + clear_of)] = np.inf
        rest = np.isnan(result)
        if rest.any():
            xs, ys = x[rest], y[rest]
            distance = shapely.distance(self.boundary, shapely.points(xs, ys))
            result[rest] = np.where(shapely.contains_xy(self.polygon, xs, ys), -distance, distance)
        return result


EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The geodesic distance between two points, in metres."""
    return geodesic((lat1, lon1), (lat2, lon2)).meters


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres, for arrays (numpy arrays or scalars); see ``distance_m``."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """``haversine_m`` for one pair of points, in plain floats."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


def great_circle_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """``great_circle_m`` as a SQL expression of four SQL expressions in degrees (float8), for a statement that
    must measure a step itself; ``tests/locations/test_geometry_distance.py`` holds the two to one answer."""
    return (f"(2 * {EARTH_RADIUS_M!r} * asin(sqrt(least(1.0, sin(radians({lat2} - {lat1}) / 2) ^ 2 "
            f"+ cos(radians({lat1})) * cos(radians({lat2})) * sin(radians({lon2} - {lon1}) / 2) ^ 2))))")


def validate(geometry: Any) -> dict:
    """Return ``geometry`` if it is a usable zone; raise GeometryError otherwise."""
    if not isinstance(geometry, dict):
        raise GeometryError("geometry must be a GeoJSON object")
    kind = geometry.get("type")
    if kind == "Circle":
        center, radius = geometry.get("center"), geometry.get("radius_m")
        _check_position(center)
        if not isinstance(radius, (int, float)) or isinstance(radius, bool) or not math.isfinite(radius) \
                or not 0 < radius <= MAX_CIRCLE_RADIUS_M:
            raise GeometryError(f"radius_m must be a number between 0 and {MAX_CIRCLE_RADIUS_M:.0f}")
        if set(geometry) - {"type", "center", "radius_m"}:
            raise GeometryError("a Circle has only type, center and radius_m")
        return geometry
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError("type must be Polygon, MultiPolygon or Circle")
    polygons = [geometry.get("coordinates")] if kind == "Polygon" else geometry.get("coordinates")
    if not isinstance(polygons, list) or not polygons:
        raise GeometryError("coordinates must be a non-empty list")
    vertices = 0
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise GeometryError("each polygon needs at least one ring")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise GeometryError("each ring needs at least 4 positions")
            for position in ring:
                _check_position(position)
            if ring[0] != ring[-1]:
                raise GeometryError("each ring must end where it starts")
            vertices += len(ring)
    if vertices > MAX_VERTICES:
        raise GeometryError(f"at most {MAX_VERTICES} positions")
    parsed = shape(geometry)
    if not parsed.is_valid:
        raise GeometryError(f"invalid polygon: {explain_validity(parsed)}")
    if parsed.area <= 0:
        raise GeometryError("the polygon has no area")
    return geometry


def compile_zone(geometry: dict) -> ZoneShape:
    """Return the ZoneShape of a validated geometry (cached by its content)."""
    return _compile(json.dumps(geometry, sort_keys=True))


@lru_cache(maxsize=4096)
def _compile(geometry_json: str) -> ZoneShape:
    return compile_zone_text(geometry_json)


def compile_zone_text(geometry_json: str) -> ZoneShape:
    """Return the ZoneShape of a validated geometry as its stored JSON text, not cached here: the
    one-statement ingests keep shapes by zone id (``shapes``), not by a text of up to some hundred KB."""
    geometry = json.loads(geometry_json)
    if geometry["type"] == "Circle":
        lon, lat = geometry["center"]
        return ZoneShape("circle", lat, lon, radius_m=float(geometry["radius_m"]))
    parsed = shape(geometry)
    centroid = parsed.centroid
    lat0, lon0 = centroid.y, centroid.x
    kx = _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    local = shapely.transform(parsed, lambda c: (c - [lon0, lat0]) * [kx, _M_PER_DEG_LAT])
    boundary = local.boundary
    # GEOS shrinks by approximating arcs with chords and simplifying by 1 % of the distance: shrinking
    # 5 % and a metre more than CLEAR_M leaves every point of the core more than CLEAR_M inside.
    core = local.buffer(-(CLEAR_M * 1.05 + 1.0))
    core = None if core.is_empty else core
    for geometry in (local, boundary, core):
        if geometry is not None:
            shapely.prepare(geometry)
    return ZoneShape("polygon", lat0, lon0, polygon=local, boundary=boundary, core=core, bounds=tuple(local.bounds))


def _project(lat, lon, lat0: float, lon0: float):
    kx = _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    return (lon - lon0) * kx, (lat - lat0) * _M_PER_DEG_LAT


def _check_position(position: Any) -> None:
    if (not isinstance(position, list) or len(position) not in (2, 3)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                       for v in position)):
        raise GeometryError("each position is [longitude, latitude]")
    lon, lat = position[0], position[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeometryError("longitude must be within ±180 and latitude within ±90")


def route_area(home: dict, destination: dict) -> dict:
    """The convex hull of the home area and the destination: the way from one to the other.

    Circles are approximated by 64-sided polygons (in degrees scaled at their latitude).
    """
    hull = shapely.convex_hull(shapely.union(_as_polygon(home), _as_polygon(destination)))
    return json.loads(shapely.to_geojson(shapely.set_precision(hull, 1e-6)))


def _as_polygon(geometry: dict):
    if geometry["type"] != "Circle":
        return shape(geometry)
    lon, lat = geometry["center"]
    radius_deg_lat = geometry["radius_m"] / _M_PER_DEG_LAT
    scale = math.cos(math.radians(lat))
    circle = shapely.Point(0, 0).buffer(radius_deg_lat, quad_segs=16)
    return shapely.transform(circle, lambda c: c * [1 / scale, 1] + [lon, lat])
