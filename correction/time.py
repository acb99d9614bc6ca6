"""Time helpers: aware UTC everywhere, local time only where a rule is stated in it."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

UTC = timezone.utc
Clock = Callable[[], datetime]

# The instants the API accepts. Anything outside is a mistake or a probe, and near the ends of
# Python's range (years 1 and 9999) converting to UTC, adding a week or storing it overflows.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def utc_instant(value: datetime) -> datetime:
    """Return aware ``value`` in UTC; ValueError if it is naive or outside EARLIEST..LATEST."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a time zone (Z or an offset)")
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not EARLIEST <= instant < LATEST:
        raise ValueError(f"must lie between {EARLIEST.year} and {LATEST.year}")
    return instant


def parse_utc_instant(text: str) -> datetime:
    """Read an ISO 8601 time with a zone (``Z`` or an offset) as UTC; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("must be an ISO 8601 string")
    return utc_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def now() -> datetime:
    """Return the application clock's current time (tests and the simulator drive it)."""
    return current_app.extensions["correction.clock"]()


def iso_z(value: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC with a ``Z`` suffix."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_zone() -> ZoneInfo:
    """Return the zone in which local-time rules apply."""
    return ZoneInfo(current_app.config["SETTINGS"].LOCAL_TIMEZONE)


class TZDateTime(sa.types.TypeDecorator):
    """A timestamp column that stores UTC and always returns aware UTC datetimes.

    PostgreSQL keeps ``timestamptz``; SQLite has no zone support, so the value is stored as
    naive UTC and marked UTC again when read. Naive values are refused on the way in.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("TZDateTime needs an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
