"""The ingest keys of real location apps (Traccar/OsmAnd device id, OwnTracks password).

A key belongs to the bound phone. It works for ``INGEST_KEY_TTL_DAYS`` after issue and ends
earlier on a new key, a logout on that phone, a device reset or an officer's revocation.
Its holder and the officers see when it was issued, when it expires and when it was last used.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..errors import NotFound
from ..people.access import Principal
from ..people.models import Device, Supervisee
from ..people.service import end_ingest_keys
from ..security import hash_token, new_token


def issue(session, principal: Principal, now: datetime) -> str:
    """Give the bound phone a new ingest key (the old one stops working); return it once."""
    # the login's phone is the bound one: unbinding a phone revokes its logins (Principal.device_id)
    device = session.get(Device, principal.device_id) if principal.device_id is not None else None
    if device is None or not device.active:
        raise NotFound("No bound phone for this login.", code="device_not_bound")
    key, key_hash = new_token()
    device.ingest_key_hash, device.ingest_key_issued_at = key_hash, now
    return key


def person_for_key(session, settings, key: str, now: datetime) -> Supervisee | None:
    """Return the active supervisee whose bound phone holds ``key``, unexpired; note its use."""
    if not key or len(key) > 200:
        return None
    issued_after = now - timedelta(days=settings.INGEST_KEY_TTL_DAYS)
    found = session.execute(_BY_KEY, {"key_hash": hash_token(key), "issued_after": issued_after}).one_or_none()
    if found is None:
        return None
    person, device_id, last_used_at = found
    if last_used_at is None or now - last_used_at >= timedelta(seconds=settings.TOKEN_TOUCH_INTERVAL_SECONDS):
        session.execute(sa.update(Device).where(Device.id == device_id).values(ingest_key_last_used_at=now))
    return person


# Every OsmAnd and OwnTracks request runs this: composed once (see database.prebuilt).
_BY_KEY = (sa.select(Supervisee, Device.id, Device.ingest_key_last_used_at)
           .join(Device, Device.supervisee_id == Supervisee.id)
           .where(Device.ingest_key_hash == sa.bindparam("key_hash"), Device.active,
                  Device.ingest_key_issued_at > sa.bindparam("issued_after"), Supervisee.status == "active"))


def status(session, settings, supervisee_id: int, now: datetime) -> dict:
    """The key of the supervisee's bound phone: whether it works, issued, expires, last used."""
    device = session.execute(sa.select(Device).where(Device.supervisee_id == supervisee_id, Device.active)
                             ).scalar_one_or_none()
    issued_at = device.ingest_key_issued_at if device and device.ingest_key_hash else None
    expires_at = issued_at + timedelta(days=settings.INGEST_KEY_TTL_DAYS) if issued_at else None
    return {"active": expires_at is not None and now < expires_at, "issued_at": issued_at,
            "expires_at": expires_at, "last_used_at": device.ingest_key_last_used_at if device else None}


def revoke(session, person: Supervisee) -> bool:
    """End the key of the supervisee's bound phone (an officer's act); say whether there was one."""
    return end_ingest_keys(session, Device.supervisee_id == person.id, Device.active) > 0
