"""Logins and tokens (the lockout is ``lockout``). Plain functions: the caller passes session, settings and now."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher

from ..database import insert_for, request_connection
from ..errors import Forbidden, Unauthorized
from ..events import Breach, publish
from ..people.models import Device, Office, Officer, Supervisee
from ..security import hash_token, new_token, verify_password
from ..people.access import Principal
from ..people.service import end_ingest_keys, get_supervisee
from . import lockout
from .models import AuthToken


@dataclass
class LoginResult:
    """A successful login: the token to hand out once, and who it belongs to."""

    token: str
    expires_at: datetime
    holder: Officer | Supervisee


class InvalidCredentials(Unauthorized):
    code, message = "invalid_credentials", "The login details are not correct."


def login_officer(session, settings, hasher: PasswordHasher, *, username: str, password: str,
                  totp: str | None, client: str | None, now: datetime, audit=None) -> LoginResult:
    """Check password and TOTP; lock this client out after repeated failures.

    An officer whose TOTP is not enrolled yet (new, or reset by an admin) logs in with the
    password alone; the guard then lets that session do nothing but enrol it (``enrolment``),
    change the password or log out. An unknown or deactivated username is answered exactly as a
    wrong password, and counted and locked the same way. ``audit``, when given, is told whose
    account the attempt was against.
    """
    officer = session.execute(sa.select(Officer).where(Officer.username == username)).scalar_one_or_none()
    password_ok = verify_password(hasher, officer.password_hash if officer else None, password)
    if officer is not None and audit is not None:
        audit.actor_id, audit.bureau_id = officer.id, officer.bureau_id
    pair = lockout.attempt(settings, "officer", username, client)
    lockout.refuse_if_locked(session, pair, now)
    if officer is None or not officer.active or not password_ok \
            or not _second_factor_ok(session, settings, officer, totp, now):
        raise InvalidCredentials(keep=[lockout.count_failure(pair, settings, now)])
    lockout.clear_failures(session, pair)
    token, token_hash = new_token()
    expires_at = now + timedelta(minutes=settings.OFFICER_TOKEN_TTL_MINUTES)
    session.add(AuthToken(token_hash=token_hash, officer_id=officer.id, created_at=now,
                          expires_at=expires_at, last_used_at=now))
    return LoginResult(token, expires_at, officer)


def login_supervisee(session, settings, hasher: PasswordHasher, *, phone: str, password: str,
                     device_id: str, client: str | None, now: datetime, audit=None) -> LoginResult:
    """Check the password; the first login binds the device, another device is refused.

    An unknown phone number is answered exactly as a wrong password, and counted and locked the
    same way, so the answers tell nobody whether a number belongs to someone under supervision.
    """
    person = session.execute(sa.select(Supervisee).where(Supervisee.phone == phone)).scalar_one_or_none()
    password_ok = verify_password(hasher, person.password_hash if person else None, password)
    if person is not None and audit is not None:
        audit.actor_id, audit.bureau_id = person.id, _bureau_of_office(session, person.office_id)
    bound = _active_device(session, person.id) if person is not None else None
    on_bound_phone = bound is not None and hmac.compare_digest(bound.device_id.encode(), device_id.encode())
    pair = lockout.attempt(settings, "supervisee", phone, client,
                           bound_device_id=bound.id if on_bound_phone else None)
    lockout.refuse_if_locked(session, pair, now)
    if person is None or not password_ok:
        raise InvalidCredentials(keep=[lockout.count_failure(pair, settings, now)])
    if person.status != "active":
        raise Forbidden("Supervision has ended for this account.", code="supervision_ended")
    lockout.clear_failures(session, pair)
    device = bound if bound is not None else _bind_first_device(session, person.id, device_id, now)
    if not hmac.compare_digest(device.device_id.encode(), device_id.encode()):
        raise Forbidden("This phone is not the one bound to the account; ask your officer.",
                        code="device_not_bound",
                        keep=[_report_device_change(person, device, device_id, settings, now)])
    token, token_hash = new_token()
    expires_at = now + timedelta(minutes=settings.SUPERVISEE_TOKEN_TTL_MINUTES)
    session.add(AuthToken(token_hash=token_hash, supervisee_id=person.id, device_id=device.id,
                          created_at=now, expires_at=expires_at, last_used_at=now))
    return LoginResult(token, expires_at, person)


def _bind_first_device(session, supervisee_id: int, device_id: str, now: datetime) -> Device:
    """Return the supervisee's active device, binding ``device_id`` if there is none yet.

    Two first logins may race: the partial unique index lets one insert win and the other
    then reads the winner's device, so the loser is judged against it (same phone: accepted,
    another phone: refused and reported) instead of failing with a conflict.
    """
    device = _active_device(session, supervisee_id)
    if device is not None:
        return device
    insert = insert_for(session)
    session.execute(
        insert(Device)
        .values(supervisee_id=supervisee_id, device_id=device_id, active=True, bound_at=now)
        .on_conflict_do_nothing(index_elements=["supervisee_id"], index_where=sa.text("active"))
    )
    return session.execute(sa.select(Device).where(Device.supervisee_id == supervisee_id, Device.active)
                           ).scalar_one()


def _active_device(session, supervisee_id: int) -> Device | None:
    return session.execute(sa.select(Device).where(Device.supervisee_id == supervisee_id, Device.active)
                           ).scalar_one_or_none()


class Caller(NamedTuple):
    """What the guard needs of a token's holder besides the principal (the row itself: ``caller_row``)."""

    password_change_required: bool
    totp_enrolment_required: bool


