"""Security helpers: tokens, password hashing, national ID numbers, log redaction."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# GB 11643-1999: 17 digits, then a check character computed from them.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]")  # ASCII only: \d would also take full-width and other digits
_ID_IN_TEXT = re.compile(r"(?<!\d)\d{17}[\dXxＸｘ](?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])")  # full-width too


def new_token() -> tuple[str, str]:
    """Return a new opaque bearer token and the hash under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """Return the stored form of a bearer token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def password_hasher(settings) -> PasswordHasher:
    """Return an argon2id hasher with the configured cost."""
    return PasswordHasher(time_cost=settings.ARGON2_TIME_COST,
                          memory_cost=settings.ARGON2_MEMORY_COST_KIB,
                          parallelism=settings.ARGON2_PARALLELISM)


# A stored "hash" that no password matches: an imported supervisee's, until an officer issues one.
# No argon2 hash starts with "!", so verify never accepts it (the Django convention for the same).
UNUSABLE_PASSWORD = "!unusable"


def verify_password(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """Check ``password``; with no usable stored hash, spend the same time and say no."""
    if stored_hash is None or stored_hash.startswith("!"):
        stored_hash = _dummy_hash(hasher)
        password = password + "\x00never"
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: dict[tuple, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash(secrets.token_hex(16))
    return _DUMMY[key]


def canonical_national_id(value: str) -> str:
    """Return the one form of an ID number that is hashed: NFKC (full-width ３ and Ｘ become 3 and X), upper-case."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def normalise_national_id(value: str) -> str:
    """Return the ID number in its canonical form; raise ValueError unless it is valid there."""
    value = canonical_national_id(value)
    if not _ID_PATTERN.fullmatch(value):
        raise ValueError("must be 18 characters: 17 digits and a digit or X")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValueError("check character does not match")
    return value


def national_id_check_char(first17: str) -> str:
    """Return the check character for the first 17 digits of an ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS)) % 11]


def hash_national_id(secret_key: str, national_id: str) -> str:
    """Return the keyed hash under which an ID number is stored and matched."""
    key = hashlib.sha256(b"national-id:" + secret_key.encode()).digest()
    return hmac.new(key, canonical_national_id(national_id).encode(), hashlib.sha256).hexdigest()


# Names whose values are secrets wherever they appear: a query or form parameter (OsmAnd's ``id``
# is the ingest key), a JSON field, ``name=value`` in a message.
SECRET_NAMES = ("id", "deviceid", "device_id", "key", "ingest_key", "token", "access_token",
                "refresh_token", "password", "passwd", "pwd", "totp", "otp", "secret", "totp_secret")
MASK = "***"
_SECRET_PARAM = re.compile(r"(?i)([?&;](?:%s)=)[^&;\s\"'#]*" % "|".join(SECRET_NAMES))
_SECRET_FIELD = re.compile(
    r"""(?i)(["']?\b(?:%s|authorization)["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\b)[^"'\s,;&}\]]+"""
    % "|".join(n for n in SECRET_NAMES if n != "id"))  # "id=5" in prose is a row id, not a secret
_CREDENTIALS = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]+")


def redact(text: str) -> str:
    """Mask secrets (keys, tokens, passwords, TOTP codes, credentials) and ID numbers in ``text``."""
    if not text:
        return text
    text = _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, text)
    text = _CREDENTIALS.sub(lambda m: m.group(1) + " " + MASK, text)
    text = _SECRET_FIELD.sub(lambda m: m.group(1) + MASK, text)
    return _ID_IN_TEXT.sub(lambda m: "*" * 14 + m.group(0)[-4:], text)


def redact_query(query: str) -> str:
    """Mask the secret parameters of a bare query string (no leading ``?``)."""
    return redact("?" + query)[1:] if query else query


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets and national ID numbers in every record.

    The message and a logged exception's text are both cleaned: a database error or a
    traceback can quote a request's values.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
