"""Whether a GPS fix can be used at all: one rule for check-ins and location uploads alike.

A fix is refused when the phone's clock puts it in the future (beyond FIX_FUTURE_SKEW_SECONDS),
when it is older than its use allows (a check-in needs a fresh fix; an upload one within the
retention period), or when it is less precise than ACCURACY_MAX_M. A mocked fix is not refused
here: uploads keep it as evidence, and check-ins refuse it with an alert of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class FixRefusal:
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def fix_refusal(settings, *, recorded_at: datetime, accuracy_m: float, now: datetime,
                max_age: timedelta, age_limit: str) -> FixRefusal | None:
    """Return why a fix taken at ``recorded_at`` with ``accuracy_m`` cannot be used, or None.

    ``age_limit`` names what ``max_age`` is, for the message ("a check-in", "the retention period").
    """
    if recorded_at > now + timedelta(seconds=settings.FIX_FUTURE_SKEW_SECONDS):
        return FixRefusal("fix_in_future", "recorded_at is in the future; check the phone's clock.")
    if now - recorded_at > max_age:
        return FixRefusal("fix_too_old", f"recorded_at is older than {age_limit} allows; take a fresh location.",
                          {"max_age_seconds": int(max_age.total_seconds())})
    if accuracy_m > settings.ACCURACY_MAX_M:
        return FixRefusal("accuracy_too_poor", f"accuracy_m is over {settings.ACCURACY_MAX_M:.0f} m: the location is "
                                               "too imprecise; move to open sky and retry.",
                          {"accuracy_m": accuracy_m, "max_m": settings.ACCURACY_MAX_M})
    return None
