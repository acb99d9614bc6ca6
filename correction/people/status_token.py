"""The token a personal status code (矫正码) carries: who it names, signed, for a few minutes.

Signed with itsdangerous under ``SECRET_KEY``; it lives STATUS_CODE_TTL_SECONDS. Officers read it
to see whom they face (``POST /codes/verify``) and to hand over an order to the right person.
"""
from __future__ import annotations

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from ..errors import DomainError

_SALT = "status-code-v1"


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
