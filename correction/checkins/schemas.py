"""Request and response bodies for check-ins, spot checks and status codes."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..schemas import Input, Output, Text, UtcDateTime

Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Accuracy = Annotated[float, Field(gt=0, le=100_000, description="Metres, as the phone reports it.")]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]  # id columns are 32-bit INTEGER on PostgreSQL


class CheckinIn(Input):
    kind: Literal["remote", "station", "spot"]
    qr: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description="The decoded station QR text (station check-ins; spot at a station).")
    lat: Latitude
    lon: Longitude
    accuracy_m: Accuracy
    recorded_at: UtcDateTime
    is_mock: bool = False


class WindowOut(Output):
    kind: Literal["remote", "station", "spot", "period"]
    key: str
    opens_at: UtcDateTime
    closes_at: UtcDateTime


class CheckinOut(Output):
    id: int
    kind: Literal["remote", "station", "spot"]
    outcome: Literal["accepted", "refused"]
    window_key: str | None
    window_closes_at: UtcDateTime | None
    station_id: int | None
    spot_check_id: int | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    distance_m: float | None
    recorded_at: UtcDateTime | None
    received_at: UtcDateTime
    duplicate: bool = Field(default=False, description="True when this repeats an earlier accepted check-in.")


class ScheduledWindow(WindowOut):
    status: Literal["upcoming", "open", "satisfied"]
    checkin_id: int | None
    period_id: int | None = Field(default=None, description="The period of stepped-up supervision (kind period).")


class SpotCheckOut(Output):
    id: int
    supervisee_id: int
    requested_at: UtcDateTime
    due_at: UtcDateTime
    status: Literal["pending", "answered", "missed", "cancelled"]
    note: str | None
    answered_at: UtcDateTime | None


class ScheduleOut(Output):
    now: UtcDateTime
    timezone: str
    windows: list[ScheduledWindow]
    spot_checks: list[SpotCheckOut]


class SpotCheckIn(Input):
    supervisee_id: Id
    minutes: int | None = Field(default=None, ge=1, le=24 * 60,
                                description="Answer time; defaults to the SPOT_CHECK_MINUTES setting.")
    note: Text(500) | None = None


class StationQrOut(Output):
    token: str = Field(description="The text the QR code encodes.")
    expires_at: UtcDateTime = Field(description="When the screen should show the next code.")
    station_id: int


# --- periods of stepped-up supervision (临时加强监管) ----------------------------------------------

ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Level = Literal["strict", "normal", "lenient"]


class PeriodWindow(Input):
    opens: ClockTime = Field(description="Local time, HH:MM.")
    closes: ClockTime = Field(description="Local time, HH:MM, later than opens the same day.")


class PeriodIn(Input):
    name: Text(100)
    reason: Text(500)
    starts_on: date = Field(description="First local day.")
    ends_on: date = Field(description="Last local day (not in the past; the length is limited by PERIOD_MAX_DAYS).")
    office_ids: list[Id] = Field(default_factory=list, max_length=500, description="Empty: every office of the bureau.")
    levels: list[Level] = Field(default_factory=list, max_length=3, description="Empty: every level.")
    windows: list[PeriodWindow] = Field(default_factory=list, max_length=24,
                                        description="Extra check-in windows every day; at most PERIOD_MAX_WINDOWS.")
    spot_checks_per_week: int = Field(default=0, ge=0, le=7, description="Spot checks per person per ISO week.")


class PeriodCancelIn(Input):
    reason: Text(500)


class PeriodWindowOut(Output):
    opens: str
    closes: str


class PeriodOut(Output):
    id: int
    bureau_id: int
    name: str
    reason: str
    starts_on: date
    ends_on: date
    office_ids: list[int] = Field(description="Empty: every office of the bureau.")
    levels: list[Level] = Field(description="Empty: every level.")
    windows: list[PeriodWindowOut]
    spot_checks_per_week: int
    status: Literal["upcoming", "active", "ended", "cancelled"]
    declared_by: int
    declared_at: UtcDateTime
    cancelled_at: UtcDateTime | None
    cancel_reason: str | None
    covered_supervisees: int | None = Field(default=None, description="People it covers (one period only).")
