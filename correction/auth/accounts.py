"""What an account holder and their officers do with a login: change the password, see and lift locks."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher

from ..errors import NotFound, ValidationFailed
from ..passwords import password_refusal, phone_forms
from ..people.access import Principal
from ..people.models import Officer, Supervisee
from ..people.service import get_supervisee
from ..security import verify_password
from . import lockout
from .models import AuthToken, LoginFailure


def change_password(session, settings, hasher: PasswordHasher, principal: Principal,
                    holder: Officer | Supervisee, *, current: str, new: str, client: str | None,
                    now: datetime) -> None:
    """Replace the caller's password and end their other sessions.

    The current password is checked like a login (a stolen token must not become a way to guess
    it): failures count towards the same (account, client) lock.
    """
    kind, identifier = principal.kind, identifier_of(holder)
    pair = lockout.attempt(settings, kind, identifier, client)
    lockout.refuse_if_locked(session, pair, now)
    if not verify_password(hasher, holder.password_hash, current):
        raise _field_error("current_password", "incorrect", "The current password is not correct.",
                           keep=[lockout.count_failure(pair, settings, now)])
    identifiers = phone_forms(holder.phone) if kind == "supervisee" else (holder.username,)
    refusal = password_refusal(settings, new, identifiers)
    if refusal is None and new == current:
        refusal = ("same_as_current", "Choose a password other than the current one.")
    if refusal is not None:
        raise _field_error("new_password", *refusal)
    lockout.clear_failures(session, pair)
    holder.password_hash = hasher.hash(new)
    holder.password_change_required = False
    holder_column = AuthToken.officer_id if kind == "officer" else AuthToken.supervisee_id
    # Whoever else held a session on the old password loses it; this one goes on.
    session.execute(sa.update(AuthToken).where(holder_column == holder.id, AuthToken.id != principal.token_id,
                                               AuthToken.revoked_at.is_(None)).values(revoked_at=now))
    session.flush()


# No 0/O, 1/l/I: the password is read out or written down for someone to type on a phone.
_INITIAL_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INITIAL_PASSWORD_LENGTH = 12  # ~70 bits; it lives only until the first login changes it


def issue_initial_password(session, settings, hasher: PasswordHasher, principal: Principal, supervisee_id: int,
                           now: datetime) -> tuple[Supervisee, str, int]:
    """Give a supervisee in scope a new random password that must be changed; end their sessions.

    This is how an imported supervisee gets their first password, and how an officer helps one who
    forgot theirs. Returns the person, the password (to show once) and how many sessions ended.
    """
    person = get_supervisee(session, principal, supervisee_id)
    while True:
        password = "".join(secrets.choice(_INITIAL_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH))
        if password_refusal(settings, password, phone_forms(person.phone)) is None:
            break
    person.password_hash = hasher.hash(password)
    person.password_change_required = True
    person.updated_at = now
    ended = session.execute(sa.update(AuthToken).where(AuthToken.supervisee_id == person.id,
                                                       AuthToken.revoked_at.is_(None)).values(revoked_at=now)).rowcount
    session.flush()
    return person, password, ended


def identifier_of(holder: Officer | Supervisee) -> str:
    """Return what the account logs in with: an officer's username, a supervisee's phone number."""
    return holder.username if isinstance(holder, Officer) else holder.phone


def supervisee_login_locks(session, settings, principal: Principal, supervisee_id: int) -> list[LoginFailure]:
    """Return the clients with failures or a lock on a supervisee's login (officers of their office)."""
    person = get_supervisee(session, principal, supervisee_id)
    return lockout.failures_of(session, settings, "supervisee", person.phone)


def lift_supervisee_login_locks(session, settings, principal: Principal, supervisee_id: int) -> int:
    """Lift every lock on a supervisee's login; return how many clients were locked or counted."""
    person = get_supervisee(session, principal, supervisee_id)
    return lockout.lift(session, settings, "supervisee", person.phone)


def officer_login_locks(session, settings, principal: Principal, officer_id: int) -> list[LoginFailure]:
    """Return the clients with failures or a lock on an officer's login (the bureau's supervisors)."""
    return lockout.failures_of(session, settings, "officer", _officer_of_bureau(session, principal, officer_id).username)


def lift_officer_login_locks(session, settings, principal: Principal, officer_id: int) -> int:
    """Lift every lock on an officer's login; return how many clients were locked or counted."""
    return lockout.lift(session, settings, "officer", _officer_of_bureau(session, principal, officer_id).username)


def _officer_of_bureau(session, principal: Principal, officer_id: int) -> Officer:
    officer = session.execute(sa.select(Officer).where(
        Officer.id == officer_id, Officer.bureau_id == principal.bureau_id)).scalar_one_or_none()
    if officer is None or not principal.bureau_wide:
        raise NotFound("No such officer.", code="officer_not_found")
    return officer


def _field_error(path: str, code: str, message: str, keep=None) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": [{"path": path, "code": code, "message": message}]},
                            keep=keep)
