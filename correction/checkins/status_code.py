"""Personal status code (矫正码): a QR coloured by compliance, carrying a signed token.

Green: no unresolved alert and no miss in the look-back. Yellow: an unresolved alert, or a
miss (missed check-in, missed spot check) in the look-back. Red: a serious (high or critical)
unresolved alert. The token is signed with itsdangerous and lives STATUS_CODE_TTL_SECONDS.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from ..alerts.models import Alert
from ..errors import DomainError
from .models import SpotCheck

_SALT = "status-code-v1"


def compliance_colour(session, settings, supervisee_id: int, now: datetime) -> str:
    """Return green, yellow or red for the supervisee at ``now``."""
    since = now - timedelta(days=settings.STATUS_MISS_LOOKBACK_DAYS)
    unresolved = sa.and_(Alert.supervisee_id == supervisee_id, Alert.status != "resolved")
    serious, open_, recent_miss = session.execute(sa.select(
        sa.exists().where(unresolved, Alert.severity.in_(("high", "critical"))),
        sa.exists().where(unresolved),
        sa.exists().where(Alert.supervisee_id == supervisee_id,
                          Alert.type.in_(("missed_checkin", "missed_spot_check")),
                          Alert.raised_at >= since),
    )).one()
    if serious:
        return "red"
    unanswered_spot = session.execute(sa.select(sa.exists().where(
        SpotCheck.supervisee_id == supervisee_id, SpotCheck.due_at >= since,
        sa.or_(SpotCheck.status == "missed",
               sa.and_(SpotCheck.status == "pending", SpotCheck.due_at < now))))).scalar()
    return "yellow" if open_ or recent_miss or unanswered_spot else "green"


def _serializer(secret_key: str, clock) -> URLSafeTimedSerializer:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return URLSafeTimedSerializer(secret_key, salt=_SALT, signer=ClockSigner)


def issue_token(secret_key: str, clock, supervisee_id: int) -> str:
    """Return a signed token naming the supervisee, stamped with the clock's time."""
    return _serializer(secret_key, clock).dumps({"s": supervisee_id})


class CodeRefused(DomainError):
    """The status code cannot be trusted: ``code`` says why (code_invalid, code_expired)."""

    status = 422

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


def read_token(secret_key: str, clock, token: str, max_age: int) -> int:
    """Return the supervisee id in a valid token; CodeRefused if forged, malformed or expired."""
    try:
        data = _serializer(secret_key, clock).loads(token, max_age=max_age)
    except SignatureExpired:
        raise CodeRefused("code_expired", "This status code has expired; ask for a fresh one.") from None
    except (BadData, ValueError, TypeError):
        raise CodeRefused("code_invalid", "This is not a genuine status code.") from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise CodeRefused("code_invalid", "This is not a genuine status code.")
    return data["s"]
