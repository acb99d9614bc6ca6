"""The simulated people: where they are, what they do, and the breaches planted among them.

Every behaviour is drawn from a seeded mix. The ground truth is what the simulation intends
(a skipped window, an unanswered spot check, a trip out of the district, a day with the
phone off, a mocked GPS, a forwarded station code), never what the server answered.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

BEHAVIOURS = [  # (name, share of the district)
    ("compliant", 0.62), ("forgetful", 0.08), ("late", 0.05), ("absconds", 0.04), ("exclusion", 0.03),
    ("phone_off", 0.05), ("mock_gps", 0.04), ("screenshot", 0.03), ("on_leave", 0.06),
]
DESTINATION = (30.2741, 120.1551)  # Hangzhou, where approved leave goes
ELSEWHERE = (29.3069, 120.0760)  # Yiwu, outside the district, where absconders go


@dataclass
class Breach:
    """A breach the simulation planted: the alert that must catch it, and when it began."""

    supervisee_id: int
    type: str
    at: datetime
    subject: str | None = None
    caught_by: int | None = None
    caught_at: datetime | None = None


@dataclass
class Person:
    id: int
    phone: str
    password: str
    device_id: str
    office_id: int
    level: str
    home: tuple[float, float]
    station: dict
    behaviour: str
    channel: str  # app, osmand, owntracks
    rng: random.Random
    token: str | None = None
    ingest_key: str | None = None
    last_upload: datetime | None = None
    away: list[tuple[datetime, datetime, tuple[float, float]]] = field(default_factory=list)
    phone_off: tuple[datetime, datetime] | None = None
    mock_from: datetime | None = None
    exclusion_zone: dict | None = None
    leave_id: int | None = None

    def upload_every(self) -> timedelta:
        return timedelta(minutes=60 if self.level == "strict" else 120)

    def phone_on(self, at: datetime) -> bool:
        return self.phone_off is None or not (self.phone_off[0] <= at < self.phone_off[1])

    def position(self, at: datetime) -> tuple[float, float]:
        """Where the person is at ``at`` (travel takes an hour each way)."""
        for start, end, (lat, lon) in self.away:
            if start <= at < end:
                share = min(1.0, (at - start) / timedelta(hours=1), (end - at) / timedelta(hours=1))
                return (self.home[0] + (lat - self.home[0]) * share, self.home[1] + (lon - self.home[1]) * share)
        return self.home

    def fix(self, at: datetime) -> dict:
        """A noisy GPS fix: the error is drawn within the reported accuracy."""
        lat, lon = self.position(at)
        accuracy = self.rng.uniform(5, 30)
        distance, bearing = abs(self.rng.gauss(0, accuracy / 2.5)), self.rng.uniform(0, 2 * math.pi)
        lat += distance * math.cos(bearing) / 110_574
        lon += distance * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
        return {"recorded_at": at, "lat": round(lat, 7), "lon": round(lon, 7), "accuracy_m": round(accuracy, 1),
                "is_mock": self.mock_from is not None and at >= self.mock_from, "battery": 80}


def assign_behaviours(people_rows: list[dict], stations: dict[int, dict], rng: random.Random,
                      exclusion_holders: set[int]) -> list[str]:
    """Draw each person's behaviour; exclusion-zone entries go to people who have such a zone."""
    names = [name for name, _ in BEHAVIOURS]
    weights = [share for _, share in BEHAVIOURS]
    chosen = []
    for row in people_rows:
        behaviour = rng.choices(names, weights)[0]
        if behaviour == "exclusion" and row["id"] not in exclusion_holders:
            behaviour = "compliant"
        if behaviour == "screenshot" and row["level"] != "strict":
            behaviour = "compliant"  # only strict people owe a weekly station visit in a week
        chosen.append(behaviour)
    return chosen


def home_near(station: dict, rng: random.Random, avoid: list[tuple[float, float]]) -> tuple[float, float]:
    """A home 300 m–2.5 km from the office's station, at least 1.2 km from any exclusion zone."""
    while True:
        distance, bearing = rng.uniform(300, 2500), rng.uniform(0, 2 * math.pi)
        lat = station["lat"] + distance * math.cos(bearing) / 110_574
        lon = station["lon"] + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(station["lat"])))
        if all(_metres(lat, lon, a, b) > 1200 for a, b in avoid):
            return lat, lon


def _metres(lat1, lon1, lat2, lon2) -> float:
    dy = (lat1 - lat2) * 110_574
    dx = (lon1 - lon2) * 111_320 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)
