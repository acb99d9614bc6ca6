"""Officers of the bureau: create, change role and office, (de)activate, reset password or TOTP, list.

Passwords an admin chooses must be changed at the next login; a reset TOTP must be enrolled
again. Neither a password hash nor a TOTP secret ever goes into an answer or an audit entry.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher

from ..auth.enrolment import new_totp_secret
from ..auth.models import AuthToken
from ..errors import Conflict, NotFound, ValidationFailed
from ..passwords import password_refusal
from ..people.access import Principal
from ..people.models import Bureau, Officer, Supervisee
from .changes import Change, difference, snapshot
from .offices import open_office_for

FIELDS = ("username", "name", "role", "office_id", "active", "password_change_required", "totp_enrolment_required")


def search_officers(principal: Principal, filters: dict[str, Any]) -> sa.Select:
    """Return the query of the bureau's officers matching ``filters`` (role, office, active)."""
    stmt = sa.select(Officer).where(Officer.bureau_id == principal.bureau_id)
    for name in ("role", "office_id", "active"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Officer, name) == filters[name])
    return stmt


def get_officer(session, principal: Principal, officer_id: int) -> Officer:
    """Return an officer of the caller's bureau; 404 otherwise."""
    officer = session.execute(sa.select(Officer).where(
        Officer.id == officer_id, Officer.bureau_id == principal.bureau_id)).scalar_one_or_none()
    if officer is None:
        raise NotFound("No such officer.", code="officer_not_found")
    return officer


def create_officer(session, settings, hasher: PasswordHasher, principal: Principal, data: dict[str, Any],
                   now: datetime) -> Change:
    """Create an officer with a password the admin chose and a TOTP secret still to enrol."""
    role, office_id = data["role"], data.get("office_id")
    if role == "officer" and office_id is None:
        raise _field_error("office_id", "required", "An officer of role officer belongs to an office.")
    if office_id is not None:
        open_office_for(session, principal, office_id)
    if session.execute(sa.select(Officer.id).where(Officer.username == data["username"])).first():
        raise Conflict("This username is taken.", code="username_taken")
    _check_password(settings, data["initial_password"], data["username"], "initial_password")
    officer = Officer(bureau_id=principal.bureau_id, office_id=office_id, username=data["username"],
                      name=data["name"], role=role, password_hash=hasher.hash(data["initial_password"]),
                      password_change_required=True, totp_secret=new_totp_secret(), totp_enrolled_at=None,
                      failed_logins=0, active=True, created_at=now)
    session.add(officer)
    session.flush()
    return Change(officer, difference({}, snapshot(officer, FIELDS)))


def update_officer(session, principal: Principal, officer_id: int, changes: dict[str, Any]) -> Change:
    """Change an officer's name, role or office.

    The change holds from their next request. An officer with supervisees in their care keeps
    their office until those are given to another officer; the bureau keeps an active admin.
    """
    officer = get_officer(session, principal, officer_id)
    before = snapshot(officer, FIELDS)
    role = changes.get("role", officer.role)
    office_id = changes["office_id"] if "office_id" in changes else officer.office_id
    if role == "officer" and office_id is None:
        raise _field_error("office_id", "required", "An officer of role officer belongs to an office.")
    if office_id != officer.office_id:
        if office_id is not None:
            open_office_for(session, principal, office_id)
        in_care = session.execute(sa.select(sa.func.count()).select_from(Supervisee).where(
            Supervisee.officer_id == officer.id, Supervisee.status == "active")).scalar_one()
        if in_care:
            raise Conflict(f"The officer is responsible for {in_care} active supervisee(s); give them to "
                           "another officer of the office first.", code="officer_has_supervisees",
                           details={"active_supervisees": in_care})
    if officer.role == "admin" and role != "admin":
        _keep_an_admin(session, officer)
    officer.name = changes.get("name", officer.name)
    officer.role, officer.office_id = role, office_id
    session.flush()
    return Change(officer, difference(before, snapshot(officer, FIELDS)))


def deactivate_officer(session, principal: Principal, officer_id: int, now: datetime) -> Change:
    """Deactivate an officer and end all their sessions at once; deactivating again changes nothing."""
    officer = get_officer(session, principal, officer_id)
    before = snapshot(officer, FIELDS)
    if officer.active and officer.role == "admin":
        _keep_an_admin(session, officer)
    officer.active = False
    ended = end_sessions(session, officer.id, now)
    session.flush()
    return Change(officer, difference(before, snapshot(officer, FIELDS), sessions_ended=ended))


def reactivate_officer(session, principal: Principal, officer_id: int) -> Change:
    """Let a deactivated officer log in again (into an open office)."""
    officer = get_officer(session, principal, officer_id)
    before = snapshot(officer, FIELDS)
    if not officer.active and officer.office_id is not None:
        open_office_for(session, principal, officer.office_id)
    officer.active = True
    session.flush()
    return Change(officer, difference(before, snapshot(officer, FIELDS)))


def reset_password(session, settings, hasher: PasswordHasher, principal: Principal, officer_id: int,
                   temporary_password: str, now: datetime) -> Change:
    """Set a temporary password that must be changed at the next login; the officer's sessions end."""
    officer = get_officer(session, principal, officer_id)
    _check_password(settings, temporary_password, officer.username, "temporary_password")
    before = snapshot(officer, FIELDS)
    officer.password_hash = hasher.hash(temporary_password)
    officer.password_change_required = True
    ended = end_sessions(session, officer.id, now)
    session.flush()
    return Change(officer, difference(before, snapshot(officer, FIELDS), password_reset=True, sessions_ended=ended))


def reset_totp(session, principal: Principal, officer_id: int, now: datetime) -> Change:
    """Replace the officer's TOTP secret with one to enrol at their next login; their sessions end."""
    officer = get_officer(session, principal, officer_id)
    before = snapshot(officer, FIELDS)
    officer.totp_secret = new_totp_secret()
    officer.totp_enrolled_at = None
    officer.totp_last_step = None
    ended = end_sessions(session, officer.id, now)
    session.flush()
    return Change(officer, difference(before, snapshot(officer, FIELDS), totp_reset=True, sessions_ended=ended))


def end_sessions(session, officer_id: int, now: datetime) -> int:
    """Revoke every live token of the officer; return how many."""
    return session.execute(sa.update(AuthToken).where(AuthToken.officer_id == officer_id,
                                                      AuthToken.revoked_at.is_(None))
                           .values(revoked_at=now)).rowcount


def _keep_an_admin(session, officer: Officer) -> None:
    """Refuse to take the bureau's last active admin away (demotion or deactivation).

    The bureau row is locked first, so two admins demoting each other at once are judged one
    after the other.
    """
    session.execute(sa.select(Bureau.id).where(Bureau.id == officer.bureau_id).with_for_update())
    others = session.execute(sa.select(sa.func.count()).select_from(Officer).where(
        Officer.bureau_id == officer.bureau_id, Officer.role == "admin", Officer.active,
        Officer.id != officer.id)).scalar_one()
    if not others:
        raise Conflict("This is the bureau's last active admin; make another admin first.", code="last_admin")


def _check_password(settings, password: str, username: str, field: str) -> None:
    refusal = password_refusal(settings, password, (username,))
    if refusal is not None:
        raise _field_error(field, *refusal)


def _field_error(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": [{"path": path, "code": code, "message": message}]})
