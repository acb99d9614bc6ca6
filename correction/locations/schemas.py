"""Request and response bodies for location reports, zones and tracks."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import Input, Output, Text, UtcDateTime


class FixIn(BaseModel):
    """One fix of a batch. Validated one by one: a bad fix is refused, the rest are kept."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    recorded_at: UtcDateTime
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    accuracy_m: Annotated[float, Field(gt=0)]
    speed_mps: Annotated[float, Field(ge=0, le=1000)] | None = None
    heading: Annotated[float, Field(ge=0, le=360)] | None = None
    altitude_m: Annotated[float, Field(ge=-1000, le=20000)] | None = None
    battery: Annotated[float, Field(ge=0, le=100)] | None = None
    is_mock: bool = False


class BatchIn(Input):
    # list[Any], not list[dict]: a fix that is not even an object is refused on its own, with its
    # index, like any other bad fix; it must not cost the good fixes of the batch.
    fixes: Annotated[list[Any], Field(max_length=500)] = Field(
        description="Up to LOCATION_BATCH_MAX fixes; each is checked on its own (see FixIn).")


class Refusal(Output):
    index: int
    code: str
    message: str


class BatchOut(Output):
    stored: int
    skipped: int
    refused: list[Refusal]


class ZoneIn(Input):
    kind: Literal["permitted", "exclusion"]
    name: Text(100)
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, or "
                                     '{"type": "Circle", "center": [lon, lat], "radius_m": r}.')


class ZoneOut(Output):
    id: int
    supervisee_id: int
    kind: Literal["permitted", "exclusion"]
    name: str
    geometry: dict[str, Any]
    active: bool
    leave_request_id: int | None
    created_at: UtcDateTime


class ZoneList(Output):
    items: list[ZoneOut]


class TrackQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    from_: UtcDateTime = Field(alias="from")
    to: UtcDateTime
    format: Literal["geojson", "gpx"] = "geojson"


class IngestKeyOut(Output):
    ingest_key: str = Field(description="Shown once: the OsmAnd/Traccar device id, the OwnTracks password.")
    osmand_url: str
    owntracks_url: str
    issued_at: UtcDateTime
    expires_at: UtcDateTime


class IngestKeyStatus(Output):
    """The bound phone's ingest key, without the key: whether it works, and its life so far."""

    active: bool = Field(description="Issued, not expired, not ended by logout, reset or revocation.")
    issued_at: UtcDateTime | None
    expires_at: UtcDateTime | None
    last_used_at: UtcDateTime | None = Field(description="Last OsmAnd/OwnTracks report (kept after the key ends).")