def resolve_token(session, settings, raw_token: str, now: datetime, *,
                  touch: bool = True) -> tuple[Principal, Caller]:
    """Return the principal a bearer token stands for and what the guard checks, touching the token's last use.

    One Core statement on the request's connection (``request_connection``) reads the token with its
    holder, officer or supervisee, and the bureau: an authenticated request that needs no ORM (a
    phone's batch of fixes) never opens the session, and one that does has it take that
    connection over. ``touch=False`` leaves the last use alone: a page polling by itself is not the
    officer at work, and must not keep an unattended session from its idle lock.
    """
    connection = request_connection(session)
    row = connection.execute(_TOKEN, {"token_hash": hash_token(raw_token)}).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The token is not valid; log in again.", code="token_invalid")
    idle_limit = timedelta(minutes=settings.OFFICER_IDLE_TIMEOUT_MINUTES)
    if now >= row.expires_at or (row.officer_id and now - row.last_used_at > idle_limit):
        raise Unauthorized("The session has expired; log in again.", code="token_expired")
    if touch and now - row.last_used_at >= timedelta(seconds=settings.TOKEN_TOUCH_INTERVAL_SECONDS):
        connection.execute(sa.update(AuthToken).where(AuthToken.id == row.id).values(last_used_at=now))
    if row.officer_id:
        if not row.officer_active:
            raise Unauthorized("The account is disabled.", code="token_invalid")
        return (Principal("officer", row.officer_id, row.officer_bureau_id, row.officer_office_id, row.role,
                          row.id, row.username),
                Caller(row.officer_password_change_required, row.totp_enrolment_required))
    if row.status != "active":
        raise Unauthorized("Supervision has ended for this account.", code="token_invalid")
    return (Principal("supervisee", row.supervisee_id, row.bureau_id, row.office_id, None, row.id, row.phone[-4:],
                      row.device_id),
            Caller(row.password_change_required, False))


# Every authenticated request runs this (composed once: a Core statement's compiled form is cached by it).
_TOKEN = (sa.select(AuthToken.id, AuthToken.officer_id, AuthToken.supervisee_id, AuthToken.device_id,
                    AuthToken.expires_at, AuthToken.last_used_at, AuthToken.revoked_at,
                    Supervisee.office_id, Supervisee.status, Supervisee.phone, Supervisee.password_change_required,
                    Office.bureau_id,
                    Officer.bureau_id.label("officer_bureau_id"), Officer.office_id.label("officer_office_id"),
                    Officer.role, Officer.username, Officer.active.label("officer_active"),
                    Officer.password_change_required.label("officer_password_change_required"),
                    Officer.totp_enrolment_required.label("totp_enrolment_required"))
          .outerjoin(Supervisee, Supervisee.id == AuthToken.supervisee_id)
          .outerjoin(Office, Office.id == Supervisee.office_id)
          .outerjoin(Officer, Officer.id == AuthToken.officer_id)
          .where(AuthToken.token_hash == sa.bindparam("token_hash")))


