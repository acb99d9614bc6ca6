"""The rule for a new password: long enough, not a common one, not the account's own name or number."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_COMMON = Path(__file__).resolve().parent / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower-cased (read once, no network)."""
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_refusal(settings, password: str, identifiers: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """Return why ``password`` may not be chosen, as (code, message), or None if it may.

    ``identifiers`` are what the account is known by (a username, a phone number): a password
    containing one is the first thing anybody who knows the account tries.
    """
    if len(password) < settings.PASSWORD_MIN_LENGTH:
        return "too_short", f"Use at least {settings.PASSWORD_MIN_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords():
        return "too_common", "This password is among the most common ones; choose another."
    for identifier in identifiers:
        if len(identifier) >= 4 and identifier.lower() in lowered:
            return "contains_identifier", "The password must not contain your phone number or username."
    return None


def phone_forms(phone: str) -> tuple[str, ...]:
    """Return the ways a phone number is written: as stored, without '+', without China's +86."""
    digits = phone.lstrip("+")
    forms = {phone, digits}
    if digits.startswith("86") and len(digits) == 13:
        forms.add(digits[2:])
    return tuple(sorted(forms))
