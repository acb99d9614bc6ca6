"""Adapters for real location apps: OsmAnd protocol (Traccar Client) and OwnTracks HTTP mode.

Each turns one request into the ingest key it carries and a list of fix dicts in our own
shape, for the same pipeline as the app's batch upload.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any, Mapping

from ..time import EARLIEST, LATEST, utc_instant

KNOT_MPS = 0.514444


class ClientPayloadError(ValueError):
    """The request does not carry what the protocol requires."""


def osmand_fields(params: Mapping[str, str], now: datetime) -> tuple[str | None, dict[str, Any] | None]:
    """Return (ingest key, fix) from OsmAnd query or form parameters; fix None if it has no position."""
    key = params.get("id") or params.get("deviceid")
    lat, lon = params.get("lat"), params.get("lon")
    if (lat is None or lon is None) and params.get("location"):
        lat, _, lon = params["location"].partition(",")
    if lat in (None, "") or lon in (None, ""):
        return key, None
    fix: dict[str, Any] = {"lat": _number(lat, "lat"), "lon": _number(lon, "lon"),
                           "recorded_at": osmand_time(params.get("timestamp"), now),
                           "accuracy_m": _accuracy(params),
                           "is_mock": str(params.get("mock", "")).lower() in ("true", "1")}
    speed = _optional(params.get("speed"))
    if speed is not None and speed >= 0:
        fix["speed_mps"] = speed * KNOT_MPS
    _set(fix, "heading", _optional(params.get("bearing") or params.get("heading")))
    _set(fix, "altitude_m", _optional(params.get("altitude")))
    _set(fix, "battery", _optional(params.get("batt")))
    return key, fix


def _accuracy(params: Mapping[str, str]) -> float | None:
    """Horizontal accuracy in metres: ``accuracy`` (Traccar), ``hacc`` (other OsmAnd-protocol
    loggers) or ``hdop``, which OsmAnd itself fills with the fix's accuracy in metres.
    A zero means "unknown" in all of them."""
    for name in ("accuracy", "hacc", "hdop"):
        value = _optional(params.get(name))
        if value:
            return value
    return None


def osmand_json(body: Mapping[str, Any], now: datetime) -> tuple[str | None, dict[str, Any] | None]:
    """Return (ingest key, fix) from a Traccar Client 9 JSON body (transistorsoft format)."""
    key = body.get("device_id") or body.get("id") or body.get("deviceid")
    location = body.get("location") if isinstance(body.get("location"), dict) else {}
    coords = location.get("coords") if isinstance(location.get("coords"), dict) else {}
    if coords.get("latitude") is None or coords.get("longitude") is None:
        return key, None
    fix: dict[str, Any] = {"lat": _number(coords["latitude"], "latitude"),
                           "lon": _number(coords["longitude"], "longitude"),
                           "recorded_at": osmand_time(location.get("timestamp"), now),
                           "accuracy_m": _optional(coords.get("accuracy")),
                           "is_mock": bool(location.get("mock", False))}
    speed = _optional(coords.get("speed"))
    if speed is not None and speed >= 0:
        fix["speed_mps"] = speed
    heading = _optional(coords.get("heading"))
    if heading is not None and heading >= 0:
        fix["heading"] = heading
    _set(fix, "altitude_m", _optional(coords.get("altitude")))
    battery = location.get("battery") if isinstance(location.get("battery"), dict) else {}
    level = _optional(battery.get("level"))
    if level is not None and level >= 0:
        fix["battery"] = round(level * 100, 1)
    return (str(key) if key is not None else None), fix


def osmand_time(value: Any, now: datetime) -> str:
    """Read an OsmAnd timestamp: epoch s, epoch ms, ISO 8601, or 'yyyy-MM-dd HH:mm:ss' (UTC)."""
    if value in (None, ""):
        return now.isoformat()
    text = str(value).strip()
    if _EPOCH.fullmatch(text):
        number = int(text)
        return _epoch(number if number < 2_147_483_647 else number / 1000, "timestamp")
    try:
        if "T" in text:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
        if parsed.tzinfo is None:  # the protocol's times are UTC
            parsed = parsed.replace(tzinfo=timezone.utc)
        return utc_instant(parsed).isoformat()
    except ValueError:
        raise ClientPayloadError("timestamp is not in a known format or out of range") from None


_EPOCH = re.compile(r"-?[0-9]{1,30}")  # ASCII digits only: str.isdigit() also takes "²" and "١"


def _epoch(seconds: float, name: str) -> str:
    """Return epoch ``seconds`` as ISO 8601 UTC; ClientPayloadError outside the accepted years."""
    if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
        raise ClientPayloadError(f"{name} is out of range")
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def owntracks_fix(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the fix in an OwnTracks location or transition message, or None for other types."""
    if message.get("_type") not in ("location", "transition"):
        return None
    if message.get("lat") is None or message.get("lon") is None or message.get("tst") is None:
        raise ClientPayloadError("a location needs lat, lon and tst")
    fix: dict[str, Any] = {"lat": _number(message["lat"], "lat"), "lon": _number(message["lon"], "lon"),
                           "recorded_at": _epoch(int(_number(message["tst"], "tst")), "tst"),
                           "accuracy_m": _optional(message.get("acc"))}
    velocity = _optional(message.get("vel"))
    if velocity is not None and velocity >= 0:
        fix["speed_mps"] = velocity / 3.6
    course = _optional(message.get("cog"))
    if course is not None and course >= 0:
        fix["heading"] = course
    _set(fix, "altitude_m", _optional(message.get("alt")))
    battery = _optional(message.get("batt"))
    if battery is not None and battery >= 0:
        fix["battery"] = battery
    return fix


def _number(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ClientPayloadError(f"{name} is not a number") from None
    if not math.isfinite(number):
        raise ClientPayloadError(f"{name} is not a finite number")
    return number


def _optional(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _set(fix: dict[str, Any], name: str, value: float | None) -> None:
    if value is not None:
        fix[name] = value
