"""Enrolling, finding and changing supervisees, always within the caller's scope."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher

from .access import Principal, get_in_scope, office_scope
from ..errors import Conflict, NotFound, ValidationFailed
from ..passwords import password_refusal, phone_forms
from ..security import hash_national_id
from .models import Device, Office, Officer, Supervisee


def visible_supervisees(principal: Principal) -> sa.Select:
    """Return the query of supervisees the caller may see."""
    return sa.select(Supervisee).where(office_scope(principal, Supervisee.office_id))


def get_supervisee(session, principal: Principal, supervisee_id: int) -> Supervisee:
    """Return a supervisee in the caller's scope; 404 otherwise, as for a missing one."""
    return get_in_scope(session, principal, Supervisee, supervisee_id,
                        not_found=NotFound("No such supervisee.", code="supervisee_not_found"))


def search_supervisees(principal: Principal, filters: dict[str, Any]) -> sa.Select:
    """Return the query for the caller's supervisees matching ``filters``."""
    stmt = visible_supervisees(principal)
    for name in ("level", "status", "sentence_type", "officer_id", "office_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Supervisee, name) == filters[name])
    if filters.get("q"):
        stmt = stmt.where(_contains(Supervisee.name, filters["q"]))
    if filters.get("match"):
        stmt = stmt.where(matching(filters["match"]))
    return stmt


_LAST_FOUR = re.compile(r"[0-9]{3}[0-9X]")
_PHONE_PART = re.compile(r"\+?[0-9]{5,20}")


def matching(text: str) -> sa.ColumnElement[bool]:
    """The supervisees an officer's one search box finds: part of the name, of the phone, or the ID's last four.

    Typed as a Chinese input method types it (full-width digits and Ｘ are read as ASCII). Four
    characters that can end an ID number match ``national_id_last4``, five or more digits a part
    of the phone; the name is always searched. The whole ID number is looked up by its hash
    (``find_by_national_id``), never searched here.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    found = [_contains(Supervisee.name, text)]
    if _LAST_FOUR.fullmatch(text.upper()):
        found.append(Supervisee.national_id_last4 == text.upper())
    if _PHONE_PART.fullmatch(text):
        found.append(_contains(Supervisee.phone, text))
    return sa.or_(*found)


def _contains(column, text: str) -> sa.ColumnElement[bool]:
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return column.like(pattern, escape="\\")


def find_by_national_id(session, settings, principal: Principal, national_id: str) -> Supervisee:
    """Return the supervisee with this ID number, if the caller may see them."""
    person = session.execute(
        visible_supervisees(principal).where(
            Supervisee.national_id_hash == hash_national_id(settings.SECRET_KEY, national_id))
    ).scalar_one_or_none()
    if person is None:
        raise NotFound("No such supervisee.", code="supervisee_not_found")
    return person


def enrol_supervisee(session, settings, hasher: PasswordHasher, principal: Principal,
                     data: dict[str, Any], now: datetime) -> Supervisee:
    """Create a supervisee in the caller's office (supervisors: an office of their bureau)."""
    office_id = office_for_write(session, principal, data.pop("office_id", None))
    officer_id = data.pop("officer_id", None) or (principal.id if principal.role == "officer" else None)
    if officer_id is None:
        raise _field_error("officer_id", "required", "Name the responsible officer.")
    _check_responsible_officer(session, office_id, officer_id)
    national_id = data.pop("national_id")
    id_hash = hash_national_id(settings.SECRET_KEY, national_id)
    if session.execute(sa.select(Supervisee.id).where(Supervisee.national_id_hash == id_hash)).first():
        raise Conflict("A supervisee with this ID number is already enrolled.",
                       code="duplicate_national_id")
    _check_phone_free(session, data["phone"])
    refusal = password_refusal(settings, data["initial_password"], phone_forms(data["phone"]))
    if refusal is not None:
        raise _field_error("initial_password", *refusal)
    person = Supervisee(office_id=office_id, officer_id=officer_id, national_id_hash=id_hash,
                        national_id_last4=national_id[-4:],
                        password_hash=hasher.hash(data.pop("initial_password")),
                        status="active", password_change_required=True,  # the officer chose it
                        created_at=now, updated_at=now, **data)
    session.add(person)
    session.flush()
    return person


def update_supervisee(session, principal: Principal, supervisee_id: int, changes: dict[str, Any],
                      now: datetime) -> Supervisee:
    """Apply ``changes`` to a supervisee in scope."""
    person = get_supervisee(session, principal, supervisee_id)
    if "officer_id" in changes:
        _check_responsible_officer(session, person.office_id, changes["officer_id"])
    if "phone" in changes and changes["phone"] != person.phone:
        _check_phone_free(session, changes["phone"])
    if changes.get("supervision_end") is not None and changes["supervision_end"] < person.supervision_start:
        raise _field_error("supervision_end", "before_start",
                           "supervision_end must not be before supervision_start")
    for name, value in changes.items():
        setattr(person, name, value)
    if changes:
        person.updated_at = now
    session.flush()
    session.refresh(person)
    return person


def office_for_write(session, principal: Principal, office_id: int | None) -> int:
    """Return the office a write goes to: an officer's own, or one a supervisor names in their bureau.

    A closed office takes no new supervisees (409). Its row is share-locked, so an office being
    closed meanwhile is seen closed, or its closing waits and then counts the new supervisee.
    """
    if principal.role == "officer":
        if office_id not in (None, principal.office_id):
            raise _field_error("office_id", "out_of_scope", "Officers enrol into their own office.")
        office_id = principal.office_id
    elif office_id is None:
        raise _field_error("office_id", "required", "Name the office to enrol into.")
    closed_at = session.execute(sa.select(Office.closed_at).where(
        Office.id == office_id, Office.bureau_id == principal.bureau_id).with_for_update(read=True)).first()
    if closed_at is None:
        raise _field_error("office_id", "unknown", "No such office in your bureau.")
    if closed_at[0] is not None:
        raise Conflict("The office is closed and takes no new supervisees.", code="office_closed")
    return office_id


def _check_responsible_officer(session, office_id: int, officer_id: int) -> None:
    found = session.execute(sa.select(Officer.id).where(
        Officer.id == officer_id, Officer.office_id == office_id, Officer.active)).scalar_one_or_none()
    if found is None:
        raise _field_error("officer_id", "unknown", "No such active officer in the supervisee's office.")


def _check_phone_free(session, phone: str) -> None:
    if session.execute(sa.select(Supervisee.id).where(Supervisee.phone == phone)).first():
        raise Conflict("This phone number is already in use.", code="phone_taken")


def _field_error(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": [{"path": path, "code": code, "message": message}]})


def end_ingest_keys(session, *where) -> int:
    """End the ingest keys of the phones matching ``where``; their last use stays on record."""
    return session.execute(sa.update(Device).where(Device.ingest_key_hash.is_not(None), *where)
                           .values(ingest_key_hash=None, ingest_key_issued_at=None)).rowcount
