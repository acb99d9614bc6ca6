"""Station screens (报到点展示屏): a read-only credential per screen that shows one station's code.

An officer of the station's office issues a display and gets a pairing secret once; the screen
trades it (once) for a secret of its own, kept in an HttpOnly cookie. Only SHA-256 hashes are
stored. The screen's secret reaches that station's current codes and nothing else; a revoked
display, or a retired station, is told so at the next refresh.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..errors import DomainError, NotFound
from ..people.access import Principal, office_scope
from ..people.models import Office, Officer, Station
from ..security import hash_token, new_token
from . import qr
from .models import StationDisplay
from .service import station_for_officer

SECRET_MAX_LENGTH = 100  # ours are 43 characters; anything longer is not worth hashing


class DisplayRefused(DomainError):
    """The screen's credential shows nothing: none or unknown, revoked, or its station retired."""

    status, code = 401, "display_unpaired"


@dataclass(frozen=True)
class ScreenCode:
    """One step's code as the screen shows it."""

    token: str
    starts_at: datetime
    expires_at: datetime


def stations_in_scope(session, principal: Principal) -> list[tuple[Station, str]]:
    """The active stations the caller's offices own, with their office's name, by office and name."""
    return [tuple(row) for row in session.execute(
        sa.select(Station, Office.name).join(Office, Office.id == Station.office_id)
        .where(office_scope(principal, Station.office_id), Station.active)
        .order_by(Office.name, Station.name, Station.id))]


def displays_of(session, station_ids) -> list[tuple[StationDisplay, str]]:
    """The displays of ``station_ids`` with who issued each, newest first (revoked ones too)."""
    if not station_ids:
        return []
    return [tuple(row) for row in session.execute(
        sa.select(StationDisplay, Officer.name).join(Officer, Officer.id == StationDisplay.issued_by)
        .where(StationDisplay.station_id.in_(station_ids)).order_by(StationDisplay.id.desc()))]


def issue(session, principal: Principal, station_id: int, label: str, now: datetime) -> tuple[StationDisplay, str]:
    """Issue a display for a station in scope; return it and its pairing secret (never stored)."""
    station = station_for_officer(session, principal, station_id)
    secret, secret_hash = new_token()
    display = StationDisplay(station_id=station.id, label=label, secret_hash=secret_hash, issued_by=principal.id,
                             issued_at=now)
    session.add(display)
    session.flush()
    return display, secret


def revoke(session, principal: Principal, display_id: int, now: datetime) -> StationDisplay:
    """Revoke a display of a station in scope (a second revocation changes nothing)."""
    display = session.execute(
        sa.select(StationDisplay).join(Station, Station.id == StationDisplay.station_id)
        .where(StationDisplay.id == display_id, office_scope(principal, Station.office_id))).scalar_one_or_none()
    if display is None:
        raise NotFound("No such display.", code="display_not_found")
    session.execute(sa.update(StationDisplay).where(StationDisplay.id == display.id, StationDisplay.revoked_at.is_(None))
                    .values(revoked_at=now, revoked_by=principal.id))
    session.refresh(display)
    return display


def pair(session, pairing_secret: str, now: datetime) -> tuple[StationDisplay, int, str]:
    """Trade a display's pairing secret, once, for the screen's own secret; return the display, its bureau, the secret.

    The update is conditional, so two tablets opening the same link pair one of them only.
    """
    display = _by_secret(session, pairing_secret)
    if display is None or display.paired_at is not None:
        raise DisplayRefused("This pairing link is not valid or was used already.", code="display_pairing_invalid")
    station = _check_usable(session, display)
    secret, secret_hash = new_token()
    paired = session.execute(sa.update(StationDisplay).where(
        StationDisplay.id == display.id, StationDisplay.paired_at.is_(None), StationDisplay.revoked_at.is_(None))
        .values(secret_hash=secret_hash, paired_at=now, last_used_at=now)).rowcount
    if paired != 1:
        raise DisplayRefused("This pairing link is not valid or was used already.", code="display_pairing_invalid")
    session.refresh(display)
    bureau_id = session.execute(sa.select(Office.bureau_id).where(Office.id == station.office_id)).scalar_one()
    return display, bureau_id, secret


def screen(session, settings, secret: str, now: datetime) -> tuple[Station, list[ScreenCode]]:
    """The station a paired screen shows, with this step's code and the next one's.

    The next step's code is already accepted (``qr.verify`` allows one step of skew), so the
    screen may hold it and show it the moment its step begins.
    """
    display = _by_secret(session, secret)
    if display is None or display.paired_at is None:
        raise DisplayRefused("This screen is not paired.")
    station = _check_usable(session, display)
    if display.last_used_at is None or now - display.last_used_at >= timedelta(
            seconds=settings.TOKEN_TOUCH_INTERVAL_SECONDS):
        session.execute(sa.update(StationDisplay).where(StationDisplay.id == display.id).values(last_used_at=now))
    step = settings.QR_STEP_SECONDS
    codes = []
    for at in (now, now + timedelta(seconds=step)):
        token, expires_at = qr.station_token(station.qr_secret, station.id, at, step)
        codes.append(ScreenCode(token, expires_at - timedelta(seconds=step), expires_at))
    return station, codes


def _by_secret(session, secret: str) -> StationDisplay | None:
    if not secret or len(secret) > SECRET_MAX_LENGTH:
        return None
    return session.execute(sa.select(StationDisplay).where(StationDisplay.secret_hash == hash_token(secret))
                           ).scalar_one_or_none()


def _check_usable(session, display: StationDisplay) -> Station:
    if display.revoked_at is not None:
        raise DisplayRefused("This display was revoked.", code="display_revoked", status=403)
    station = session.get(Station, display.station_id)
    if not station.active:
        raise DisplayRefused("This station is retired.", code="station_retired", status=403)
    return station