def revoke_token(session, token_id: int, now: datetime) -> None:
    """End a login session (logout)."""
    session.execute(sa.update(AuthToken).where(AuthToken.id == token_id, AuthToken.revoked_at.is_(None))
                    .values(revoked_at=now))


def logout(session, principal: Principal, now: datetime) -> None:
    """End this login; on a supervisee's phone, end that phone's ingest key and push id too.

    Traccar or OwnTracks on a phone report as its owner: once they log out there, nothing on
    that phone may keep doing so until they log in and issue a key again.
    """
    revoke_token(session, principal.token_id, now)
    if not principal.is_officer and principal.device_id is not None:
        end_ingest_keys(session, Device.id == principal.device_id)
        # Pushes stop too: whoever uses the phone next must not see this person's notices.
        session.execute(sa.update(Device).where(Device.id == principal.device_id).values(push_token=None))


def reset_device(session, principal: Principal, supervisee_id: int, now: datetime) -> Supervisee:
    """Unbind the supervisee's phone, so that the next login binds a new one."""
    person = get_supervisee(session, principal, supervisee_id)
    end_ingest_keys(session, Device.supervisee_id == person.id)
    session.execute(sa.update(Device).where(Device.supervisee_id == person.id, Device.active)
                    .values(active=False, unbound_at=now, push_token=None))
    # The old phone's logins end with its binding: it can no longer act as the supervisee.
    session.execute(sa.update(AuthToken).where(AuthToken.supervisee_id == person.id, AuthToken.revoked_at.is_(None))
                    .values(revoked_at=now))
    person.updated_at = now
    session.flush()
    session.refresh(person)
    return person


def _second_factor_ok(session, settings, officer: Officer, totp: str | None, now: datetime) -> bool:
    """Accept the TOTP of an enrolled officer; one still to enrol has no second factor yet."""
    if officer.totp_enrolment_required:
        return True
    return totp is not None and accept_totp(session, settings, officer, totp, now)


def totp_for(secret: str, settings) -> pyotp.TOTP:
    """Return the TOTP generator of an officer's secret."""
    return pyotp.TOTP(secret, issuer=settings.TOTP_ISSUER)


def accept_totp(session, settings, officer: Officer, code: str, now: datetime) -> bool:
    """Accept a code of the current step (± the window) once: a replayed code fails."""
    totp = totp_for(officer.totp_secret, settings)
    current = totp.timecode(now)
    for step in range(current - settings.TOTP_VALID_WINDOW, current + settings.TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            claimed = session.execute(
                sa.update(Officer)
                .where(Officer.id == officer.id,
                       sa.or_(Officer.totp_last_step.is_(None), Officer.totp_last_step < step))
                .values(totp_last_step=step)
            ).rowcount
            return claimed == 1
    return False


def _report_device_change(person: Supervisee, device: Device, attempted: str, settings, now: datetime):
    """Return the write that tells the officer someone tried another phone."""
    person_id, office_id, bound_id = person.id, person.office_id, device.id

    def write(session) -> None:
        publish(session, settings, Breach(
            supervisee_id=person_id, office_id=office_id, type="device_changed", subject_key=f"device:{bound_id}",
            at=now, evidence={"attempted_device": attempted[:64], "bound_device_id": bound_id,
                              "first_attempt_at": now.isoformat()}))

    return write


def _bureau_of_office(session, office_id: int) -> int:
    return session.execute(sa.select(Office.bureau_id).where(Office.id == office_id)).scalar_one()
