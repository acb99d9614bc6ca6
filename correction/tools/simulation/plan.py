"""Planning the week: every person's check-ins, trips, spot checks and the breaches they make."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ...checkins.windows import windows_between
from .world import DESTINATION, ELSEWHERE, Breach, Person


@dataclass(order=True)
class Event:
    at: datetime
    order: int
    kind: str = field(compare=False)
    person: Person = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


class Planner:
    """Turns behaviours into timed events and the breaches they plant."""

    def __init__(self, settings, start: datetime, end: datetime, rng: random.Random):
        self.settings, self.start, self.end, self.rng = settings, start, end, rng
        self.zone = ZoneInfo(settings.LOCAL_TIMEZONE)
        self.events: list[Event] = []
        self.breaches: list[Breach] = []
        self._n = 0

    def add(self, at: datetime, kind: str, person: Person, **data) -> None:
        if self.start <= at < self.end:
            self._n += 1
            self.events.append(Event(at, self._n, kind, person, data))

    def local(self, day: int, hour: float) -> datetime:
        """The UTC instant of ``hour`` o'clock local on simulation day ``day``."""
        first = self.start.astimezone(self.zone).replace(hour=0, minute=0, second=0, microsecond=0)
        return (first + timedelta(days=day, hours=hour)).astimezone(self.start.tzinfo)

    def days(self) -> int:
        return max(1, round((self.end - self.start) / timedelta(days=1)))

    def plan_person(self, person: Person, supervision) -> None:
        """Trips and phone states first, then the check-ins they allow."""
        b, rng, days = person.behaviour, person.rng, self.days()
        if b == "absconds":
            leave = self.local(rng.randrange(days), 10)
            person.away.append((leave, leave + timedelta(hours=6), ELSEWHERE))
            self.breaches.append(Breach(person.id, "zone_exit", leave))
        elif b == "exclusion":
            enter = self.local(rng.randrange(days), 14)
            centre = person.exclusion_zone["center"]
            person.away.append((enter, enter + timedelta(hours=3), (centre[1], centre[0])))
            self.breaches.append(Breach(person.id, "exclusion_entry", enter))
        elif b == "phone_off":
            off = self.local(rng.randrange(max(1, days - 1)), 8)
            person.phone_off = (off, off + timedelta(hours=30))
            # 失联 begins when the silence passes the level's limit. The silence starts with the last
            # upload before the phone went off, up to one upload interval earlier.
            limit = timedelta(hours=self.settings.SIGNAL_LOST_HOURS[person.level])
            self.breaches.append(Breach(person.id, "signal_lost", off - person.upload_every() + limit))
        elif b == "mock_gps":
            person.mock_from = self.local(rng.randrange(days), 12)
            self.breaches.append(Breach(person.id, "mock_location", person.mock_from))
        elif b == "on_leave":
            begin = self.local(1, 8) if days >= 4 else self.start + timedelta(hours=4)
            finish = self.local(3, 18) if days >= 4 else self.end - timedelta(hours=8)
            # Home two hours before the leave ends, and reporting back (销假) at the station an hour later.
            person.away.append((begin, finish - timedelta(hours=2), DESTINATION))
            self.add(self.start + timedelta(minutes=30), "request_leave", person, start_at=begin, end_at=finish)
            self.add(finish - timedelta(hours=1), "station_checkin", person, window=None)
        for kind in ("remote", "station"):
            for window in windows_between(self.settings, supervision, kind, self.start, self.end):
                if window.closes_at <= self.end and window.opens_at >= self.start - timedelta(days=62):
                    self._plan_window(person, window)

    def _plan_window(self, person: Person, window) -> None:
        rng, b = person.rng, person.behaviour
        opens = max(window.opens_at, self.start + timedelta(hours=1))
        closes = window.closes_at
        if opens >= closes:
            return
        at = self._daytime_between(opens, closes - timedelta(minutes=30), person)
        valid = at is not None
        if b == "forgetful" and window.kind == "remote" and rng.random() < 0.6:
            valid, at = False, None
        elif b == "late" and window.kind == "remote" and rng.random() < 0.5:
            at, valid = closes + timedelta(minutes=30), False  # refused: the window has closed
        elif b == "screenshot" and window.kind == "station":
            valid = False  # scans a forwarded picture of the code from home: too far
        if at is not None and not person.phone_on(at):
            valid, at = False, None
        if at is not None and person.mock_from is not None and at >= person.mock_from:
            valid = False  # the app reports the mocked position: refused
        kind = "station_checkin" if window.kind == "station" else "remote_checkin"
        if at is not None:
            self.add(at, kind, person, window=window.key, from_home=(b == "screenshot"))
        if not valid:
            self.breaches.append(Breach(person.id, "missed_checkin", closes, subject=window.key))

    def _daytime_between(self, first: datetime, last: datetime, person: Person) -> datetime | None:
        """A random moment between 09:00 and 19:00 local in [first, last], not while travelling."""
        for _ in range(40):
            moment = first + (last - first) * person.rng.random()
            hour = moment.astimezone(self.zone).hour
            travelling = any(s - timedelta(hours=1) <= moment < e + timedelta(hours=1) for s, e, _ in person.away)
            if 9 <= hour < 19 and not travelling:
                return moment.replace(microsecond=0)
        return None

    def plan_spot_checks(self, people: list[Person], per_day: int) -> None:
        """Officers ask a few people a day to check in now; some will not answer."""
        for day in range(self.days()):
            for person in self.rng.sample(people, min(per_day, len(people))):
                at = self.local(day, self.rng.uniform(9.5, 17.5)).replace(second=0, microsecond=0)
                answers = person.phone_on(at) and person.phone_on(at + timedelta(minutes=15)) and not (
                    person.behaviour == "forgetful" and self.rng.random() < 0.5) and not (
                    person.mock_from is not None and at >= person.mock_from)
                self.add(at, "spot_check", person, answers=answers)
